// Small filesystem helpers that return Status instead of throwing. Any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace lintel {

Result<std::string> ReadFile(const std::string& path);
// Writes via a temporary file, fsync and rename, so readers see the old or the
// new content, never a torn one. `mode` applies to the new file.
Status WriteFileAtomic(const std::string& path, std::string_view content, int mode = 0644);
// mkdir -p with the given mode for directories it creates.
Status MakeDirs(const std::string& path, int mode = 0755);
bool FileExists(const std::string& path);

}  // namespace lintel
