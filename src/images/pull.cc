// ImageStore::Pull: a registry's manifest (through an index if need be), then
// every missing blob, verified as it is stored, then the layers unpacked.
#include <chrono>

#include "common/json.h"
#include "images/image_store_impl.h"
#include "images/reference.h"
#include "images/registry_client.h"

namespace lintel::images {

namespace {

// The platform's manifest: `fetched` itself, or the one its index names.
Result<FetchedManifest> ResolveIndex(RegistryClient& client, const Reference& ref,
                                     FetchedManifest fetched, const Platform& platform) {
  for (int depth = 0; depth < 2; ++depth) {
    auto doc = ParseJson(fetched.body);
    if (!doc.ok()) return doc.error().Wrap("manifest");
    LINTEL_ASSIGN_OR_RETURN(DocumentKind kind, ClassifyDocument(*doc, fetched.media_type));
    if (kind == DocumentKind::kManifest) return fetched;
    LINTEL_ASSIGN_OR_RETURN(Index index, ParseIndex(fetched.body));
    LINTEL_ASSIGN_OR_RETURN(Descriptor d, SelectPlatform(index, platform));
    LINTEL_ASSIGN_OR_RETURN(fetched, client.GetManifest(ref.repository, d.digest.ToString()));
  }
  return Invalid("manifest: indexes nested too deep");
}

}  // namespace

Result<Image> ImageStore::Impl::Pull(const std::string& ref_text, const PullOptions& options) {
  auto wrap = [&](const Status& s) { return s.Wrap("image pull " + ref_text); };
  auto ref = ParseReference(ref_text);
  if (!ref.ok()) return wrap(ref.error());
  RegistryOptions ro;
  ro.insecure = options.insecure;
  ro.username = options.username;
  ro.password = options.password;
  ro.ca_pem = options.ca_pem;
  ro.request_timeout = options.request_timeout;
  RegistryClient client(ref->registry, ro);
  auto progress = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };

  auto lock = Lock(FileLock::Mode::kShared);
  if (!lock.ok()) return wrap(lock.error());
  auto fetched = client.GetManifest(ref->repository, ref->ManifestRef());
  if (!fetched.ok()) return wrap(fetched.error());
  auto manifest = ResolveIndex(client, *ref, std::move(*fetched), options_.platform);
  if (!manifest.ok()) return wrap(manifest.error());
  if (auto parsed = ParseManifest(manifest->body); !parsed.ok()) return wrap(parsed.error());
  if (auto put = blobs_.Put(manifest->body, manifest->digest); !put.ok()) return wrap(put.error());
  progress("manifest " + manifest->digest.ToString());

  Fetcher fetch = [&](const Descriptor& d) -> Status {
    auto t0 = std::chrono::steady_clock::now();
    LINTEL_ASSIGN_OR_RETURN(auto writer, blobs_.NewWriter());
    LINTEL_RETURN_IF_ERROR(client.GetBlob(
        ref->repository, d.digest, [&](std::string_view data) { return writer->Write(data); }));
    LINTEL_RETURN_IF_ERROR(
        writer->Commit(d.digest, d.size).status().Wrap("blob " + d.digest.ToString()));
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char secs[32];
    std::snprintf(secs, sizeof(secs), "%.2fs", s);
    progress("blob " + d.digest.ToString() + ": " + HumanSize(d.size) + " in " + secs);
    return Status();
  };
  auto image = Materialize(manifest->digest, ref->ToString(), &fetch);
  if (!image.ok()) return wrap(image.error());
  if (Status s = Tag(image->reference, image->digest); !s.ok()) return wrap(s);
  return image;
}

}  // namespace lintel::images
