// Schema pieces shared by several kinds: label selectors, conditions,
// placement (selectors, tolerations, affinity, priority), containers.
#pragma once

#include <vector>

#include "api/schema.h"

namespace lintel::api {

Schema LabelSelectorSchema();
// A condition: type, status (True/False/Unknown), reason, message, times.
Schema ConditionSchema();
Schema ConditionsSchema();  // a list-map keyed by type
Schema TolerationSchema();
Schema TaintSchema();
Schema AffinitySchema();
Schema ResourceListSchema();  // map of resource name -> quantity
Schema ContainerSchema();
Schema ProbeSchema();
Schema PortNumber();  // 1..65535

// Where a workload may run: shared by Pod and VirtualMachine specs.
std::vector<Property> PlacementProperties();

// Validates a metav1.LabelSelector value (via apimachinery) at `path`.
void CheckLabelSelector(const Json& value, const std::string& path, std::vector<Cause>* causes);

}  // namespace lintel::api
