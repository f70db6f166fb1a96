#include "server/http/certs.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

#include "common/fs.h"

namespace lintel::http {

namespace {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

// The OpenSSL error queue as one line (and cleared), for Status messages.
std::string OpenSslErrors() {
  std::string out;
  char buf[256];
  while (unsigned long e = ERR_get_error()) {
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) {
      out += "; ";
    }
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

Status SslError(std::string_view what) {
  return Internal(std::string(what) + ": " + OpenSslErrors());
}

Result<PkeyPtr> NewEcKey() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) {
    return SslError("generate EC P-256 key");
  }
  return key;
}

Result<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return SslError("encode private key");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<std::string> CertToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return SslError("encode certificate");
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<X509Ptr> ParseCert(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) {
    return BadRequest("decode certificate PEM: " + OpenSslErrors());
  }
  return cert;
}

Result<PkeyPtr> ParseKey(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  PkeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) {
    return BadRequest("decode private key PEM: " + OpenSslErrors());
  }
  return key;
}

Status AddName(X509_NAME* name, const char* field, std::string_view value) {
  if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(value.data()),
                                 static_cast<int>(value.size()), -1, 0) != 1) {
    return BadRequest(std::string("subject ") + field + " \"" + std::string(value) +
                      "\": " + OpenSslErrors());
  }
  return Status::Ok();
}

// Adds an extension in OpenSSL's config syntax ("critical,CA:TRUE").
Status AddExt(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return SslError(std::string("add extension ") + OBJ_nid2sn(nid));
  }
  return Status::Ok();
}

// A certificate with serial, validity, subject and public key set; not signed.
Result<X509Ptr> NewCert(EVP_PKEY* key, std::chrono::hours validity) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return SslError("new certificate");
  }
  // A random positive 127-bit serial (Go rejects negative serials).
  BnPtr bn(BN_new());
  if (!bn || BN_rand(bn.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return SslError("certificate serial");
  }
  long hours = static_cast<long>(validity.count());
  // Backdated by an hour so that small clock skew between hosts does not matter.
  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(cert.get()), static_cast<int>(hours / 24),
                       (hours % 24) * 3600, nullptr) == nullptr) {
    return SslError("certificate validity");
  }
  if (X509_set_pubkey(cert.get(), key) != 1) {
    return SslError("certificate public key");
  }
  return cert;
}

Result<CertKeyPair> SignAndEncode(X509* cert, EVP_PKEY* signer, EVP_PKEY* key) {
  if (X509_sign(cert, signer, EVP_sha256()) == 0) {
    return SslError("sign certificate");
  }
  CertKeyPair out;
  LINTEL_ASSIGN_OR_RETURN(out.cert_pem, CertToPem(cert));
  LINTEL_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(key));
  return out;
}

struct LoadedCa {
  X509Ptr cert;
  PkeyPtr key;
};

Result<LoadedCa> LoadCa(const CertKeyPair& ca) {
  LoadedCa out;
  LINTEL_ASSIGN_OR_RETURN(out.cert, ParseCert(ca.cert_pem));
  LINTEL_ASSIGN_OR_RETURN(out.key, ParseKey(ca.key_pem));
  if (X509_check_private_key(out.cert.get(), out.key.get()) != 1) {
    ERR_clear_error();
    return Invalid("CA key does not match the CA certificate");
  }
  if (X509_check_ca(out.cert.get()) <= 0) {
    return BadRequest("the issuing certificate is not a CA");
  }
  return out;
}

// A leaf signed by `ca`: subject built by `subject`, extensions for `usage`.
template <typename SubjectFn>
Result<CertKeyPair> IssueLeaf(const CertKeyPair& ca, std::chrono::hours validity,
                              const char* ext_key_usage, SubjectFn&& subject) {
  LINTEL_ASSIGN_OR_RETURN(LoadedCa issuer, LoadCa(ca));
  LINTEL_ASSIGN_OR_RETURN(PkeyPtr key, NewEcKey());
  LINTEL_ASSIGN_OR_RETURN(X509Ptr cert, NewCert(key.get(), validity));
  LINTEL_RETURN_IF_ERROR(subject(cert.get()));
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer.cert.get())) != 1) {
    return SslError("certificate issuer");
  }
  X509* c = cert.get();
  X509* i = issuer.cert.get();
  LINTEL_RETURN_IF_ERROR(AddExt(c, i, NID_basic_constraints, "critical,CA:FALSE"));
  LINTEL_RETURN_IF_ERROR(AddExt(c, i, NID_key_usage, "critical,digitalSignature"));
  LINTEL_RETURN_IF_ERROR(AddExt(c, i, NID_ext_key_usage, ext_key_usage));
  LINTEL_RETURN_IF_ERROR(AddExt(c, i, NID_subject_key_identifier, "hash"));
  LINTEL_RETURN_IF_ERROR(AddExt(c, i, NID_authority_key_identifier, "keyid:always"));
  return SignAndEncode(c, issuer.key.get(), key.get());
}

Status AddSans(X509* cert, const ServerCertOptions& options) {
  NamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) {
    return SslError("subjectAltName");
  }
  auto push = [&](int type, ASN1_STRING* value) {
    GENERAL_NAME* gn = GENERAL_NAME_new();
    if (gn == nullptr) {
      ASN1_STRING_free(value);
      return false;
    }
    GENERAL_NAME_set0_value(gn, type, value);
    if (sk_GENERAL_NAME_push(names.get(), gn) == 0) {
      GENERAL_NAME_free(gn);
      return false;
    }
    return true;
  };
  for (const std::string& dns : options.dns_names) {
    ASN1_IA5STRING* ia5 = ASN1_IA5STRING_new();
    if (ia5 == nullptr || ASN1_STRING_set(ia5, dns.data(), static_cast<int>(dns.size())) != 1 ||
        !push(GEN_DNS, ia5)) {
      return SslError("subjectAltName DNS " + dns);
    }
  }
  for (const std::string& ip : options.ip_addresses) {
    ASN1_OCTET_STRING* octets = a2i_IPADDRESS(ip.c_str());
    if (octets == nullptr) {
      ERR_clear_error();
      return BadRequest("subjectAltName: \"" + ip + "\" is not an IP address");
    }
    if (!push(GEN_IPADD, octets)) {
      return SslError("subjectAltName IP " + ip);
    }
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names.get(), 0, X509V3_ADD_DEFAULT) != 1) {
    return SslError("add subjectAltName");
  }
  return Status::Ok();
}

