// LocalClient: client::Client served in-process by Resources and the
// WatchCache, for the controllers that run inside `lintel server`. It applies
// the same validation and admission as HTTP requests.
//
// Threading: thread-safe. Watch callbacks run on a thread per watch.
#pragma once

#include <memory>

#include "client/client.h"
#include "server/resources.h"

namespace lintel::server {

class LocalClient final : public client::Client {
 public:
  explicit LocalClient(Resources* resources, std::string user = "system:lintel-controller")
      : resources_(resources), user_(std::move(user)) {}

  Result<Json> Get(const client::Resource& r, std::string_view ns,
                   std::string_view name) override;
  Result<Json> List(const client::Resource& r, std::string_view ns,
                    const client::ListOptions& opts) override;
  Result<Json> Create(const client::Resource& r, std::string_view ns, const Json& obj,
                      const client::WriteOptions& opts) override;
  Result<Json> Update(const client::Resource& r, std::string_view ns, const Json& obj,
                      const client::WriteOptions& opts, std::string_view subresource) override;
  Result<Json> Patch(const client::Resource& r, std::string_view ns, std::string_view name,
                     client::PatchType type, const Json& patch, const client::WriteOptions& opts,
                     std::string_view subresource) override;
  Result<Json> Delete(const client::Resource& r, std::string_view ns, std::string_view name,
                      const client::DeleteOptions& opts) override;
  Result<std::unique_ptr<client::Watch>> WatchResource(
      const client::Resource& r, std::string_view ns, const client::ListOptions& opts,
      std::function<void(client::WatchEvent&&)> on_event) override;

 private:
  Result<const api::KindInfo*> Kind(const client::Resource& r) const;
  WriteOptions ToWrite(const client::WriteOptions& o) const;

  Resources* resources_;
  std::string user_;
};

}  // namespace lintel::server
