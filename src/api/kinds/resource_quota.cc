#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"

namespace lintel::api {

KindInfo ResourceQuotaKind() {
  KindInfo k;
  k.kind = "ResourceQuota";
  k.plural = "resourcequotas";
  k.singular = "resourcequota";
  k.short_names = {"quota"};
  k.description = "Caps on what a namespace may consume: counts (pods, virtualmachines) and "
                  "resources (requests.cpu, requests.memory, limits.memory).";
  Schema spec = Object({
      {"hard", ResourceListSchema().Doc("The caps, e.g. pods: 10, requests.cpu: 4, "
                                        "virtualmachines: 2.")},
  });
  Schema status = Object({
      {"hard", ResourceListSchema()},
      {"used", ResourceListSchema()},
  });
  k.schema = ObjectSchema(spec, status);
  auto summary = [](const char* which) {
    return [p = std::string(which)](const Json& o, auto) -> Json {
      std::string out;
      const Json& hard = At(o, "/spec/hard");
      const Json& used = At(o, "/status/used");
      if (!hard.is_object()) return "";
      for (auto it = hard.begin(); it != hard.end(); ++it) {
        if (!out.empty()) out += ", ";
        std::string u = "0";
        if (used.is_object() && used.contains(it.key())) {
          const Json& v = used[it.key()];
          u = v.is_string() ? v.get<std::string>() : v.dump();
        }
        std::string h = it->is_string() ? it->get<std::string>() : it->dump();
        out += it.key() + ": " + (p == "used" ? u + "/" + h : h);
      }
      return out;
    };
  };
  k.columns = {{"Used", "string", "", "used/hard per resource.", 0, summary("used")}};
  return k;
}

}  // namespace lintel::api
