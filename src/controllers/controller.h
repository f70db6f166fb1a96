// Controller: a loop that drives objects toward their desired state through
// the API (client::Client), never the store directly, so that it can later
// run on whichever server holds the leader lease.
#pragma once

#include <string>

#include "common/status.h"

namespace lintel::controllers {

class Controller {
 public:
  virtual ~Controller() = default;
  virtual std::string name() const = 0;
  // Starts the controller's threads; returns once it is watching.
  virtual Status Start() = 0;
  // Stops and joins its threads. Idempotent.
  virtual void Stop() = 0;
};

}  // namespace lintel::controllers
