#include "cli/text.h"

#include <gtest/gtest.h>

#include "cli/errors.h"
#include "cli/last_applied.h"

namespace lintel::cli {
namespace {

using std::chrono::milliseconds;

TEST(TextTest, ParseDuration) {
  EXPECT_EQ(*ParseDuration("30s"), milliseconds(30'000));
  EXPECT_EQ(*ParseDuration("1m30s"), milliseconds(90'000));
  EXPECT_EQ(*ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(*ParseDuration("2h"), milliseconds(7'200'000));
  EXPECT_EQ(*ParseDuration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(*ParseDuration("0"), milliseconds(0));
  EXPECT_EQ(*ParseDuration("10"), milliseconds(10'000));
  EXPECT_FALSE(ParseDuration("").ok());
  EXPECT_FALSE(ParseDuration("5x").ok());
  EXPECT_FALSE(ParseDuration("s").ok());
}

TEST(TextTest, GoJsonEscapesLikeEncodingJson) {
  EXPECT_EQ(GoJson(Json{{"b", 1}, {"a", "<x> & y"}}),
            R"({"a":"\u003cx\u003e \u0026 y","b":1})");
}

// The annotation kubectl 1.32 wrote for this manifest, byte for byte.
TEST(LastAppliedTest, MatchesKubectl) {
  Json manifest = Json::parse(R"({"apiVersion": "lintel.dev/v1alpha1", "kind": "VirtualMachine",
      "metadata": {"name": "db-1", "labels": {"app": "db"}, "namespace": "default"},
      "spec": {"image": "tiny", "cpu": 1}})");
  ModifiedConfiguration mc = GetModifiedConfiguration(manifest);
  EXPECT_EQ(mc.last_applied,
            "{\"apiVersion\":\"lintel.dev/v1alpha1\",\"kind\":\"VirtualMachine\",\"metadata\":{"
            "\"annotations\":{},\"labels\":{\"app\":\"db\"},\"name\":\"db-1\",\"namespace\":"
            "\"default\"},\"spec\":{\"cpu\":1,\"image\":\"tiny\"}}\n");
  EXPECT_EQ(mc.modified["metadata"]["annotations"][kLastAppliedAnnotation], mc.last_applied);
  EXPECT_EQ(LastAppliedOf(mc.modified), Json::parse(mc.last_applied));
  EXPECT_TRUE(LastAppliedOf(manifest).is_null());
}

TEST(LastAppliedTest, AnOldAnnotationIsNotNested) {
  Json manifest = {{"apiVersion", "v1"},
                   {"kind", "X"},
                   {"metadata",
                    {{"name", "a"},
                     {"annotations", {{kLastAppliedAnnotation, "old"}, {"keep", "me"}}}}}};
  ModifiedConfiguration mc = GetModifiedConfiguration(manifest);
  EXPECT_EQ(mc.last_applied,
            "{\"apiVersion\":\"v1\",\"kind\":\"X\",\"metadata\":{\"annotations\":{\"keep\":"
            "\"me\"},\"name\":\"a\"}}\n");
}

TEST(ErrorsTest, ServerErrorLines) {
  EXPECT_EQ(ServerErrorLine(NotFound("virtualmachines.lintel.dev \"x\" not found")),
            "Error from server (NotFound): virtualmachines.lintel.dev \"x\" not found");
  EXPECT_EQ(ServerErrorLine(AlreadyExists("virtualmachines.lintel.dev \"x\" already exists"),
                            "error when creating \"vm.yaml\""),
            "Error from server (AlreadyExists): error when creating \"vm.yaml\": "
            "virtualmachines.lintel.dev \"x\" already exists");
  Status one = Invalid("VirtualMachine.lintel.dev \"x\" is invalid: spec.cpu: Invalid value: 0",
                       {{"FieldValueInvalid", "spec.cpu", "Invalid value: 0"}});
  EXPECT_EQ(ServerErrorLine(one), "The VirtualMachine \"x\" is invalid: spec.cpu: Invalid value: 0");
  Status two = Invalid("VirtualMachine.lintel.dev \"x\" is invalid: [...]",
                       {{"FieldValueInvalid", "spec.cpu", "bad"},
                        {"FieldValueRequired", "spec.image", "Required value"}});
  EXPECT_EQ(ServerErrorLine(two),
            "The VirtualMachine \"x\" is invalid: \n* spec.cpu: bad\n* spec.image: Required value");
  EXPECT_EQ(ServerErrorLine(Unavailable("connect 127.0.0.1:1: Connection refused")),
            "Unable to connect to the server: connect 127.0.0.1:1: Connection refused");
  EXPECT_EQ(CliError("boom").message(), "error: boom");
}

}  // namespace
}  // namespace lintel::cli
