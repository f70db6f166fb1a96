// Content digests ("sha256:<64 hex>") and a streaming SHA-256, as the OCI image
// spec uses them to name blobs and layers. Only sha256 is supported (the only
// algorithm registries and runtimes use in practice); other algorithms are
// refused as NotSupported rather than trusted unverified.
//
// Pure values and functions; a Sha256 object belongs to one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lintel::images {

struct Digest {
  std::string hex;  // 64 lower-case hex digits

  // "sha256:<hex>"
  std::string ToString() const { return "sha256:" + hex; }
  // The first 12 hex digits, as `lintel image ls` prints it.
  std::string Short() const { return hex.substr(0, 12); }
  bool empty() const { return hex.empty(); }
  bool operator==(const Digest&) const = default;
  auto operator<=>(const Digest&) const = default;
};

// Parses "sha256:<64 hex>". Invalid when malformed, NotSupported for another
// algorithm ("sha512:...").
Result<Digest> ParseDigest(std::string_view s);

// True for 64 lower-case hex digits.
bool IsSha256Hex(std::string_view s);

// SHA-256 over data fed in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  // The digest of everything fed so far; the object may not be fed again.
  Digest Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

Digest Sha256Of(std::string_view data);

// The digest of a file's content. NotFound if it does not exist.
Result<Digest> Sha256OfFile(const std::string& path);

// Internal unless `actual` equals `expected`: "<what>: digest mismatch:
// expected sha256:..., got sha256:...".
Status CheckDigest(std::string_view what, const Digest& expected, const Digest& actual);

}  // namespace lintel::images
