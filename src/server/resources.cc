// Reads: get, list (cache or store snapshot), selectors, continue tokens.
#include "server/resources.h"

#include <boost/beast/core/detail/base64.hpp>

#include "apimachinery/fields.h"
#include "common/time_format.h"

namespace lintel::server {

namespace {
namespace b64 = boost::beast::detail::base64;

std::string Base64Url(std::string_view in) {
  std::string out(b64::encoded_size(in.size()), '\0');
  out.resize(b64::encode(out.data(), in.data(), in.size()));
  for (auto& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

bool FromBase64Url(std::string in, std::string* out) {
  for (auto& c : in) {
    if (c == '-') {
      c = '+';
    } else if (c == '_') {
      c = '/';
    } else if (!std::isalnum(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  if (in.size() % 4 == 1) return false;
  out->assign(b64::decoded_size(in.size()) + 3, '\0');
  auto [written, read] = b64::decode(out->data(), in.data(), in.size());
  if (read != in.size()) return false;
  out->resize(written);
  return true;
}

Result<Revision> ParseRevision(const std::string& s) {
  if (s.empty() || s.size() > 18) return BadRequest("invalid resource version: \"" + s + "\"");
  Revision v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return BadRequest("invalid resource version: \"" + s + "\"");
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

std::string EncodeContinue(Revision rv, const std::string& start_key) {
  Json j = {{"v", "lintel.dev/v1"}, {"rv", rv}, {"start", start_key}};
  return Base64Url(j.dump());
}

Status DecodeContinue(const std::string& token, Revision* rv, std::string* start_key) {
  std::string raw;
  auto bad = [] { return BadRequest("continue key is not valid: the token is malformed"); };
  if (!FromBase64Url(token, &raw)) return bad();
  auto j = ParseJson(raw);
  if (!j.ok() || !j->is_object() || !(*j)["rv"].is_number_integer() ||
      !(*j)["start"].is_string() || (*j)["rv"].get<int64_t>() <= 0) {
    return bad();
  }
  *rv = (*j)["rv"].get<Revision>();
  *start_key = (*j)["start"].get<std::string>();
  return Status();
}

Resources::Resources(store::Store* store, WatchCache* cache, const api::Registry& registry,
                     Clock* clock, Admission* admission)
    : store_(store), cache_(cache), registry_(registry), clock_(clock), admission_(admission) {}

std::string Resources::Now() const { return FormatRfc3339(clock_->Now()); }

Status Resources::NotFoundError(const api::KindInfo& kind, const std::string& name) {
  return NotFound(kind.qualified_resource() + " \"" + name + "\" not found");
}

Status Resources::ConflictError(const api::KindInfo& kind, const std::string& name,
                                const std::string& detail) {
  return Conflict("Operation cannot be fulfilled on " + kind.qualified_resource() + " \"" + name +
                  "\": " + detail);
}

Result<Filter> Resources::MakeFilter(const api::KindInfo& kind, const std::string& ns,
                                     const std::string& label_selector,
                                     const std::string& field_selector) const {
  Filter f;
  if (kind.namespaced) f.ns = ns;
  if (!label_selector.empty()) {
    auto sel = apimachinery::LabelSelector::Parse(label_selector);
    if (!sel.ok()) return BadRequest(sel.error().message());
    f.labels = std::move(*sel);
  }
  if (!field_selector.empty()) {
    auto sel = apimachinery::FieldSelector::Parse(field_selector);
    if (!sel.ok()) return BadRequest(sel.error().message());
    for (const auto& r : sel->requirements()) {
      bool known = r.field == "metadata.name" || r.field == "metadata.namespace" ||
                   kind.field_selectors.count(r.field) > 0;
      if (!known) {
        return BadRequest("field label not supported: " + r.field);
      }
      f.fields.push_back({r.field, r.op != apimachinery::FieldOperator::kNotEquals, r.value});
    }
  }
  return f;
}

Result<std::string> Resources::Get(const api::KindInfo& kind, const std::string& ns,
                                   const std::string& name, const std::string& rv) {
  if (rv.empty()) {
    LINTEL_RETURN_IF_ERROR(cache_->Sync());
  } else if (rv != "0") {
    LINTEL_ASSIGN_OR_RETURN(Revision want, ParseRevision(rv));
    LINTEL_RETURN_IF_ERROR(cache_->WaitFor(want, std::chrono::seconds(3)));
  }
  ObjectPtr obj = cache_->Get(kind, StorageKey(kind, ns, name));
  if (!obj) return NotFoundError(kind, name);
  return obj->json;
}

Result<ListOutput> Resources::List(const api::KindInfo& kind, const std::string& ns,
                                   const ListOptions& opts) {
  LINTEL_ASSIGN_OR_RETURN(Filter filter,
                          MakeFilter(kind, ns, opts.label_selector, opts.field_selector));
  if (opts.limit < 0) return BadRequest("limit must not be negative");
  ListOutput out;
  Revision snapshot = 0;
  std::string start_after;
  if (!opts.continue_token.empty()) {
    if (!opts.resource_version.empty() && opts.resource_version != "0") {
      return BadRequest("specifying resource version is not allowed when using continue");
    }
    LINTEL_RETURN_IF_ERROR(DecodeContinue(opts.continue_token, &snapshot, &start_after));
    if (start_after.compare(0, NamespacePrefix(kind, filter.ns).size(),
                            NamespacePrefix(kind, filter.ns)) != 0) {
      return BadRequest("continue key is not valid: it does not belong to this list");
    }
  } else if (opts.resource_version.empty()) {
    LINTEL_RETURN_IF_ERROR(cache_->Sync());
  } else if (opts.resource_version != "0") {
    LINTEL_ASSIGN_OR_RETURN(Revision want, ParseRevision(opts.resource_version));
    bool exact = opts.resource_version_match == "Exact" ||
                 (opts.limit > 0 && opts.resource_version_match != "NotOlderThan");
    if (exact) {
      snapshot = want;
    } else {
      LINTEL_RETURN_IF_ERROR(cache_->WaitFor(want, std::chrono::seconds(3)));
    }
  }

  // The cache answers unless a past snapshot is needed that it no longer holds.
  bool from_cache = snapshot == 0 ||
                    (cache_->revision() >= snapshot && cache_->KindRevision(kind) <= snapshot);
  if (from_cache) {
    auto res = cache_->List(kind, filter, start_after, opts.limit);
    out.rv = snapshot != 0 ? snapshot : res.rv;
    out.items.reserve(res.items.size());
    for (const auto& o : res.items) out.items.push_back(o->json);
    out.cached = std::move(res.items);
    if (res.more) out.continue_token = EncodeContinue(out.rv, res.last_key);
    return out;
  }

  // A consistent page at `snapshot` from the store's history.
  const std::string prefix = NamespacePrefix(kind, filter.ns);
  std::string after = start_after;
  for (;;) {
    store::ListOptions so;
    so.start_after = after;
    so.revision = snapshot;
    so.limit = opts.limit > 0 ? std::max<int64_t>(opts.limit, 64) : 0;
    auto page = store_->List(prefix, so);
    if (!page.ok()) {
      if (page.error().code() == Code::kGone) {
        return Gone(
            "The provided continue parameter is too old to display a consistent list result. "
            "You can start a new list without the continue parameter.");
      }
      return page.error();
    }
    for (auto& kv : page->kvs) {
      after = kv.key;
      auto obj = DecodeCached(kind, kv.key, kv.value, kv.mod_revision);
      if (!obj.ok()) continue;
      if (!filter.Matches(kind, **obj)) continue;
      out.items.push_back((*obj)->json);
      if (opts.limit > 0 && static_cast<int64_t>(out.items.size()) >= opts.limit) break;
    }
    bool full = opts.limit > 0 && static_cast<int64_t>(out.items.size()) >= opts.limit;
    if (full) {
      bool more = page->more || after != page->kvs.back().key;
      if (more) out.continue_token = EncodeContinue(snapshot, after);
      break;
    }
    if (!page->more) break;
  }
  out.rv = snapshot;
  return out;
}

}  // namespace lintel::server
