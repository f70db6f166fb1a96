#include <iostream>

#include "cli/commands.h"

namespace lintel::cli {

int Fail(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return 1;
}

}  // namespace lintel::cli
