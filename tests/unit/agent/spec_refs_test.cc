// ResolveSpecReferences against an in-process server: a VM's cloud-init
// user data and network-config taken from Secrets of its namespace.
#include "agent/spec_refs.h"

#include <gtest/gtest.h>

#include "common/base64.h"
#include "server/local_client.h"
#include "server_fixture.h"

namespace lintel::agent {
namespace {

const client::Resource kSecrets{"lintel.dev", "v1alpha1", "secrets", true};

class SpecRefsTest : public server::testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    client_ = std::make_shared<server::LocalClient>(resources_.get(), "system:lintel-agent");
  }
  void PutSecret(const std::string& name, Json data) {
    Json s = {{"apiVersion", "lintel.dev/v1alpha1"},
              {"kind", "Secret"},
              {"metadata", {{"name", name}}},
              {"data", std::move(data)}};
    ASSERT_TRUE(client_->Create(kSecrets, "default", s).ok());
  }
  static drivers::WorkloadSpec VmSpec(Json cloud_init) {
    drivers::WorkloadSpec w;
    w.kind = drivers::WorkloadKind::kVirtualMachine;
    w.ns = "default";
    w.name = "vm";
    w.uid = "u1";
    w.spec = {{"image", "tiny"}, {"cloudInit", std::move(cloud_init)}};
    return w;
  }
  std::shared_ptr<client::Client> client_;
};

TEST_F(SpecRefsTest, FillsUserDataAndNetworkDataFromSecrets) {
  PutSecret("ud", {{"userdata", Base64Encode("#!/bin/sh\necho from-secret\n")}});
  PutSecret("nd", {{"networkData", Base64Encode("version: 2\n")}});
  auto w = ResolveSpecReferences(*client_, VmSpec({{"userDataSecretRef", {{"name", "ud"}}},
                                                   {"networkDataSecretRef", {{"name", "nd"}}}}));
  ASSERT_TRUE(w.ok()) << w.error().ToString();
  EXPECT_EQ(w->spec["cloudInit"]["userData"], "#!/bin/sh\necho from-secret\n");
  EXPECT_EQ(w->spec["cloudInit"]["networkData"], "version: 2\n");
}

TEST_F(SpecRefsTest, MissingSecretsAndKeysAreRetryableWithTheField) {
  auto missing = ResolveSpecReferences(*client_, VmSpec({{"userDataSecretRef", {{"name", "x"}}}}));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.error().retryable());
  EXPECT_EQ(missing.error().message(),
            "spec.cloudInit.userDataSecretRef: secret default/x not found");
  PutSecret("wrongkey", {{"other", Base64Encode("x")}});
  auto nokey =
      ResolveSpecReferences(*client_, VmSpec({{"userDataSecretRef", {{"name", "wrongkey"}}}}));
  ASSERT_FALSE(nokey.ok());
  EXPECT_EQ(nokey.error().message(),
            "spec.cloudInit.userDataSecretRef: secret default/wrongkey has no key userdata or "
            "userData");
}

TEST_F(SpecRefsTest, SpecsWithoutReferencesAreUntouched) {
  auto vm = VmSpec({{"userData", "#!/bin/sh\n"}});
  auto same = ResolveSpecReferences(*client_, vm);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->spec, vm.spec);
  drivers::WorkloadSpec pod;
  pod.spec = {{"containers", Json::array()}};
  EXPECT_EQ(ResolveSpecReferences(*client_, pod)->spec, pod.spec);
}

}  // namespace
}  // namespace lintel::agent
