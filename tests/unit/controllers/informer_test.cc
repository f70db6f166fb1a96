#include "controllers/informer.h"

#include <gtest/gtest.h>

namespace lintel::controllers {
namespace {

TEST(IdentityOnlyTest, KeepsIdentityAndOwnershipAndDropsTheRest) {
  Json obj = ParseJson(R"({
    "apiVersion": "lintel.dev/v1alpha1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "resourceVersion": "7",
                 "labels": {"app": "web"}, "annotations": {"big": "xxxxxxxx"},
                 "ownerReferences": [{"uid": "o1", "kind": "Deployment", "name": "d"}],
                 "finalizers": ["f"], "deletionTimestamp": "2026-01-01T00:00:00Z",
                 "managedFields": [{"manager": "m"}]},
    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
    "status": {"phase": "Running"}})")
                 .value();
  Json got = IdentityOnly(std::move(obj));
  Json want = ParseJson(R"({
    "apiVersion": "lintel.dev/v1alpha1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "resourceVersion": "7",
                 "ownerReferences": [{"uid": "o1", "kind": "Deployment", "name": "d"}],
                 "finalizers": ["f"], "deletionTimestamp": "2026-01-01T00:00:00Z"}})")
                  .value();
  EXPECT_EQ(got, want);
}

TEST(IdentityOnlyTest, LeavesNonObjectsAlone) {
  EXPECT_EQ(IdentityOnly(Json(3)), Json(3));
  EXPECT_EQ(IdentityOnly(Json::object()), Json::object());
}

}  // namespace
}  // namespace lintel::controllers
