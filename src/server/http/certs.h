// Certificates for the API server's TLS: a self-signed CA, server certificates
// with SANs (kubectl rejects CN-only certificates) and client certificates
// (CN = user, O = groups, as Kubernetes reads them). Keys are EC P-256, made
// with the OpenSSL 3 EVP API; everything crosses this interface as PEM text.
//
// All functions are pure (no global state besides OpenSSL's) and thread-safe.
// Errors come back as Status: BadRequest for bad arguments or undecodable PEM,
// Invalid for a key that does not match its certificate, Internal when
// OpenSSL itself fails.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lintel::http {

// A certificate and its private key, both PEM ("CERTIFICATE", "PRIVATE KEY").
struct CertKeyPair {
  std::string cert_pem;
  std::string key_pem;
};

inline constexpr std::chrono::hours kCaValidity{24 * 365 * 10};
inline constexpr std::chrono::hours kLeafValidity{24 * 365};

// A self-signed CA certificate (basicConstraints CA:TRUE, keyCertSign).
Result<CertKeyPair> GenerateCa(std::string_view common_name,
                               std::chrono::hours validity = kCaValidity);

struct ServerCertOptions {
  std::string common_name;
  std::vector<std::string> dns_names;     // "localhost", "lintel.local"
  std::vector<std::string> ip_addresses;  // "127.0.0.1", "::1"
  std::chrono::hours validity = kLeafValidity;
};

// A server certificate (extendedKeyUsage serverAuth) signed by `ca`. At least
// one DNS name or IP is required; a malformed IP is BadRequest.
Result<CertKeyPair> IssueServerCert(const CertKeyPair& ca, const ServerCertOptions& options);

// A client certificate (extendedKeyUsage clientAuth) with CN = `user` and one
// O entry per group, signed by `ca`.
Result<CertKeyPair> IssueClientCert(const CertKeyPair& ca, std::string_view user,
                                    const std::vector<std::string>& groups,
                                    std::chrono::hours validity = kLeafValidity);

// Checks that both PEMs decode and that the key belongs to the certificate.
Status ValidateCertKeyPair(const CertKeyPair& pair);

// Reads a certificate and key from PEM files and validates them.
Result<CertKeyPair> LoadCertKeyPair(const std::string& cert_path, const std::string& key_path);

// What a certificate says about itself (the first certificate of `cert_pem`).
struct CertInfo {
  std::string common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};
Result<CertInfo> InspectCert(std::string_view cert_pem);

}  // namespace lintel::http
