// A Resources stack on a real SQLite store in a temp dir, for server tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "api/registry.h"
#include "common/clock.h"
#include "server/admission.h"
#include "server/resources.h"
#include "server/watch_cache.h"
#include "store/sqlite/sqlite_store.h"
#include "support/temp_dir.h"

namespace lintel::server::testing {

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(WatchCache::Options cache_opts = {}) {
    store::sqlite::Options so;
    so.path = dir_.File("state.db");
    so.sync = store::sqlite::Options::Sync::kNormal;
    so.clock = &clock_;
    auto s = store::sqlite::SqliteStore::Open(so);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    store_ = std::move(*s);
    cache_ = std::make_unique<WatchCache>(store_.get(), registry(), cache_opts);
    ASSERT_TRUE(cache_->Start().ok());
    admission_ = std::make_unique<Admission>();
    admission_->Add(MakeNamespaceLifecycle(cache_.get(), registry().ByName("namespaces")));
    resources_ = std::make_unique<Resources>(store_.get(), cache_.get(), registry(), &clock_,
                                             admission_.get());
    for (const char* ns : {"default", "other", "lintel-host-leases"}) {
      auto r = resources_->Create(Kind("namespaces"), "",
                                  {{"apiVersion", "lintel.dev/v1alpha1"},
                                   {"kind", "Namespace"},
                                   {"metadata", {{"name", ns}}}},
                                  Opts());
      ASSERT_TRUE(r.ok() || r.error().code() == Code::kAlreadyExists) << r.error().ToString();
    }
  }

  void TearDown() override {
    resources_.reset();
    if (cache_) cache_->Stop();
    cache_.reset();
    store_.reset();
  }

  static const api::Registry& registry() { return api::Registry::Default(); }
  static const api::KindInfo& Kind(const char* name) { return *registry().ByName(name); }

  static WriteOptions Opts(FieldValidation v = FieldValidation::kStrict) {
    WriteOptions o;
    o.validation = v;
    o.field_manager = "test";
    return o;
  }

  static Json Vm(const std::string& name, Json labels = Json::object()) {
    return {{"apiVersion", "lintel.dev/v1alpha1"},
            {"kind", "VirtualMachine"},
            {"metadata", {{"name", name}, {"labels", labels}}},
            {"spec", {{"image", "tiny"}, {"cpu", 1}}}};
  }

  Json MustCreate(const Json& obj, const std::string& ns = "default",
                  const char* kind = "virtualmachines") {
    auto r = resources_->Create(Kind(kind), ns, obj, Opts());
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *ParseJson(r->json) : Json();
  }

  Json MustGet(const std::string& name, const std::string& ns = "default",
               const char* kind = "virtualmachines") {
    auto r = resources_->Get(Kind(kind), ns, name);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *ParseJson(*r) : Json();
  }

  lintel::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WatchCache> cache_;
  std::unique_ptr<Admission> admission_;
  std::unique_ptr<Resources> resources_;
};

}  // namespace lintel::server::testing
