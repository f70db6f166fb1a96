#include "server/http/certs.h"

#include <gtest/gtest.h>

#include "common/fs.h"
#include "support/temp_dir.h"

namespace lintel::http {
namespace {

using namespace std::chrono_literals;

TEST(CertsTest, CaIsSelfSignedAndLongLived) {
  auto ca = GenerateCa("lintel-ca");
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  EXPECT_TRUE(ca->cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
  EXPECT_TRUE(ca->key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
  EXPECT_TRUE(ValidateCertKeyPair(*ca).ok());
  auto info = InspectCert(ca->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "lintel-ca");
  EXPECT_TRUE(info->is_ca);
  auto years = std::chrono::duration_cast<std::chrono::hours>(info->not_after - info->not_before);
  EXPECT_GE(years, kCaValidity);
}

TEST(CertsTest, ServerCertCarriesSans) {
  auto ca = GenerateCa("ca");
  ASSERT_TRUE(ca.ok());
  ServerCertOptions opts;
  opts.dns_names = {"localhost", "lintel.local"};
  opts.ip_addresses = {"127.0.0.1", "::1"};
  auto server = IssueServerCert(*ca, opts);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_TRUE(ValidateCertKeyPair(*server).ok());
  auto info = InspectCert(server->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_FALSE(info->is_ca);
  EXPECT_EQ(info->common_name, "localhost");
  EXPECT_EQ(info->dns_names, (std::vector<std::string>{"localhost", "lintel.local"}));
  EXPECT_EQ(info->ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_LE(info->not_before, std::chrono::system_clock::now());
  EXPECT_GT(info->not_after, std::chrono::system_clock::now() + 300 * 24h);
}

TEST(CertsTest, ClientCertHasUserAndGroups) {
  auto ca = GenerateCa("ca");
  ASSERT_TRUE(ca.ok());
  auto client = IssueClientCert(*ca, "alice", {"system:masters", "devs"});
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto info = InspectCert(client->cert_pem);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->common_name, "alice");
  EXPECT_EQ(info->organizations, (std::vector<std::string>{"system:masters", "devs"}));
}

TEST(CertsTest, BadInputsAreErrors) {
  auto ca = GenerateCa("ca");
  ASSERT_TRUE(ca.ok());
  ServerCertOptions none;
  EXPECT_EQ(IssueServerCert(*ca, none).status().code(), Code::kBadRequest);
  ServerCertOptions bad_ip;
  bad_ip.ip_addresses = {"300.1.1.1"};
  EXPECT_EQ(IssueServerCert(*ca, bad_ip).status().code(), Code::kBadRequest);
  EXPECT_EQ(IssueClientCert(*ca, "", {}).status().code(), Code::kBadRequest);
  CertKeyPair garbage{"not a cert", "not a key"};
  EXPECT_EQ(IssueClientCert(garbage, "bob", {}).status().code(), Code::kBadRequest);
  EXPECT_EQ(InspectCert("junk").status().code(), Code::kBadRequest);

  auto other = GenerateCa("other");
  ASSERT_TRUE(other.ok());
  CertKeyPair mismatched{ca->cert_pem, other->key_pem};
  EXPECT_EQ(ValidateCertKeyPair(mismatched).code(), Code::kInvalid);
  EXPECT_EQ(IssueClientCert(mismatched, "bob", {}).status().code(), Code::kInvalid);

  // A leaf cannot issue.
  auto leaf = IssueClientCert(*ca, "bob", {});
  ASSERT_TRUE(leaf.ok());
  EXPECT_FALSE(IssueClientCert(*leaf, "eve", {}).ok());
}

TEST(CertsTest, LoadFromFiles) {
  lintel::testing::TempDir dir;
  auto ca = GenerateCa("ca");
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(WriteFileAtomic(dir.File("ca.crt"), ca->cert_pem).ok());
  ASSERT_TRUE(WriteFileAtomic(dir.File("ca.key"), ca->key_pem, 0600).ok());
  auto loaded = LoadCertKeyPair(dir.File("ca.crt"), dir.File("ca.key"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->cert_pem, ca->cert_pem);
  EXPECT_EQ(LoadCertKeyPair(dir.File("missing"), dir.File("ca.key")).status().code(),
            Code::kNotFound);
}

}  // namespace
}  // namespace lintel::http
