// One function per kind, each defined in its own file; registry.cc lists them.
#pragma once

#include "api/kind.h"

namespace lintel::api {

KindInfo HostKind();
KindInfo VirtualMachineKind();
KindInfo VirtualMachineMigrationKind();
KindInfo PodKind();
KindInfo DeploymentKind();
KindInfo ServiceKind();
KindInfo NamespaceKind();
KindInfo ResourceQuotaKind();
KindInfo RoleKind();
KindInfo RoleBindingKind();
KindInfo EventKind();
KindInfo LeaseKind();
KindInfo SecretKind();

// The Pod spec, shared with Deployment templates.
Schema PodSpecSchema();

// Cell helpers shared by kinds' columns.
// "Ready" condition status of an object ("True"/"False"/"Unknown"/"").
std::string ConditionStatus(const Json& obj, std::string_view type);
// Age of a timestamp at a JSON pointer ("<unknown>" if absent).
Json AgeCell(const Json& obj, const std::string& pointer,
             std::chrono::system_clock::time_point now);

}  // namespace lintel::api
