// Discovery: the resource types a server offers, read from its legacy
// discovery documents (GET /api, /api/v1, /apis, /apis/GROUP/VERSION), and the
// rules kubectl uses to turn what a user types into one of them.
//
// Nothing about Lintel's kinds is compiled in: names, short names, kinds,
// scopes, verbs, categories and subresources all come from the server.
// Immutable once built; any thread may read it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/client.h"
#include "client/rest_client.h"
#include "common/json.h"
#include "common/status.h"

namespace lintel::cli {

// One resource type of one group version, as an APIResourceList entry says.
struct ApiResource {
  std::string group;    // "lintel.dev"; "" for the core group
  std::string version;  // "v1alpha1"
  std::string name;     // plural: "virtualmachines"
  std::string singular_name;
  std::string kind;  // "VirtualMachine"
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<std::string> subresources;  // "status", "scale"

  client::Resource ToResource() const { return {group, version, name, namespaced}; }
  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  // "virtualmachines.lintel.dev", as error messages name it.
  std::string GroupResource() const { return group.empty() ? name : name + "." + group; }
  // "virtualmachine.lintel.dev", as `-o name` and write messages name it.
  std::string KindGroup() const;
  bool HasVerb(std::string_view verb) const;
  bool HasSubresource(std::string_view sub) const;
};

class Discovery {
 public:
  Discovery() = default;
  // From APIResourceList documents, in preference order (the first document
  // listing a group is its preferred version). Entries with a '/' in their
  // name become subresources of their parent.
  static Result<Discovery> FromResourceLists(const std::vector<Json>& lists);
  // GET /api (a 404 means no core group), /api/v1, /apis and every group's
  // versions, the preferred version first. Errors from the server as is.
  static Result<Discovery> Fetch(client::RestClient& client);

  // What kubectl accepts as a TYPE: a plural, singular or short name or a
  // kind, case-insensitive, optionally qualified as NAME.GROUP or
  // NAME.VERSION.GROUP. NotFound, with kubectl's message ("the server doesn't
  // have a resource type \"x\""), when nothing matches.
  Result<ApiResource> Resolve(std::string_view type) const;
  // As Resolve, but a category ("all") expands to every resource in it, in
  // discovery order. Categories win over resource names, as in kubectl.
  Result<std::vector<ApiResource>> ResolveWithCategories(std::string_view type) const;
  // By apiVersion and kind, as a manifest names its type. NotFound with
  // kubectl's "no matches for kind \"K\" in version \"G/V\"".
  Result<ApiResource> ForKind(std::string_view api_version, std::string_view kind) const;

  // Top-level resources, preferred versions first, in server order.
  const std::vector<ApiResource>& resources() const { return resources_; }
  // Only the preferred version of each group.
  std::vector<ApiResource> Preferred() const;

 private:
  bool IsPreferred(const ApiResource& r) const;

  std::vector<ApiResource> resources_;
  // (group, version) of each group's preferred version.
  std::vector<std::pair<std::string, std::string>> preferred_;
};

}  // namespace lintel::cli
