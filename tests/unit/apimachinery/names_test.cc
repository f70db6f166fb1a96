#include "apimachinery/names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lintel::apimachinery {
namespace {

constexpr char kLabelRegexError[] =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
constexpr char kSubdomainRegexError[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
constexpr char kNamePartRegexError[] =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
constexpr char kLabelValueRegexError[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value', "
    " or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

struct Case {
  std::string name;
  std::string input;
  std::vector<std::string> want;  // exact error strings; empty means valid
};

void RunCases(const std::vector<Case>& cases, std::vector<std::string> (*fn)(std::string_view)) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name + ": \"" + c.input.substr(0, 80) + "\"");
    EXPECT_EQ(fn(c.input), c.want);
  }
}

TEST(IsDns1123LabelTest, Table) {
  RunCases(
      {
          {"single char", "a", {}},
          {"digit only", "0", {}},
          {"dashes inside", "my-name", {}},
          {"starts with digit", "123-abc", {}},
          {"63 chars", std::string(63, 'a'), {}},
          {"64 chars", std::string(64, 'a'), {"must be no more than 63 characters"}},
          {"empty", "", {kLabelRegexError}},
          {"upper case", "My-Name", {kLabelRegexError}},
          {"leading dash", "-abc", {kLabelRegexError}},
          {"trailing dash", "abc-", {kLabelRegexError}},
          {"underscore", "a_b", {kLabelRegexError}},
          {"dots", "a.b", {"must not contain dots"}},
          {"space", "a b", {kLabelRegexError}},
          {"64 and bad",
           std::string(63, 'a') + "-",
           {"must be no more than 63 characters", kLabelRegexError}},
          {"64 with dots",
           std::string(32, 'a') + "." + std::string(31, 'a'),
           {"must be no more than 63 characters", "must not contain dots"}},
      },
      &IsDns1123Label);
}

TEST(IsDns1123SubdomainTest, Table) {
  std::string label63(63, 'a');
  // 4 * 63 + 3 dots = 255; trim to exactly 253.
  std::string s253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(s253.size(), 253u);
  RunCases(
      {
          {"simple", "example.com", {}},
          {"single label", "a", {}},
          {"dashes", "my-app.my-ns.svc", {}},
          {"253 chars", s253, {}},
          {"254 chars", s253 + "b", {"must be no more than 253 characters"}},
          {"labels longer than 63 are fine", std::string(100, 'a'), {}},
          {"empty", "", {kSubdomainRegexError}},
          {"leading dot", ".a", {kSubdomainRegexError}},
          {"trailing dot", "a.", {kSubdomainRegexError}},
          {"double dot", "a..b", {kSubdomainRegexError}},
          {"label ends with dash", "a-.b", {kSubdomainRegexError}},
          {"upper case", "Example.com", {kSubdomainRegexError}},
          {"underscore", "a_b.c", {kSubdomainRegexError}},
      },
      &IsDns1123Subdomain);
}

TEST(IsQualifiedNameTest, Table) {
  const std::string too_many_slashes =
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start "
      "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
      "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS "
      "subdomain prefix and '/' (e.g. 'example.com/MyName')";
  RunCases(
      {
          {"simple", "app", {}},
          {"mixed case", "MyName", {}},
          {"dots underscores dashes", "my.name_x-y", {}},
          {"prefixed", "example.com/MyName", {}},
          {"kubernetes prefix", "app.kubernetes.io/name", {}},
          {"63 char name", std::string(63, 'x'), {}},
          {"64 char name", std::string(64, 'x'), {"name part must be no more than 63 characters"}},
          {"63 char name after prefix", "a.b/" + std::string(63, 'x'), {}},
          {"64 char name after prefix",
           "a.b/" + std::string(64, 'x'),
           {"name part must be no more than 63 characters"}},
          {"empty", "", {"name part must be non-empty", kNamePartRegexError}},
          {"empty name after prefix",
           "example.com/",
           {"name part must be non-empty", kNamePartRegexError}},
          {"empty prefix", "/name", {"prefix part must be non-empty"}},
          {"bad prefix", "Example.com/name", {"prefix part " + std::string(kSubdomainRegexError)}},
          {"long prefix",
           std::string(254, 'a') + "/name",
           {"prefix part must be no more than 253 characters"}},
          {"two slashes", "a/b/c", {too_many_slashes}},
          {"leading dash", "-name", {kNamePartRegexError}},
          {"trailing dot", "name.", {kNamePartRegexError}},
          {"space", "my name", {kNamePartRegexError}},
          {"colon", "a:b", {kNamePartRegexError}},
      },
      &IsQualifiedName);
}

