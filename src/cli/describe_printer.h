// The text `describe` prints for one object, as kubectl's generic describer
// renders objects it has no dedicated describer for:
//
//   Name:         db-1
//   Namespace:    default
//   Labels:       app=db
//   Annotations:  <none>
//   API Version:  lintel.dev/v1alpha1
//   Kind:         VirtualMachine
//   Metadata:
//     Creation Timestamp:  2026-01-01T00:00:00Z
//   Spec:
//     Cpu:    1
//   Events:   <none>
//
// Keys are printed in sorted order with Title Case labels ("API Version"),
// lists of objects as their fields one level down, and (unlike kubectl's
// generic describer) any list of conditions as a table. Events come last as
// kubectl's describers print them. Pure functions; any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"

namespace lintel::cli {

// kubectl's smartLabelFor: "apiVersion" -> "API Version", "uid" -> "UID";
// names with characters other than letters and '-' stay as they are.
std::string SmartLabel(std::string_view field);

// The describe text of `obj`. With `show_events`, an Events section from
// `events` (Event objects, any order), or "Events: <none>".
std::string DescribeObject(const Json& obj, const std::vector<Json>& events, bool show_events,
                           std::chrono::system_clock::time_point now);

}  // namespace lintel::cli
