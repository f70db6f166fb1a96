#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"

namespace lintel::api {

KindInfo EventKind() {
  KindInfo k;
  k.kind = "Event";
  k.plural = "events";
  k.singular = "event";
  k.short_names = {"ev"};
  k.has_status = false;
  k.ttl = std::chrono::hours(1);
  k.description = "Something that happened to an object, for people reading history. Events "
                  "expire an hour after they were created.";
  k.schema = ObjectSchema(
      std::nullopt, std::nullopt,
      {
          {"involvedObject", Object({
                                 {"apiVersion", String()},
                                 {"kind", String()},
                                 {"namespace", String()},
                                 {"name", String()},
                                 {"uid", String()},
                                 {"resourceVersion", String()},
                                 {"fieldPath", String()},
                             })
                                 .Required()
                                 .Doc("The object this event is about.")},
          {"reason", String().MaxLength(128).Doc("One CamelCase word: Scheduled, Started, ...")},
          {"message", String().MaxLength(4096)},
          {"type", String().Enum({"Normal", "Warning"}).Default("Normal")},
          {"source", Object({{"component", String()}, {"host", String()}})},
          {"reportingComponent", String()},
          {"reportingInstance", String()},
          {"action", String()},
          {"firstTimestamp", Time()},
          {"lastTimestamp", Time()},
          {"eventTime", String()},
          {"count", Int().Min(0)},
      });
  k.columns = {
      {"Last Seen", "string", "", "Since the last occurrence.", 0,
       [](const Json& o, std::chrono::system_clock::time_point now) -> Json {
         if (At(o, "/lastTimestamp").is_string()) return AgeCell(o, "/lastTimestamp", now);
         return AgeCell(o, "/metadata/creationTimestamp", now);
       }},
      StringColumn("Type", "/type", "Normal or Warning."),
      StringColumn("Reason", "/reason", "Why."),
      {"Object", "string", "", "kind/name.", 0,
       [](const Json& o, auto) -> Json {
         const Json& kind = At(o, "/involvedObject/kind");
         const Json& name = At(o, "/involvedObject/name");
         std::string k = kind.is_string() ? kind.get<std::string>() : "";
         for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
         return k + "/" + (name.is_string() ? name.get<std::string>() : "");
       }},
      StringColumn("Message", "/message", "What happened."),
      IntColumn("Count", "/count", "Occurrences.", 1),
  };
  k.age_column = false;
  k.field_selectors = {{"involvedObject.kind", "/involvedObject/kind"},
                       {"involvedObject.name", "/involvedObject/name"},
                       {"involvedObject.namespace", "/involvedObject/namespace"},
                       {"involvedObject.uid", "/involvedObject/uid"},
                       {"involvedObject.apiVersion", "/involvedObject/apiVersion"},
                       {"involvedObject.resourceVersion", "/involvedObject/resourceVersion"},
                       {"involvedObject.fieldPath", "/involvedObject/fieldPath"},
                       {"reason", "/reason"},
                       {"type", "/type"},
                       {"source", "/source/component"},
                       {"reportingComponent", "/reportingComponent"}};
  return k;
}

}  // namespace lintel::api
