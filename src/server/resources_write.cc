// Writes: create, update (PUT), patch (merge, JSON, apply), and the shared
// commit path that merges server-owned fields, validates and writes with
// optimistic concurrency.
#include <algorithm>

#include "apimachinery/managed_fields.h"
#include "apimachinery/patch.h"
#include "common/ids.h"
#include "server/resources.h"
#include "server/ssa.h"

namespace lintel::server {

namespace {

constexpr int kPatchRetries = 8;

// Metadata fields only the server writes; on update they keep their stored values.
constexpr const char* kServerOwnedMeta[] = {
    "uid",  "creationTimestamp", "generation", "deletionTimestamp", "deletionGracePeriodSeconds",
    "name", "namespace"};

std::string CauseText(const Cause& c) {
  return c.field.empty() ? c.message : c.field + ": " + c.message;
}

Status InvalidError(const api::KindInfo& kind, const std::string& name, std::vector<Cause> causes) {
  std::string detail;
  if (causes.size() == 1) {
    detail = CauseText(causes[0]);
  } else {
    detail = "[";
    for (size_t i = 0; i < causes.size(); ++i) {
      if (i) detail += ", ";
      detail += CauseText(causes[i]);
    }
    detail += "]";
  }
  std::string qualified = kind.group.empty() ? kind.kind : kind.kind + "." + kind.group;
  return Invalid(qualified + " \"" + name + "\" is invalid: " + detail, std::move(causes));
}

std::string NameOf(const Json& obj) {
  const Json& n = api::At(obj, "/metadata/name");
  return n.is_string() ? n.get<std::string>() : "";
}

// Everything but metadata and status: a change here bumps metadata.generation.
bool DesiredStateChanged(const Json& a, const Json& b) {
  auto strip = [](const Json& o) {
    Json c = o;
    c.erase("metadata");
    c.erase("status");
    return c;
  };
  return strip(a) != strip(b);
}

Json WithoutVolatileMeta(const Json& o) {
  Json c = o;
  if (c.contains("metadata") && c["metadata"].is_object()) {
    c["metadata"].erase("resourceVersion");
    c["metadata"].erase("managedFields");
  }
  return c;
}

Result<Revision> ParseRv(const std::string& s) {
  if (s.empty() || s.size() > 18 ||
      !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return BadRequest("invalid resourceVersion: \"" + s + "\"");
  }
  return static_cast<Revision>(std::stoll(s));
}

}  // namespace

Status Resources::CheckBody(const api::KindInfo& kind, const std::string& ns, Json* body,
                            FieldValidation, std::vector<std::string>*) const {
  if (!body->is_object()) {
    return BadRequest("the body of the request must be a JSON or YAML object");
  }
  auto kind_it = body->find("kind");
  if (kind_it == body->end() || !kind_it->is_string() || kind_it->get<std::string>().empty()) {
    return BadRequest("Object 'Kind' is missing in the request body");
  }
  auto av = body->find("apiVersion");
  if (av == body->end() || !av->is_string()) {
    return BadRequest("Object 'apiVersion' is missing in the request body");
  }
  if (*av != kind.api_version()) {
    return BadRequest("the API version in the data (" + av->get<std::string>() +
                      ") does not match the expected API version (" + kind.api_version() + ")");
  }
  if (*kind_it != kind.kind) {
    return BadRequest("the kind in the data (" + kind_it->get<std::string>() +
                      ") does not match the expected kind (" + kind.kind + ")");
  }
  Json& meta = (*body)["metadata"];
  if (meta.is_null()) meta = Json::object();
  if (!meta.is_object()) return BadRequest("metadata must be an object");
  if (kind.namespaced) {
    auto it = meta.find("namespace");
    if (it != meta.end() && it->is_string() && !it->get<std::string>().empty() && *it != ns) {
      return BadRequest(
          "the namespace of the provided object does not match the namespace sent on the "
          "request");
    }
    meta["namespace"] = ns;
  } else {
    meta.erase("namespace");
  }
  return Status();
}

Status Resources::ValidateObject(const api::KindInfo& kind, Json* obj, const Json* old,
                                 FieldValidation mode, std::vector<std::string>* warnings) const {
  std::vector<Cause> causes;
  std::vector<std::string> unknown;
  api::ValidateObjectMeta(kind, (*obj)["metadata"], &causes);
  kind.schema.Validate(*obj, "", &causes, &unknown);
  if (!unknown.empty()) {
    // Unknown fields are a decoding problem: reported before validation ones.
    if (mode == FieldValidation::kStrict) {
      std::string msg = "strict decoding error: ";
      for (size_t i = 0; i < unknown.size(); ++i) {
        if (i) msg += ", ";
        msg += "unknown field \"" + unknown[i] + "\"";
      }
      return BadRequest(msg);
    }
    if (mode == FieldValidation::kWarn) {
      for (const auto& u : unknown) warnings->push_back("unknown field \"" + u + "\"");
    }
    kind.schema.PruneUnknown(obj);
  }
  if (kind.validate) kind.validate(*obj, old, &causes);
  if (old) kind.schema.CheckImmutable(*old, *obj, "", &causes);
  if (!causes.empty()) return InvalidError(kind, NameOf(*obj), std::move(causes));
  return Status();
}

Result<WriteResult> Resources::Create(const api::KindInfo& kind, const std::string& ns, Json body,
                                      const WriteOptions& opts) {
  return CreateInternal(kind, ns, std::move(body), opts, nullptr);
}

Result<WriteResult> Resources::CreateInternal(const api::KindInfo& kind, const std::string& ns,
                                              Json body, const WriteOptions& opts,
                                              const Json* apply_managed_fields) {
  WriteResult out;
  LINTEL_RETURN_IF_ERROR(CheckBody(kind, ns, &body, opts.validation, &out.warnings));
  Json& meta = body["metadata"];
  std::string name = meta.value("name", "");
  if (name.empty()) {
    std::string gen = meta.value("generateName", "");
    if (!gen.empty()) {
      if (gen.size() > 58) gen.resize(58);
      name = gen + RandomSuffix(5);
      meta["name"] = name;
    }
  }
  for (const char* f : {"resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                        "selfLink", "managedFields"}) {
    meta.erase(f);
  }
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = Now();
  meta["generation"] = 1;
  if (kind.has_status) body.erase("status");
  if (!kind.default_finalizers.empty()) {
    Json& fins = meta["finalizers"];
    if (!fins.is_array()) fins = Json::array();
    for (const auto& f : kind.default_finalizers) {
      if (std::find(fins.begin(), fins.end(), f) == fins.end()) fins.push_back(f);
    }
  }
  kind.schema.ApplyDefaults(&body);
  if (kind.prepare) kind.prepare(&body, nullptr);
  LINTEL_RETURN_IF_ERROR(ValidateObject(kind, &body, nullptr, opts.validation, &out.warnings));
  if (apply_managed_fields) {
    body["metadata"]["managedFields"] = *apply_managed_fields;
  } else {
    SetManagedFieldsForUpdate(kind, nullptr, &body, opts.field_manager, Subresource::kNone, Now());
  }
  // After managed fields: what the server allocates is no writer's field.
  LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<Allocation> allocation,
                          Allocate(kind, &body, nullptr, name));

  AdmissionRequest ar;
  ar.kind = &kind;
  ar.operation = Operation::kCreate;
  ar.ns = ns;
  ar.name = name;
  ar.object = &body;
  ar.dry_run = opts.dry_run;
  ar.user = opts.user;
  LINTEL_RETURN_IF_ERROR(admission_->Admit(ar));

  std::string stored = EncodeForStorage(body);
  out.created = true;
  if (opts.dry_run) {
    out.json = std::move(stored);
    return out;
  }
  store::LeaseId lease = 0;
  if (kind.ttl) {
    LINTEL_ASSIGN_OR_RETURN(lease, LeaseFor(kind));
  }
  auto rv = store_->Create(StorageKey(kind, ns, name), stored, lease);
  if (!rv.ok()) {
    if (rv.error().code() == Code::kAlreadyExists) {
      return AlreadyExists(kind.qualified_resource() + " \"" + name + "\" already exists");
    }
    return rv.error();
  }
  if (allocation) allocation->Commit(*rv);
  out.json = WithResourceVersion(stored, *rv);
  return out;
}

void Resources::SetAllocator(const api::KindInfo& kind, std::unique_ptr<Allocator> allocator) {
  if (allocator) {
    allocators_[kind.qualified_resource()] = std::move(allocator);
  } else {
    allocators_.erase(kind.qualified_resource());
  }
}

Result<std::unique_ptr<Allocation>> Resources::Allocate(const api::KindInfo& kind, Json* obj,
                                                        const Json* old, const std::string& name) {
  auto it = allocators_.find(kind.qualified_resource());
  if (it == allocators_.end()) return std::unique_ptr<Allocation>();
  auto r = it->second->Allocate(obj, old);
  if (!r.ok() && r.error().code() == Code::kInvalid && !r.error().causes().empty()) {
    return InvalidError(kind, name, r.error().causes());
  }
  return r;
}

Result<store::LeaseId> Resources::LeaseFor(const api::KindInfo& kind) {
  std::lock_guard<std::mutex> l(lease_mu_);
  auto now = std::chrono::steady_clock::now();
  if (ttl_lease_ == 0 || now - ttl_lease_granted_ > std::chrono::minutes(1)) {
    // One extra minute covers the objects attached during the lease's first minute.
    auto lease = store_->GrantLease(*kind.ttl + std::chrono::minutes(1));
    if (!lease.ok()) return lease.error().Wrap("grant ttl lease");
    ttl_lease_ = *lease;
    ttl_lease_granted_ = now;
  }
  return ttl_lease_;
}

Result<Resources::Current> Resources::ReadCurrent(const api::KindInfo& kind, const std::string& key,
                                                  const std::string& name) {
  auto kv = store_->Get(key);
  if (!kv.ok()) {
    if (kv.error().code() == Code::kNotFound) return NotFoundError(kind, name);
    return kv.error();
  }
  auto parsed = ParseJson(kv->value);
  if (!parsed.ok() || !parsed->is_object()) return Internal("stored object " + key + " is corrupt");
  Current cur;
  cur.obj = std::move(*parsed);
  cur.rv = kv->mod_revision;
  cur.lease = kv->lease;
  cur.obj["metadata"]["resourceVersion"] = std::to_string(cur.rv);
  return cur;
}

Result<WriteResult> Resources::Update(const api::KindInfo& kind, const std::string& ns,
                                      const std::string& name, Json body, const WriteOptions& opts,
                                      Subresource sub) {
  WriteResult early;
  LINTEL_RETURN_IF_ERROR(CheckBody(kind, ns, &body, opts.validation, &early.warnings));
  std::string body_name = body["metadata"].value("name", "");
  if (body_name != name) {
    return BadRequest("the name of the object (" + body_name +
                      ") does not match the name on the URL (" + name + ")");
  }
  std::string rv_text = body["metadata"].value("resourceVersion", "");
  if (rv_text.empty()) {
    return InvalidError(kind, name,
                        {{"FieldValueInvalid", "metadata.resourceVersion",
                          "Invalid value: 0x0: must be specified for an update"}});
  }
  LINTEL_ASSIGN_OR_RETURN(Revision want, ParseRv(rv_text));
  const std::string key = StorageKey(kind, ns, name);
  LINTEL_ASSIGN_OR_RETURN(Current cur, ReadCurrent(kind, key, name));
  if (cur.rv != want) return ConflictError(kind, name);
  auto res = CommitUpdate(kind, key, cur, std::move(body), opts, sub, opts.field_manager, false);
  if (res.ok()) {
    res->warnings.insert(res->warnings.begin(), early.warnings.begin(), early.warnings.end());
  } else if (res.error().code() == Code::kConflict && res.error().causes().empty()) {
    return ConflictError(kind, name);
  }
  return res;
}

Result<WriteResult> Resources::CommitUpdate(const api::KindInfo& kind, const std::string& key,
                                            const Current& cur, Json desired,
                                            const WriteOptions& opts, Subresource sub,
                                            const std::string& manager, bool is_apply_result) {
  WriteResult out;
  const Json& old = cur.obj;
  const std::string name = NameOf(old);
  Json next;
  if (sub == Subresource::kStatus) {
    next = old;
    if (desired.contains("status") && !desired["status"].is_null()) {
      next["status"] = desired["status"];
    } else {
      next.erase("status");
    }
    if (is_apply_result && desired.contains("metadata")) {
      next["metadata"]["managedFields"] = desired["metadata"].value("managedFields", Json::array());
    }
  } else {
    next = std::move(desired);
    if (kind.has_status) {
      if (old.contains("status")) {
        next["status"] = old["status"];
      } else {
        next.erase("status");
      }
    }
  }
  Json& meta = next["metadata"];
  if (!meta.is_object()) meta = Json::object();
  const Json& old_meta = old["metadata"];
  for (const char* f : kServerOwnedMeta) {
    if (old_meta.contains(f)) {
      meta[f] = old_meta[f];
    } else {
      meta.erase(f);
    }
  }
  meta.erase("resourceVersion");
  meta.erase("selfLink");
  const bool deleting = old_meta.contains("deletionTimestamp");
  if (deleting) {
    const Json& old_fins = old_meta.contains("finalizers") ? old_meta["finalizers"] : Json::array();
    if (meta.contains("finalizers") && meta["finalizers"].is_array()) {
      for (const auto& f : meta["finalizers"]) {
        if (std::find(old_fins.begin(), old_fins.end(), f) == old_fins.end()) {
          return InvalidError(
              kind, name,
              {api::ForbiddenField("metadata.finalizers",
                                   "no new finalizers can be added if the object is "
                                   "being deleted")});
        }
      }
    }
  }
  kind.schema.ApplyDefaults(&next);
  if (kind.prepare) kind.prepare(&next, &old);
  Json old_plain = old;
  old_plain["metadata"].erase("resourceVersion");
  LINTEL_RETURN_IF_ERROR(ValidateObject(kind, &next, &old_plain, opts.validation, &out.warnings));
  std::unique_ptr<Allocation> allocation;
  if (sub == Subresource::kNone) {
    LINTEL_ASSIGN_OR_RETURN(allocation, Allocate(kind, &next, &old_plain, name));
  }
  if (DesiredStateChanged(old_plain, next)) {
    meta["generation"] = old_meta.value("generation", int64_t{1}) + 1;
  }
  bool unchanged = is_apply_result ? next == old_plain  // an apply may change only ownership
                                   : WithoutVolatileMeta(next) == WithoutVolatileMeta(old_plain);
  if (unchanged) {
    // A no-op keeps the resourceVersion and writes nothing.
    out.json = EncodeForStorage(old_plain);
    out.json = WithResourceVersion(out.json, cur.rv);
    return out;
  }
  if (!is_apply_result) SetManagedFieldsForUpdate(kind, &old_plain, &next, manager, sub, Now());

  AdmissionRequest ar;
  ar.kind = &kind;
  ar.operation = Operation::kUpdate;
  ar.ns = old_meta.value("namespace", "");
  ar.name = name;
  ar.object = &next;
  ar.old = &old_plain;
  ar.dry_run = opts.dry_run;
  ar.user = opts.user;
  LINTEL_RETURN_IF_ERROR(admission_->Admit(ar));

  std::string stored = EncodeForStorage(next);
  const Json& fins =
      next["metadata"].contains("finalizers") ? next["metadata"]["finalizers"] : Json::array();
  if (deleting && (!fins.is_array() || fins.empty())) {
    // The last finalizer is gone: the object goes.
    if (opts.dry_run) {
      out.json = WithResourceVersion(stored, cur.rv);
      return out;
    }
    auto rv = store_->Delete(key, cur.rv);
    if (!rv.ok()) return rv.error();
    out.json = WithResourceVersion(stored, *rv);
    return out;
  }
  if (opts.dry_run) {
    out.json = WithResourceVersion(stored, cur.rv);
    return out;
  }
  auto rv = store_->Update(key, stored, cur.rv, cur.lease);
  if (!rv.ok()) {
    if (rv.error().code() == Code::kNotFound) return NotFoundError(kind, name);
    return rv.error();
  }
  if (allocation) allocation->Commit(*rv);
  out.json = WithResourceVersion(stored, *rv);
  return out;
}

Result<WriteResult> Resources::Patch(const api::KindInfo& kind, const std::string& ns,
                                     const std::string& name, PatchType type,
                                     const std::string& patch_text, const WriteOptions& opts,
                                     Subresource sub) {
  if (type == PatchType::kApply && opts.field_manager.empty()) {
    return BadRequest("PATCH, application/apply-patch+yaml requires fieldManager parameter");
  }
  Result<Json> patch = type == PatchType::kApply ? ParseYaml(patch_text) : ParseJson(patch_text);
  if (!patch.ok()) return patch.error();
  if (type == PatchType::kMerge && !patch->is_object()) {
    return BadRequest("a merge patch must be a JSON object");
  }
  const std::string key = StorageKey(kind, ns, name);
  for (int attempt = 0;; ++attempt) {
    auto cur = ReadCurrent(kind, key, name);
    if (!cur.ok()) {
      if (cur.error().code() == Code::kNotFound && type == PatchType::kApply &&
          sub == Subresource::kNone) {
        auto created = ApplyCreate(kind, ns, name, *patch, opts);
        if (created.ok() || created.error().code() != Code::kAlreadyExists ||
            attempt >= kPatchRetries) {
          return created;
        }
        continue;  // created concurrently: apply to it
      }
      return cur.error();
    }
    const std::string cur_rv = std::to_string(cur->rv);
    Json patched;
    bool explicit_rv = false;
    if (type == PatchType::kMerge) {
      const Json& prv = api::At(*patch, "/metadata/resourceVersion");
      if (prv.is_string()) {
        explicit_rv = true;
        if (prv != cur_rv) return ConflictError(kind, name);
      }
      auto r = apimachinery::ApplyMergePatch(cur->obj, *patch);
      if (!r.ok()) return r.error();
      patched = std::move(*r);
    } else if (type == PatchType::kJson) {
      auto r = apimachinery::ApplyJsonPatch(cur->obj, *patch);
      if (!r.ok()) return r.error();
      patched = std::move(*r);
      const Json& prv = api::At(patched, "/metadata/resourceVersion");
      if (prv != cur_rv) {
        explicit_rv = true;
        if (!prv.is_null()) return ConflictError(kind, name);
      }
    } else {
      LINTEL_RETURN_IF_ERROR(CheckApplyConfig(kind, ns, name, *patch));
      const Json& prv = api::At(*patch, "/metadata/resourceVersion");
      if (prv.is_string()) {
        explicit_rv = true;
        if (prv != cur_rv) return ConflictError(kind, name);
      }
      auto r = ServerSideApply(kind, cur->obj, *patch, opts.field_manager, opts.force, sub, Now());
      if (!r.ok()) return r.error();
      patched = std::move(*r);
    }
    if (!patched.is_object()) return BadRequest("the patch must produce a JSON object");
    if (patched.value("apiVersion", "") != kind.api_version() ||
        patched.value("kind", "") != kind.kind) {
      return BadRequest("the patch may not change apiVersion or kind");
    }
    if (NameOf(patched) != name) {
      return BadRequest("the patch may not change metadata.name");
    }
    if (kind.namespaced && api::At(patched, "/metadata/namespace") != ns) {
      return BadRequest("the patch may not change metadata.namespace");
    }
    auto res = CommitUpdate(kind, key, *cur, std::move(patched), opts, sub, opts.field_manager,
                            type == PatchType::kApply);
    if (!res.ok() && res.error().code() == Code::kConflict && res.error().causes().empty()) {
      if (!explicit_rv && attempt < kPatchRetries) continue;
      return ConflictError(kind, name);
    }
    return res;
  }
}

Result<WriteResult> Resources::ApplyCreate(const api::KindInfo& kind, const std::string& ns,
                                           const std::string& name, const Json& applied,
                                           const WriteOptions& opts) {
  LINTEL_RETURN_IF_ERROR(CheckApplyConfig(kind, ns, name, applied));
  auto obj = ServerSideApply(kind, nullptr, applied, opts.field_manager, opts.force,
                             Subresource::kNone, Now());
  if (!obj.ok()) return obj.error();
  Json body = std::move(*obj);
  // Create() resets managedFields; keep the Apply entry computed above.
  Json managed = api::At(body, "/metadata/managedFields");
  body["metadata"]["name"] = name;
  return CreateInternal(kind, ns, std::move(body), opts, &managed);
}

}  // namespace lintel::server
