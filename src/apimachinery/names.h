// Names, label keys and values, annotations: the syntax checks of
// k8s.io/apimachinery/pkg/util/validation and of metav1/validation.
//
// The Is* functions return kube's error strings (empty when valid), word for word,
// so that messages read the same as from a Kubernetes API server. The Validate*
// functions turn them into causes with kube's field paths and bodies
// ("Invalid value: \"A_b\": a lowercase RFC 1123 label must ...").
//
// Pure functions without state; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace lintel::apimachinery {

inline constexpr size_t kDns1123LabelMaxLength = 63;
inline constexpr size_t kDns1123SubdomainMaxLength = 253;
inline constexpr size_t kQualifiedNameMaxLength = 63;  // the name part, after any prefix
inline constexpr size_t kLabelValueMaxLength = 63;
inline constexpr size_t kTotalAnnotationSizeLimit = 256 * 1024;  // keys plus values, bytes

// '[a-z0-9]([-a-z0-9]*[a-z0-9])?', at most 63 characters. A valid subdomain with
// dots yields "must not contain dots".
std::vector<std::string> IsDns1123Label(std::string_view value);

// Dot-separated RFC 1123 labels, at most 253 characters in all.
std::vector<std::string> IsDns1123Subdomain(std::string_view value);

// A label key, annotation key or finalizer: an optional DNS-subdomain prefix and "/",
// then a name of at most 63 of [A-Za-z0-9._-] starting and ending alphanumeric.
std::vector<std::string> IsQualifiedName(std::string_view value);

// Empty, or at most 63 of [A-Za-z0-9._-] starting and ending alphanumeric.
std::vector<std::string> IsValidLabelValue(std::string_view value);

// Names that become one segment of a URL path: not "." or "..", no "/" or "%".
std::vector<std::string> IsValidPathSegmentName(std::string_view value);

// How a kind constrains metadata.name.
enum class NameFormat : uint8_t {
  kDns1123Subdomain,  // most kinds (Pod, Deployment, ConfigMap, ...)
  kDns1123Label,      // Namespace, Service
  kPathSegment,       // RBAC roles and bindings
};

// metadata.name (or metadata.generateName when `prefix`: a trailing '-' is allowed, as
// kube's ValidateNameFunc(name, prefix=true) masks it). An empty name is
// FieldValueRequired ("name or generateName is required"); each syntax error is one
// FieldValueInvalid cause at `field_path`.
std::vector<Cause> ValidateObjectName(std::string_view name, NameFormat format,
                                      std::string_view field_path = "metadata.name",
                                      bool prefix = false);

// metadata.labels: an object of string values (null means none). Bad keys and bad
// values are FieldValueInvalid at `field_path` itself, as kube reports them; a non-string
// value is FieldValueTypeInvalid at "<field_path>[key]"; a non-object is
// FieldValueTypeInvalid at `field_path`. Causes follow the keys' order.
std::vector<Cause> ValidateLabels(const Json& labels, std::string_view field_path);

// metadata.annotations: keys are qualified names compared case-insensitively; the total
// size of keys and values is at most 256 KiB (one FieldValueTooLong cause); value types as
// for ValidateLabels.
std::vector<Cause> ValidateAnnotations(const Json& annotations, std::string_view field_path);

// Cause builders shaped like kube's field.Error bodies, shared with labels.cc.
// Values longer than 120 characters are shown truncated.
Cause FieldInvalid(std::string_view field, const Json& value, std::string_view detail);
Cause FieldTypeInvalid(std::string_view field, const Json& value, std::string_view want);
Cause FieldRequired(std::string_view field, std::string_view detail);
Cause FieldForbidden(std::string_view field, std::string_view detail);
Cause FieldNotSupported(std::string_view field, const Json& value,
                        const std::vector<std::string_view>& supported);
Cause FieldTooLong(std::string_view field, size_t max_bytes);

// "a.b" from ("a", "b"); just "b" when base is empty.
std::string ChildPath(std::string_view base, std::string_view child);
// "a[3]" and "a[key]".
std::string IndexPath(std::string_view base, size_t index);
std::string KeyPath(std::string_view base, std::string_view key);

}  // namespace lintel::apimachinery
