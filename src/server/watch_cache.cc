#include "server/watch_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace lintel::server {

std::string_view WatchEventTypeName(WatchEventType t) {
  switch (t) {
    case WatchEventType::kAdded: return "ADDED";
    case WatchEventType::kModified: return "MODIFIED";
    case WatchEventType::kDeleted: return "DELETED";
  }
  return "";
}

bool IsIndexedField(std::string_view field) {
  return field == "status.host" || field == "spec.host" || field == "metadata.name";
}

bool Filter::Matches(const api::KindInfo& kind, const CachedObject& obj) const {
  if (!ns.empty() && obj.ns != ns) return false;
  for (const auto& r : fields) {
    auto v = FieldValue(kind, obj, r.field);
    std::string_view value = v ? *v : std::string_view();
    if ((value == r.value) != r.equals) return false;
  }
  return labels.Empty() || labels.Matches(obj.labels);
}

std::shared_ptr<const std::string> CacheEvent::Encoded(
    const std::string& key, const std::function<std::string()>& make) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [k, v] : encoded_) {
    if (k == key) return v;
  }
  auto s = std::make_shared<const std::string>(make());
  encoded_.emplace_back(key, s);
  return s;
}

CacheWatch::~CacheWatch() {
  if (cache_) cache_->Unwatch(kind_, id_);
}

WatchCache::WatchCache(store::Store* store, const api::Registry& registry, Options options)
    : store_(store), registry_(registry), options_(options) {
  for (const auto& k : registry_.kinds()) {
    auto ks = std::make_unique<KindState>();
    ks->kind = &k;
    ks->prefix = KindPrefix(k);
    by_prefix_[ks->prefix] = ks.get();
    kinds_.push_back(std::move(ks));
  }
}

WatchCache::~WatchCache() { Stop(); }

WatchCache::KindState* WatchCache::StateFor(const api::KindInfo& kind) const {
  for (const auto& ks : kinds_) {
    if (ks->kind == &kind) return ks.get();
  }
  // A KindInfo from another registry instance: match by resource.
  for (const auto& ks : kinds_) {
    if (ks->kind->plural == kind.plural && ks->kind->group == kind.group) return ks.get();
  }
  return nullptr;
}

WatchCache::KindState* WatchCache::StateForKey(std::string_view key) const {
  // "/registry/<group>/<plural>/..." -> the prefix up to and including the third '/'.
  size_t slashes = 0, i = 0;
  for (; i < key.size(); ++i) {
    if (key[i] == '/' && ++slashes == 4) break;
  }
  if (slashes < 4) return nullptr;
  auto it = by_prefix_.find(std::string(key.substr(0, i + 1)));
  return it == by_prefix_.end() ? nullptr : it->second;
}

Status WatchCache::Start() {
  LINTEL_RETURN_IF_ERROR(Load());
  bookmark_thread_ = std::thread([this] { BookmarkLoop(); });
  return Status();
}

Status WatchCache::Load() {
  // Read everything at one revision, page by page, then watch from it.
  Revision at = 0;
  std::string after;
  for (auto& ks : kinds_) {
    std::unique_lock<std::shared_mutex> l(ks->mu);
    ks->objects.clear();
    ks->ring.clear();
  }
  for (;;) {
    store::ListOptions opts;
    opts.start_after = after;
    opts.limit = options_.initial_list_page;
    opts.revision = at;
    auto page = store_->List("/registry/", opts);
    if (!page.ok()) return page.error().Wrap("watch cache: initial list");
    at = page->revision;
    for (auto& kv : page->kvs) {
      KindState* ks = StateForKey(kv.key);
      if (!ks) continue;  // a kind this server does not serve
      auto obj = DecodeCached(*ks->kind, kv.key, kv.value, kv.mod_revision);
      if (!obj.ok()) {
        spdlog::error("watch cache: skipping {}: {}", kv.key, obj.error().message());
        continue;
      }
      std::unique_lock<std::shared_mutex> l(ks->mu);
      ks->objects[kv.key] = std::move(*obj);
    }
    if (!page->more || page->kvs.empty()) break;
    after = page->kvs.back().key;
  }
  for (auto& ks : kinds_) {
    std::unique_lock<std::shared_mutex> l(ks->mu);
    ks->floor = at;
    ks->last_event_rv = 0;
  }
  LINTEL_RETURN_IF_ERROR(LoadHistory(at));
  {
    std::lock_guard<std::mutex> l(rev_mu_);
    revision_ = at;
  }
  rev_cv_.notify_all();
  store::WatchCallbacks cbs;
  cbs.on_events = [this](std::vector<store::Event>&& events) { OnStoreEvents(std::move(events)); };
  cbs.on_error = [this](const Status& s) { OnStoreError(s); };
  auto w = store_->WatchPrefix("/registry/", at, std::move(cbs));
  if (!w.ok()) return w.error().Wrap("watch cache: watch");
  store_watch_ = std::move(*w);
  spdlog::info("watch cache: loaded at revision {}", at);
  return Status();
}

