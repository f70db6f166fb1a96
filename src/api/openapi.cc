#include "api/openapi.h"

#include <algorithm>

namespace lintel::api {

namespace {

std::string ReverseGroup(const std::string& group) {
  if (group.empty()) return "io.k8s.api.core";
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    size_t dot = group.find('.', pos);
    parts.push_back(group.substr(pos, dot == std::string::npos ? dot : dot - pos));
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  std::reverse(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : ".") + p;
  return out;
}

Json Gvk(const KindInfo& k, const std::string& kind) {
  return {{"group", k.group}, {"version", k.version}, {"kind", kind}};
}

Json Ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }

Json JsonResponse(const std::string& schema, const char* code = "200") {
  return {{code,
           {{"description", "OK"},
            {"content", {{"application/json", {{"schema", Ref(schema)}}},
                         {"application/yaml", {{"schema", Ref(schema)}}}}}}}};
}

Json QueryParam(const char* name, const char* description, const char* type = "string") {
  return {{"name", name},
          {"in", "query"},
          {"description", description},
          {"schema", {{"type", type}, {"uniqueItems", true}}}};
}

Json WriteParams() {
  return Json::array({
      QueryParam("dryRun", "When present (All), run every check but persist nothing."),
      QueryParam("fieldManager", "Name of the actor making the change."),
      QueryParam("fieldValidation",
                 "Ignore, Warn (the default) or Strict: what to do with unknown or duplicate "
                 "fields."),
  });
}

Json ListParams() {
  return Json::array({
      QueryParam("labelSelector", "Select objects by their labels."),
      QueryParam("fieldSelector", "Select objects by fields (metadata.name, status.phase, ...)."),
      QueryParam("limit", "Page size.", "integer"),
      QueryParam("continue", "The token from the previous page."),
      QueryParam("resourceVersion", "Read at or after this version; with watch, start after it."),
      QueryParam("watch", "Stream changes instead of listing.", "boolean"),
      QueryParam("allowWatchBookmarks", "Send BOOKMARK events.", "boolean"),
      QueryParam("timeoutSeconds", "End the list or watch after this long.", "integer"),
  });
}

Json Operation(const KindInfo& k, const std::string& action, const std::string& op_id,
               const std::string& kind_for_gvk, Json responses, Json params = Json::array()) {
  Json op = {{"operationId", op_id},
             {"tags", Json::array({k.group + "_" + k.version})},
             {"x-kubernetes-action", action},
             {"x-kubernetes-group-version-kind", Gvk(k, kind_for_gvk)},
             {"responses", std::move(responses)}};
  if (!params.empty()) op["parameters"] = std::move(params);
  return op;
}

Json PathParam(const char* name, const char* description) {
  return {{"name", name},
          {"in", "path"},
          {"required", true},
          {"description", description},
          {"schema", {{"type", "string"}, {"uniqueItems", true}}}};
}

Json PatchBody(const std::string& schema) {
  Json obj = {{"schema", {{"type", "object"}}}};
  return {{"content",
           {{"application/json-patch+json", obj},
            {"application/merge-patch+json", obj},
            {"application/apply-patch+yaml", obj}}},
          {"required", true}};
}

Json Body(const std::string& schema) {
  return {{"content", {{"application/json", {{"schema", Ref(schema)}}}}}, {"required", true}};
}

}  // namespace

std::string SchemaComponentName(const KindInfo& kind) {
  return ReverseGroup(kind.group) + "." + kind.version + "." + kind.kind;
}