std::chrono::system_clock::time_point ToTimePoint(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) {
    return {};
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::vector<std::string> NameEntries(X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    if (n >= 0) {
      out.emplace_back(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
      OPENSSL_free(utf8);
    }
  }
  return out;
}

}  // namespace

Result<CertKeyPair> GenerateCa(std::string_view common_name, std::chrono::hours validity) {
  LINTEL_ASSIGN_OR_RETURN(PkeyPtr key, NewEcKey());
  LINTEL_ASSIGN_OR_RETURN(X509Ptr cert, NewCert(key.get(), validity));
  X509_NAME* name = X509_get_subject_name(cert.get());
  LINTEL_RETURN_IF_ERROR(AddName(name, "CN", common_name));
  if (X509_set_issuer_name(cert.get(), name) != 1) {
    return SslError("CA issuer");
  }
  X509* c = cert.get();
  LINTEL_RETURN_IF_ERROR(AddExt(c, c, NID_basic_constraints, "critical,CA:TRUE"));
  LINTEL_RETURN_IF_ERROR(
      AddExt(c, c, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign"));
  LINTEL_RETURN_IF_ERROR(AddExt(c, c, NID_subject_key_identifier, "hash"));
  LINTEL_RETURN_IF_ERROR(AddExt(c, c, NID_authority_key_identifier, "keyid:always"));
  return SignAndEncode(c, key.get(), key.get());
}

Result<CertKeyPair> IssueServerCert(const CertKeyPair& ca, const ServerCertOptions& options) {
  if (options.dns_names.empty() && options.ip_addresses.empty()) {
    return BadRequest("server certificate needs at least one DNS name or IP address");
  }
  return IssueLeaf(ca, options.validity, "serverAuth", [&](X509* cert) -> Status {
    X509_NAME* name = X509_get_subject_name(cert);
    std::string cn = options.common_name;
    if (cn.empty()) {
      cn = options.dns_names.empty() ? options.ip_addresses.front() : options.dns_names.front();
    }
    LINTEL_RETURN_IF_ERROR(AddName(name, "CN", cn));
    return AddSans(cert, options);
  });
}

Result<CertKeyPair> IssueClientCert(const CertKeyPair& ca, std::string_view user,
                                    const std::vector<std::string>& groups,
                                    std::chrono::hours validity) {
  if (user.empty()) {
    return BadRequest("client certificate needs a user name");
  }
  return IssueLeaf(ca, validity, "clientAuth", [&](X509* cert) -> Status {
    X509_NAME* name = X509_get_subject_name(cert);
    for (const std::string& group : groups) {
      LINTEL_RETURN_IF_ERROR(AddName(name, "O", group));
    }
    return AddName(name, "CN", user);
  });
}

Status ValidateCertKeyPair(const CertKeyPair& pair) {
  LINTEL_ASSIGN_OR_RETURN(X509Ptr cert, ParseCert(pair.cert_pem));
  LINTEL_ASSIGN_OR_RETURN(PkeyPtr key, ParseKey(pair.key_pem));
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return Invalid("private key does not match the certificate");
  }
  return Status::Ok();
}

Result<CertKeyPair> LoadCertKeyPair(const std::string& cert_path, const std::string& key_path) {
  CertKeyPair pair;
  LINTEL_ASSIGN_OR_RETURN(pair.cert_pem, ReadFile(cert_path));
  LINTEL_ASSIGN_OR_RETURN(pair.key_pem, ReadFile(key_path));
  Status s = ValidateCertKeyPair(pair);
  if (!s.ok()) {
    return s.Wrap("load " + cert_path + " and " + key_path);
  }
  return pair;
}

Result<CertInfo> InspectCert(std::string_view cert_pem) {
  LINTEL_ASSIGN_OR_RETURN(X509Ptr cert, ParseCert(cert_pem));
  CertInfo info;
  X509_NAME* subject = X509_get_subject_name(cert.get());
  std::vector<std::string> cns = NameEntries(subject, NID_commonName);
  if (!cns.empty()) {
    info.common_name = cns.front();
  }
  info.organizations = NameEntries(subject, NID_organizationName);
  info.is_ca = X509_check_ca(cert.get()) > 0;
  info.not_before = ToTimePoint(X509_get0_notBefore(cert.get()));
  info.not_after = ToTimePoint(X509_get0_notAfter(cert.get()));
  NamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    if (gn->type == GEN_DNS) {
      const ASN1_STRING* s = gn->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                  static_cast<size_t>(ASN1_STRING_length(s)));
    } else if (gn->type == GEN_IPADD) {
      const ASN1_STRING* s = gn->d.iPAddress;
      char buf[INET6_ADDRSTRLEN] = {};
      int len = ASN1_STRING_length(s);
      int family = len == 4 ? AF_INET : (len == 16 ? AF_INET6 : 0);
      if (family != 0 && inet_ntop(family, ASN1_STRING_get0_data(s), buf, sizeof(buf))) {
        info.ip_addresses.emplace_back(buf);
      }
    }
  }
  return info;
}

}  // namespace lintel::http
