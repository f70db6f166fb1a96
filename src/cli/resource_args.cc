#include "cli/resource_args.h"

#include "cli/errors.h"
#include "cli/text.h"

namespace lintel::cli {

Result<std::vector<ResourceRequest>> ParseResourceArgs(const Discovery& discovery,
                                                       const std::vector<std::string>& args,
                                                       bool allow_categories) {
  std::vector<ResourceRequest> out;
  if (args.empty()) return CliError("Required resource not specified.");
  bool slash_form = args[0].find('/') != std::string::npos;
  if (slash_form) {
    for (const auto& arg : args) {
      size_t slash = arg.find('/');
      if (slash == std::string::npos) {
        return CliError(
            "there is no need to specify a resource type as a separate argument when passing "
            "arguments in resource/name form (e.g. 'lintel get resource/<resource_name>' "
            "instead of 'lintel get resource resource/<resource_name>'");
      }
      std::string type = arg.substr(0, slash);
      std::string name = arg.substr(slash + 1);
      if (type.empty() || name.empty() || name.find('/') != std::string::npos) {
        return CliError("arguments in resource/name form must have a single resource and name");
      }
      auto r = discovery.Resolve(type);
      if (!r.ok()) return CliError(r.error().message());
      if (!out.empty() && out.back().resource.name == r->name &&
          out.back().resource.group == r->group) {
        out.back().names.push_back(name);
      } else {
        out.push_back({std::move(*r), {name}});
      }
    }
    return out;
  }
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i].find('/') != std::string::npos) {
      return CliError(
          "there is no need to specify a resource type as a separate argument when passing "
          "arguments in resource/name form (e.g. 'lintel get resource/<resource_name>' instead "
          "of 'lintel get resource resource/<resource_name>'");
    }
  }
  std::vector<std::string> names(args.begin() + 1, args.end());
  for (const auto& type : Split(args[0], ',')) {
    if (type.empty()) continue;
    std::vector<ApiResource> resources;
    if (allow_categories) {
      auto rs = discovery.ResolveWithCategories(type);
      if (!rs.ok()) return CliError(rs.error().message());
      resources = std::move(*rs);
    } else {
      auto r = discovery.Resolve(type);
      if (!r.ok()) return CliError(r.error().message());
      resources.push_back(std::move(*r));
    }
    for (auto& r : resources) {
      bool dup = false;
      for (const auto& have : out) {
        dup = dup || (have.resource.name == r.name && have.resource.group == r.group);
      }
      if (!dup) out.push_back({std::move(r), names});
    }
  }
  if (out.empty()) return CliError("Required resource not specified.");
  return out;
}

}  // namespace lintel::cli