Json OpenApiV3Document(const Registry& registry, const std::string& group,
                       const std::string& version) {
  Json paths = Json::object();
  Json schemas = Json::object();
  for (const auto& k : registry.kinds()) {
    if (k.group != group || k.version != version) continue;
    const std::string schema_name = SchemaComponentName(k);
    const std::string list_name = schema_name + "List";
    Json obj_schema = k.schema.ToOpenApi();
    if (!k.description.empty()) obj_schema["description"] = k.description;
    obj_schema["x-kubernetes-group-version-kind"] = Json::array({Gvk(k, k.kind)});
    schemas[schema_name] = std::move(obj_schema);
    schemas[list_name] = {
        {"type", "object"},
        {"description", k.kind + "List is a list of " + k.kind + "."},
        {"required", Json::array({"items"})},
        {"properties",
         {{"apiVersion", {{"type", "string"}}},
          {"kind", {{"type", "string"}}},
          {"metadata", {{"type", "object"}}},
          {"items", {{"type", "array"}, {"items", Ref(schema_name)}}}}},
        {"x-kubernetes-group-version-kind", Json::array({Gvk(k, k.list_kind())})}};

    const std::string base = "/apis/" + k.group + "/" + k.version;
    const std::string coll =
        k.namespaced ? base + "/namespaces/{namespace}/" + k.plural : base + "/" + k.plural;
    const std::string item = coll + "/{name}";
    const std::string op_kind = k.kind;
    Json common_params = Json::array();
    if (k.namespaced) {
      common_params.push_back(PathParam("namespace", "object name and auth scope, such as for "
                                                     "teams and projects"));
    }
    Json item_params = common_params;
    item_params.push_back(PathParam("name", ("name of the " + k.kind).c_str()));

    Json collection = {
        {"get", Operation(k, "list", "list" + op_kind, k.kind, JsonResponse(list_name),
                          ListParams())},
        {"post", Operation(k, "post", "create" + op_kind, k.kind, JsonResponse(schema_name, "201"),
                           WriteParams())},
        {"delete", Operation(k, "deletecollection", "deletecollection" + op_kind, k.kind,
                             {{"200", {{"description", "OK"}}}}, ListParams())},
        {"parameters", common_params}};
    collection["post"]["requestBody"] = Body(schema_name);
    paths[coll] = std::move(collection);

    Json single = {
        {"get", Operation(k, "get", "read" + op_kind, k.kind, JsonResponse(schema_name))},
        {"put", Operation(k, "put", "replace" + op_kind, k.kind, JsonResponse(schema_name),
                          WriteParams())},
        {"patch", Operation(k, "patch", "patch" + op_kind, k.kind, JsonResponse(schema_name),
                            WriteParams())},
        {"delete", Operation(k, "delete", "delete" + op_kind, k.kind, JsonResponse(schema_name),
                             Json::array({QueryParam("dryRun", "Check only."),
                                          QueryParam("propagationPolicy",
                                                     "Orphan, Background or Foreground.")}))},
        {"parameters", item_params}};
    single["put"]["requestBody"] = Body(schema_name);
    single["patch"]["requestBody"] = PatchBody(schema_name);
    single["patch"]["parameters"].push_back(
        QueryParam("force", "Take over conflicting fields (apply only).", "boolean"));
    paths[item] = std::move(single);

    if (k.has_status) {
      Json status = {
          {"get", Operation(k, "get", "read" + op_kind + "Status", k.kind,
                            JsonResponse(schema_name))},
          {"put", Operation(k, "put", "replace" + op_kind + "Status", k.kind,
                            JsonResponse(schema_name), WriteParams())},
          {"patch", Operation(k, "patch", "patch" + op_kind + "Status", k.kind,
                              JsonResponse(schema_name), WriteParams())},
          {"parameters", item_params}};
      status["put"]["requestBody"] = Body(schema_name);
      status["patch"]["requestBody"] = PatchBody(schema_name);
      paths[item + "/status"] = std::move(status);
    }
    if (!k.namespaced) continue;
    paths[base + "/" + k.plural] = {
        {"get", Operation(k, "list", "list" + op_kind + "ForAllNamespaces", k.kind,
                          JsonResponse(list_name), ListParams())}};
  }
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Lintel"}, {"version", version}}},
          {"paths", std::move(paths)},
          {"components", {{"schemas", std::move(schemas)}}}};
}

}  // namespace lintel::api