TEST(IsValidLabelValueTest, Table) {
  RunCases(
      {
          {"empty is valid", "", {}},
          {"simple", "web", {}},
          {"mixed", "My_value.1-2", {}},
          {"63 chars", std::string(63, 'v'), {}},
          {"64 chars", std::string(64, 'v'), {"must be no more than 63 characters"}},
          {"slash", "a/b", {kLabelValueRegexError}},
          {"leading underscore", "_a", {kLabelValueRegexError}},
          {"trailing dash", "a-", {kLabelValueRegexError}},
          {"space", "a b", {kLabelValueRegexError}},
          {"negative number", "-5", {kLabelValueRegexError}},
      },
      &IsValidLabelValue);
}

TEST(IsValidPathSegmentNameTest, Table) {
  RunCases(
      {
          {"plain", "system:controller", {}},
          {"dot", ".", {"may not be '.'"}},
          {"dotdot", "..", {"may not be '..'"}},
          {"dots inside are fine", "a..b", {}},
          {"slash", "a/b", {"may not contain '/'"}},
          {"percent", "a%b", {"may not contain '%'"}},
          {"both", "a/%", {"may not contain '/'", "may not contain '%'"}},
      },
      &IsValidPathSegmentName);
}

TEST(ValidateObjectNameTest, Table) {
  struct NameCase {
    std::string name;
    std::string input;
    NameFormat format;
    bool prefix;
    std::vector<Cause> want;
  };
  const std::vector<NameCase> cases = {
      {"valid subdomain", "web.v1", NameFormat::kDns1123Subdomain, false, {}},
      {"valid label", "default", NameFormat::kDns1123Label, false, {}},
      {"label with dots",
       "a.b",
       NameFormat::kDns1123Label,
       false,
       {{"FieldValueInvalid", "metadata.name", "Invalid value: \"a.b\": must not contain dots"}}},
      {"upper case subdomain",
       "Web",
       NameFormat::kDns1123Subdomain,
       false,
       {{"FieldValueInvalid", "metadata.name",
         "Invalid value: \"Web\": " + std::string(kSubdomainRegexError)}}},
      {"empty",
       "",
       NameFormat::kDns1123Subdomain,
       false,
       {{"FieldValueRequired", "metadata.name",
         "Required value: name or generateName is required"}}},
      {"generateName prefix may end in dash", "web-", NameFormat::kDns1123Label, true, {}},
      {"name may not end in dash",
       "web-",
       NameFormat::kDns1123Label,
       false,
       {{"FieldValueInvalid", "metadata.name",
         "Invalid value: \"web-\": " + std::string(kLabelRegexError)}}},
      {"path segment", "system:admin", NameFormat::kPathSegment, false, {}},
      {"path segment slash",
       "a/b",
       NameFormat::kPathSegment,
       false,
       {{"FieldValueInvalid", "metadata.name", "Invalid value: \"a/b\": may not contain '/'"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ValidateObjectName(c.input, c.format, "metadata.name", c.prefix), c.want);
  }
}

TEST(ValidateObjectNameTest, CustomFieldPath) {
  auto causes = ValidateObjectName("Bad", NameFormat::kDns1123Label, "spec.containers[0].name");
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec.containers[0].name");
}

TEST(ValidateLabelsTest, Table) {
  struct LabelsCase {
    std::string name;
    Json labels;
    std::vector<Cause> want;
  };
  const std::vector<LabelsCase> cases = {
      {"null", nullptr, {}},
      {"empty", Json::object(), {}},
      {"valid", {{"app", "web"}, {"app.kubernetes.io/name", "x"}, {"empty", ""}}, {}},
      {"bad key",
       {{"bad key", "v"}},
       {{"FieldValueInvalid", "metadata.labels",
         "Invalid value: \"bad key\": " + std::string(kNamePartRegexError)}}},
      {"bad value",
       {{"app", "a b"}},
       {{"FieldValueInvalid", "metadata.labels",
         "Invalid value: \"a b\": " + std::string(kLabelValueRegexError)}}},
      {"value too long",
       {{"app", std::string(64, 'v')}},
       {{"FieldValueInvalid", "metadata.labels",
         "Invalid value: \"" + std::string(64, 'v') + "\": must be no more than 63 characters"}}},
      {"non-string value",
       {{"replicas", 3}},
       {{"FieldValueTypeInvalid", "metadata.labels[replicas]",
         "Invalid value: 3: must be of type string, not integer"}}},
      {"not an object",
       Json::array({"a"}),
       {{"FieldValueTypeInvalid", "metadata.labels",
         "Invalid value: [\"a\"]: must be of type object, not array"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ValidateLabels(c.labels, "metadata.labels"), c.want);
  }
}

TEST(ValidateAnnotationsTest, Table) {
  struct AnnotationsCase {
    std::string name;
    Json annotations;
    std::vector<Cause> want;
  };
  const std::string too_long = "Too long: must have at most 262144 bytes";
  const std::vector<AnnotationsCase> cases = {
      {"null", nullptr, {}},
      {"valid", {{"kubectl.kubernetes.io/last-applied-configuration", "{}"}}, {}},
      {"values need not be label values", {{"note", "free text, with spaces / slashes"}}, {}},
      {"upper-case prefix is fine", {{"Example.COM/Key", "v"}}, {}},
      {"bad key",
       {{"a b", "v"}},
       {{"FieldValueInvalid", "metadata.annotations",
         "Invalid value: \"a b\": " + std::string(kNamePartRegexError)}}},
      {"exactly at the limit", {{"k", std::string(kTotalAnnotationSizeLimit - 1, 'x')}}, {}},
      {"one byte over",
       {{"k", std::string(kTotalAnnotationSizeLimit, 'x')}},
       {{"FieldValueTooLong", "metadata.annotations", too_long}}},
      {"over in total across keys",
       {{"a", std::string(kTotalAnnotationSizeLimit / 2, 'x')},
        {"b", std::string(kTotalAnnotationSizeLimit / 2, 'x')}},
       {{"FieldValueTooLong", "metadata.annotations", too_long}}},
      {"non-string value",
       {{"k", true}},
       {{"FieldValueTypeInvalid", "metadata.annotations[k]",
         "Invalid value: true: must be of type string, not boolean"}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ValidateAnnotations(c.annotations, "metadata.annotations"), c.want);
  }
}

TEST(FieldCauseTest, LongValuesAreTruncated) {
  Cause c = FieldInvalid("f", std::string(500, 'x'), "bad");
  EXPECT_EQ(c.message, "Invalid value: \"" + std::string(116, 'x') + "...: bad");
}

TEST(FieldPathTest, Builders) {
  EXPECT_EQ(ChildPath("", "spec"), "spec");
  EXPECT_EQ(ChildPath("spec", "containers"), "spec.containers");
  EXPECT_EQ(IndexPath("spec.containers", 0), "spec.containers[0]");
  EXPECT_EQ(KeyPath("metadata.labels", "app"), "metadata.labels[app]");
}

}  // namespace
}  // namespace lintel::apimachinery
