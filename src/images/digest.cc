#include "images/digest.h"

#include <openssl/evp.h>

#include "images/fs_util.h"

namespace lintel::images {

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<Digest> ParseDigest(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Invalid("digest \"" + std::string(s) + "\": want sha256:<64 hex digits>");
  }
  std::string_view algorithm = s.substr(0, colon);
  if (algorithm != "sha256") {
    return NotSupported("digest \"" + std::string(s) + "\": algorithm " + std::string(algorithm) +
                        " is not supported (only sha256)");
  }
  std::string_view hex = s.substr(colon + 1);
  if (!IsSha256Hex(hex)) {
    return Invalid("digest \"" + std::string(s) + "\": want sha256:<64 hex digits>");
  }
  return Digest{std::string(hex)};
}

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->ctx); }

void Sha256::Update(std::string_view data) {
  EVP_DigestUpdate(state_->ctx, data.data(), data.size());
}

Digest Sha256::Finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(state_->ctx, md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  Digest d;
  d.hex.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    d.hex.push_back(kHex[md[i] >> 4]);
    d.hex.push_back(kHex[md[i] & 15]);
  }
  return d;
}

Digest Sha256Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

Result<Digest> Sha256OfFile(const std::string& path) {
  Sha256 h;
  LINTEL_RETURN_IF_ERROR(ReadChunks(path, [&](std::string_view data) {
    h.Update(data);
    return Status();
  }));
  return h.Finish();
}

Status CheckDigest(std::string_view what, const Digest& expected, const Digest& actual) {
  if (expected == actual) return Status();
  return Internal(std::string(what) + ": digest mismatch: expected " + expected.ToString() +
                  ", got " + actual.ToString());
}

}  // namespace lintel::images
