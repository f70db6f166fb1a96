// The cgroups of Lintel containers, as seen from the driver: the runtime
// creates and deletes each container's (cgroupsPath ROOT/pods/<uid>/<name>,
// absolute, in every hierarchy of a v1, v2 or hybrid host); the driver reads
// the OOM kill counter before the runtime deletes one, and removes the Pod's
// and the shared parents it created once they are empty.
//
// Thread-safe; blocking (sysfs reads, rmdir).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lintel::drivers::oci {

// Mount points of every cgroup hierarchy (v1 controllers and cgroup2).
std::vector<std::string> CgroupRoots();

// OOM kills recorded for the cgroup at `path` (memory.oom_control's oom_kill
// on v1, memory.events' oom_kill on v2); 0 when unknown.
int64_t OomKills(const std::string& path);

// rmdir of `path` and then of its parents up to (not including) `stop_at`,
// in every hierarchy, stopping at the first that is not empty. Missing
// directories are fine.
void RemoveCgroupTree(const std::string& path, const std::string& stop_at);

}  // namespace lintel::drivers::oci