Status WatchCache::LoadHistory(Revision at) {
  // Rebuild each kind's event window from the store's history (everything not
  // yet compacted), so that watches resume across a server restart.
  auto compacted = store_->CompactedRevision();
  if (!compacted.ok()) return compacted.error().Wrap("watch cache: history");
  const Revision from = *compacted;
  if (from >= at) return Status();
  std::mutex mu;
  std::condition_variable cv;
  std::vector<store::Event> history;
  bool done = false;
  Status failed;
  store::WatchCallbacks cbs;
  cbs.on_events = [&](std::vector<store::Event>&& events) {
    std::lock_guard<std::mutex> l(mu);
    for (auto& e : events) {
      if (e.revision() > at) {
        done = true;
        break;
      }
      history.push_back(std::move(e));
      if (history.back().revision() == at) done = true;
    }
    cv.notify_all();
  };
  cbs.on_error = [&](const Status& s) {
    std::lock_guard<std::mutex> l(mu);
    failed = s;
    done = true;
    cv.notify_all();
  };
  auto w = store_->WatchPrefix("/registry/", from, std::move(cbs));
  if (!w.ok()) return w.error().Wrap("watch cache: history");
  {
    std::unique_lock<std::mutex> l(mu);
    if (!cv.wait_for(l, std::chrono::seconds(60), [&] { return done; })) {
      return Timeout("watch cache: reading history timed out");
    }
  }
  w->reset();
  if (!failed.ok()) return failed.Wrap("watch cache: history");
  for (auto& ev : history) {
    KindState* ks = StateForKey(ev.kv.key);
    if (!ks) continue;
    ObjectPtr prev;
    if (ev.prev) {
      auto p = DecodeCached(*ks->kind, ev.prev->key, ev.prev->value, ev.prev->mod_revision);
      if (p.ok()) prev = *p;
    }
    ObjectPtr obj;
    if (ev.type == store::EventType::kDelete) {
      if (!prev) continue;
      obj = Restamp(*prev, ev.prev->value, ev.revision());
    } else {
      auto o = DecodeCached(*ks->kind, ev.kv.key, ev.kv.value, ev.revision());
      if (!o.ok()) continue;
      obj = *o;
    }
    std::unique_lock<std::shared_mutex> l(ks->mu);
    ks->ring.push_back(std::make_shared<CacheEvent>(ev.revision(), std::move(obj), std::move(prev),
                                                    ev.type == store::EventType::kDelete));
    ks->last_event_rv = ev.revision();
  }
  for (auto& ks : kinds_) {
    std::unique_lock<std::shared_mutex> l(ks->mu);
    ks->floor = from;
    while (ks->ring.size() > options_.events_per_kind) {
      ks->floor = ks->ring.front()->rv();
      ks->ring.pop_front();
    }
  }
  spdlog::info("watch cache: {} events of history since revision {}", history.size(), from);
  return Status();
}

void WatchCache::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> l(bookmark_mu_);
  }
  bookmark_cv_.notify_all();
  if (bookmark_thread_.joinable()) bookmark_thread_.join();
  store_watch_.reset();
  EndAllWatchers(Unavailable("server is shutting down"));
}

