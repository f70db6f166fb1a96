#include "common/ids.h"

#include <array>
#include <cstdint>
#include <random>

namespace lintel {

namespace {
std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng([] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    std::mt19937_64 r(seq);
    return r;
  }());
  return rng;
}
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

std::string NewUid() {
  std::array<uint8_t, 16> b{};
  uint64_t a = Rng()(), c = Rng()();
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<uint8_t>(a >> (i * 8));
    b[8 + i] = static_cast<uint8_t>(c >> (i * 8));
  }
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

std::string RandomSuffix(size_t n) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<size_t> dist(0, sizeof(kAlphabet) - 2);
  std::string out;
  for (size_t i = 0; i < n; ++i) out.push_back(kAlphabet[dist(Rng())]);
  return out;
}

std::string RandomHex(size_t n_bytes) {
  std::random_device rd;  // crypto-grade source on Linux (getrandom)
  std::string out;
  for (size_t i = 0; i < n_bytes; ++i) {
    uint8_t v = static_cast<uint8_t>(rd());
    out.push_back(kHex[v >> 4]);
    out.push_back(kHex[v & 0xf]);
  }
  return out;
}

}  // namespace lintel
