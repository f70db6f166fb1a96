// Identifiers: object uids and generateName suffixes. Thread-safe.
#pragma once

#include <string>

namespace lintel {

// A random RFC 4122 version-4 UUID, lower-case.
std::string NewUid();
// n characters from Kubernetes' generateName alphabet (no vowels, no 0/1/3).
std::string RandomSuffix(size_t n = 5);
// n random bytes as lower-case hex (tokens, nonces).
std::string RandomHex(size_t n_bytes);

}  // namespace lintel