Revision WatchCache::revision() const {
  std::lock_guard<std::mutex> l(rev_mu_);
  return revision_;
}

Status WatchCache::WaitFor(Revision rev, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(rev_mu_);
  if (rev_cv_.wait_for(l, timeout, [&] { return revision_ >= rev; })) return Status();
  return Timeout("Too large resource version: " + std::to_string(rev) +
                 ", current: " + std::to_string(revision_));
}

Status WatchCache::Sync(std::chrono::milliseconds timeout) const {
  auto cur = store_->CurrentRevision();
  if (!cur.ok()) return cur.error();
  return WaitFor(*cur, timeout);
}

void WatchCache::OnStoreEvents(std::vector<store::Event>&& events) {
  if (events.empty()) return;
  Revision last = 0;
  // Events of one batch usually touch one kind; lock per event keeps it simple.
  for (auto& ev : events) {
    last = std::max(last, ev.revision());
    KindState* ks = StateForKey(ev.kv.key);
    if (!ks) continue;
    ApplyEvent(ks, std::move(ev));
  }
  {
    std::lock_guard<std::mutex> l(rev_mu_);
    revision_ = std::max(revision_, last);
  }
  rev_cv_.notify_all();
}

void WatchCache::OnStoreError(const Status& status) {
  if (stopping_) return;
  spdlog::warn("watch cache: store watch ended ({}); reloading", status.ToString());
  reload_needed_ = true;
  bookmark_cv_.notify_all();
}

void WatchCache::ApplyEvent(KindState* ks, store::Event&& ev) {
  const Revision rv = ev.revision();
  EventPtr event;
  std::unique_lock<std::shared_mutex> l(ks->mu);
  auto it = ks->objects.find(ev.kv.key);
  ObjectPtr prev = it == ks->objects.end() ? nullptr : it->second;
  if (ev.type == store::EventType::kDelete) {
    if (!prev) return;  // never seen: nothing to tell anyone
    std::string_view stored = ev.prev ? std::string_view(ev.prev->value) : std::string_view();
    ObjectPtr last = stored.empty() ? prev : Restamp(*prev, stored, rv);
    ks->objects.erase(it);
    event = std::make_shared<CacheEvent>(rv, std::move(last), prev, true);
  } else {
    auto obj = DecodeCached(*ks->kind, ev.kv.key, ev.kv.value, rv);
    if (!obj.ok()) {
      spdlog::error("watch cache: {}", obj.error().message());
      return;
    }
    if (it == ks->objects.end()) {
      ks->objects.emplace(ev.kv.key, *obj);
    } else {
      it->second = *obj;
    }
    event = std::make_shared<CacheEvent>(rv, std::move(*obj), prev, false);
  }
  ks->ring.push_back(event);
  ks->last_event_rv = rv;
  while (ks->ring.size() > options_.events_per_kind) {
    ks->floor = ks->ring.front()->rv();
    ks->ring.pop_front();
  }
  FanOut(ks, event);
}

namespace {

// What a watcher whose filter is `f` sees of an event.
std::optional<WatchEventType> Classify(const api::KindInfo& kind, const Filter& f,
                                       const CacheEvent& ev) {
  bool now = !ev.deleted() && f.Matches(kind, *ev.object());
  bool before = ev.prev() && f.Matches(kind, *ev.prev());
  if (ev.deleted()) {
    if (before) return WatchEventType::kDeleted;
    return std::nullopt;
  }
  if (now && before) return WatchEventType::kModified;
  if (now) return WatchEventType::kAdded;
  if (before) return WatchEventType::kDeleted;  // no longer matches
  return std::nullopt;
}

std::string IndexKeyFor(const Filter& f) {
  for (const auto& r : f.fields) {
    if (r.equals && IsIndexedField(r.field)) return r.field + "=" + r.value;
  }
  return "";
}

}  // namespace

