#include "cli/rollout_status.h"

#include <gtest/gtest.h>

namespace lintel::cli {
namespace {

Json Deployment(int64_t generation, int64_t observed, int64_t want, int64_t replicas,
                int64_t updated, int64_t available, const std::string& progressing = "") {
  Json d = {{"metadata", {{"name", "web"}, {"generation", generation}}},
            {"spec", {{"replicas", want}}},
            {"status",
             {{"observedGeneration", observed},
              {"replicas", replicas},
              {"updatedReplicas", updated},
              {"availableReplicas", available}}}};
  if (!progressing.empty()) {
    d["status"]["conditions"] = {
        {{"type", "Progressing"}, {"status", "True"}, {"reason", progressing}}};
  }
  return d;
}

TEST(RolloutStatusTest, SaysWhatKubectlSays) {
  struct Case {
    Json d;
    std::string message;
    bool done;
  } cases[] = {
      {Deployment(2, 1, 3, 3, 3, 3), "Waiting for deployment spec update to be observed...",
       false},
      {Deployment(2, 2, 3, 4, 1, 3),
       "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been "
       "updated...",
       false},
      {Deployment(2, 2, 3, 4, 3, 3),
       "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending "
       "termination...",
       false},
      {Deployment(2, 2, 3, 3, 3, 1),
       "Waiting for deployment \"web\" rollout to finish: 1 of 3 updated replicas are "
       "available...",
       false},
      {Deployment(2, 2, 3, 3, 3, 3, "NewPodsAvailable"), "deployment \"web\" successfully rolled out",
       true},
      {Deployment(1, 1, 0, 0, 0, 0), "deployment \"web\" successfully rolled out", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.message);
    auto s = DeploymentRolloutState(c.d);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    EXPECT_EQ(s->message, c.message);
    EXPECT_EQ(s->done, c.done);
  }
  auto s = DeploymentRolloutState(Deployment(2, 2, 3, 3, 1, 1, "ProgressDeadlineExceeded"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "error: deployment \"web\" exceeded its progress deadline");
}

}  // namespace
}  // namespace lintel::cli
