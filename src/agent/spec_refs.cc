#include "agent/spec_refs.h"

#include "common/base64.h"

namespace lintel::agent {

namespace {

const client::Resource kSecrets{"lintel.dev", "v1alpha1", "secrets", true};

// The value of the first of `keys` the Secret has, decoded.
Result<std::string> SecretValue(client::Client& client, const std::string& ns,
                                const std::string& name, std::initializer_list<const char*> keys,
                                const std::string& field) {
  auto secret = client.Get(kSecrets, ns, name);
  if (!secret.ok()) {
    if (secret.error().code() == Code::kNotFound) {
      return Unavailable(field + ": secret " + ns + "/" + name + " not found");
    }
    return secret.error().Wrap(field + ": secret " + ns + "/" + name);
  }
  const Json& data = secret->value("data", Json::object());
  std::string tried;
  for (const char* key : keys) {
    auto it = data.find(key);
    if (it == data.end() || !it->is_string()) {
      tried += (tried.empty() ? "" : " or ") + std::string(key);
      continue;
    }
    auto value = Base64Decode(it->get<std::string>());
    if (!value.ok()) {
      return Unavailable(field + ": secret " + ns + "/" + name + " key " + key +
                         " is not base64");
    }
    return *value;
  }
  return Unavailable(field + ": secret " + ns + "/" + name + " has no key " + tried);
}

}  // namespace

Result<drivers::WorkloadSpec> ResolveSpecReferences(client::Client& client,
                                                    const drivers::WorkloadSpec& spec) {
  if (spec.kind != drivers::WorkloadKind::kVirtualMachine) return spec;
  auto ci = spec.spec.find("cloudInit");
  if (ci == spec.spec.end() || !ci->is_object()) return spec;
  struct Ref {
    const char* ref;
    const char* into;
    std::initializer_list<const char*> keys;
  };
  const Ref refs[] = {{"userDataSecretRef", "userData", {"userdata", "userData"}},
                      {"networkDataSecretRef", "networkData", {"networkdata", "networkData"}}};
  drivers::WorkloadSpec out = spec;
  for (const auto& r : refs) {
    auto it = ci->find(r.ref);
    if (it == ci->end() || !it->is_object()) continue;
    const std::string name = it->value("name", "");
    if (name.empty()) continue;
    LINTEL_ASSIGN_OR_RETURN(std::string value,
                            SecretValue(client, spec.ns, name, r.keys,
                                        std::string("spec.cloudInit.") + r.ref));
    out.spec["cloudInit"][r.into] = std::move(value);
  }
  return out;
}

}  // namespace lintel::agent