void WatchCache::FanOut(KindState* ks, const EventPtr& ev) {
  if (ks->watchers.empty()) return;
  std::vector<uint64_t> dead;
  auto deliver = [&](uint64_t id) {
    auto it = ks->watchers.find(id);
    if (it == ks->watchers.end()) return;
    auto type = Classify(*ks->kind, it->second.filter, *ev);
    if (!type) {
      if (!it->second.sink->Alive()) dead.push_back(id);
      return;
    }
    if (!it->second.sink->OnEvent(*type, ev)) dead.push_back(id);
  };
  for (uint64_t id : ks->unindexed) deliver(id);
  if (!ks->indexed.empty()) {
    // Only watchers indexed on a value the object has (now or before) can match.
    std::vector<uint64_t> candidates;
    auto collect = [&](const ObjectPtr& obj) {
      if (!obj) return;
      for (std::string_view field : {"status.host", "spec.host", "metadata.name"}) {
        auto v = FieldValue(*ks->kind, *obj, field);
        if (!v) continue;
        auto it = ks->indexed.find(std::string(field) + "=" + std::string(*v));
        if (it != ks->indexed.end()) {
          candidates.insert(candidates.end(), it->second.begin(), it->second.end());
        }
      }
    };
    collect(ev->object());
    collect(ev->prev());
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    for (uint64_t id : candidates) deliver(id);
  }
  for (uint64_t id : dead) RemoveWatcher(ks, id);
}

void WatchCache::RemoveWatcher(KindState* ks, uint64_t id) {
  auto it = ks->watchers.find(id);
  if (it == ks->watchers.end()) return;
  if (it->second.index_key.empty()) {
    auto& v = ks->unindexed;
    v.erase(std::remove(v.begin(), v.end(), id), v.end());
  } else {
    auto idx = ks->indexed.find(it->second.index_key);
    if (idx != ks->indexed.end()) {
      auto& v = idx->second;
      v.erase(std::remove(v.begin(), v.end(), id), v.end());
      if (v.empty()) ks->indexed.erase(idx);
    }
  }
  ks->watchers.erase(it);
}

void WatchCache::Unwatch(const api::KindInfo* kind, uint64_t id) {
  KindState* ks = StateFor(*kind);
  if (!ks) return;
  std::unique_lock<std::shared_mutex> l(ks->mu);
  RemoveWatcher(ks, id);
}

ObjectPtr WatchCache::Get(const api::KindInfo& kind, const std::string& key) const {
  KindState* ks = StateFor(kind);
  if (!ks) return nullptr;
  std::shared_lock<std::shared_mutex> l(ks->mu);
  auto it = ks->objects.find(key);
  return it == ks->objects.end() ? nullptr : it->second;
}

WatchCache::ListResult WatchCache::List(const api::KindInfo& kind, const Filter& filter,
                                        std::string_view start_after, int64_t limit) const {
  ListResult out;
  KindState* ks = StateFor(kind);
  if (!ks) return out;
  std::string prefix = NamespacePrefix(kind, filter.ns);
  std::shared_lock<std::shared_mutex> l(ks->mu);
  out.rv = revision();
  auto it = start_after.empty() ? ks->objects.lower_bound(prefix)
                                : ks->objects.upper_bound(start_after);
  // A field selector on metadata.name needs at most one lookup.
  for (; it != ks->objects.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (limit > 0 && static_cast<int64_t>(out.items.size()) >= limit) {
      out.more = true;
      break;
    }
    out.last_key = it->first;
    if (filter.Matches(kind, *it->second)) out.items.push_back(it->second);
  }
  return out;
}

Revision WatchCache::KindRevision(const api::KindInfo& kind) const {
  KindState* ks = StateFor(kind);
  if (!ks) return 0;
  std::shared_lock<std::shared_mutex> l(ks->mu);
  return ks->last_event_rv;
}

size_t WatchCache::Count(const api::KindInfo& kind) const {
  KindState* ks = StateFor(kind);
  if (!ks) return 0;
  std::shared_lock<std::shared_mutex> l(ks->mu);
  return ks->objects.size();
}

Result<std::unique_ptr<CacheWatch>> WatchCache::Watch(const api::KindInfo& kind, Filter filter,
                                                      Revision from, bool allow_bookmarks,
                                                      std::shared_ptr<WatchSink> sink) {
  KindState* ks = StateFor(kind);
  if (!ks) return NotFound("no watch cache for " + kind.plural);
  if (stopping_) return Unavailable("server is shutting down");
  std::unique_lock<std::shared_mutex> l(ks->mu);
  if (from != 0) {
    if (from < ks->floor) {
      return Gone("too old resource version: " + std::to_string(from) + " (" +
                  std::to_string(ks->floor) + ")");
    }
    // Replay the window after `from`.
    auto first = std::upper_bound(ks->ring.begin(), ks->ring.end(), from,
                                  [](Revision r, const EventPtr& e) { return r < e->rv(); });
    for (auto it = first; it != ks->ring.end(); ++it) {
      auto type = Classify(kind, filter, **it);
      if (type && !sink->OnEvent(*type, *it)) return Unavailable("watch client went away");
    }
  } else {
    std::string prefix = NamespacePrefix(kind, filter.ns);
    for (auto it = ks->objects.lower_bound(prefix); it != ks->objects.end(); ++it) {
      if (it->first.compare(0, prefix.size(), prefix) != 0) break;
      if (!filter.Matches(kind, *it->second)) continue;
      auto ev = std::make_shared<CacheEvent>(it->second->rv, it->second, nullptr, false);
      if (!sink->OnEvent(WatchEventType::kAdded, ev)) return Unavailable("watch client went away");
    }
    sink->OnInitialEventsEnd(revision());
  }
  uint64_t id = next_id_++;
  Watcher w;
  w.index_key = IndexKeyFor(filter);
  w.filter = std::move(filter);
  w.sink = std::move(sink);
  w.bookmarks = allow_bookmarks;
  if (w.index_key.empty()) {
    ks->unindexed.push_back(id);
  } else {
    ks->indexed[w.index_key].push_back(id);
  }
  ks->watchers.emplace(id, std::move(w));
  return std::make_unique<CacheWatch>(this, ks->kind, id);
}

size_t WatchCache::WatcherCount() const {
  size_t n = 0;
  for (const auto& ks : kinds_) {
    std::shared_lock<std::shared_mutex> l(ks->mu);
    n += ks->watchers.size();
  }
  return n;
}

void WatchCache::EndAllWatchers(const Status& why) {
  for (auto& ks : kinds_) {
    std::unordered_map<uint64_t, Watcher> watchers;
    {
      std::unique_lock<std::shared_mutex> l(ks->mu);
      watchers.swap(ks->watchers);
      ks->indexed.clear();
      ks->unindexed.clear();
    }
    for (auto& [id, w] : watchers) w.sink->OnEnd(why);
  }
}

void WatchCache::BookmarkLoop() {
  std::unique_lock<std::mutex> l(bookmark_mu_);
  while (!stopping_) {
    bookmark_cv_.wait_for(l, options_.bookmark_interval,
                          [this] { return stopping_.load() || reload_needed_.load(); });
    if (stopping_) break;
    l.unlock();
    if (reload_needed_.exchange(false)) {
      store_watch_.reset();
      EndAllWatchers(Gone("the watch cache was reloaded; list again"));
      Status s = Load();
      if (!s.ok()) {
        spdlog::error("watch cache: reload failed: {}; retrying", s.ToString());
        reload_needed_ = true;
        std::this_thread::sleep_for(std::chrono::seconds(1));
      }
    } else {
      Revision rv = revision();
      for (auto& ks : kinds_) {
        std::vector<uint64_t> dead;
        std::unique_lock<std::shared_mutex> kl(ks->mu);
        for (auto& [id, w] : ks->watchers) {
          if (!w.sink->Alive() || (w.bookmarks && !w.sink->OnBookmark(rv))) dead.push_back(id);
        }
        for (uint64_t id : dead) RemoveWatcher(ks.get(), id);
      }
    }
    l.lock();
  }
}

}  // namespace lintel::server
