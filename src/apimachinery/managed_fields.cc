#include "apimachinery/managed_fields.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <system_error>

#include "common/check.h"
#include "common/time_format.h"

namespace lintel::apimachinery {

// ---------------------------------------------------------------------------------------------
// Encoding values the way Go does, so that k:/v: keys and conflict paths read as kube's.

namespace {

constexpr char kHex[] = "0123456789abcdef";

// encoding/json (and jsoniter's standard-library mode, which structured-merge-diff uses):
// short escapes for " \ \n \r \t, \u00XX for other controls, and HTML-safe <, >, &.
void AppendGoJsonString(std::string_view s, std::string& out) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
      case '>':
      case '&':
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
                   (static_cast<unsigned char>(s[i + 2]) == 0xA8 ||
                    static_cast<unsigned char>(s[i + 2]) == 0xA9)) {
          out += static_cast<unsigned char>(s[i + 2]) == 0xA8 ? "\\u2028" : "\\u2029";
          i += 2;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

// Go's float formatting: shortest digits, fixed notation unless tiny or huge.
std::string GoFloat(double f) {
  char buf[64];
  double abs = f < 0 ? -f : f;
  bool exponent = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  auto res = std::to_chars(buf, buf + sizeof(buf), f,
                           exponent ? std::chars_format::scientific : std::chars_format::fixed);
  std::string s(buf, res.ptr);
  // Go writes "1e-7" where to_chars writes "1e-07".
  size_t n = s.size();
  if (exponent && n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') {
    s.erase(n - 2, 1);
  }
  return s;
}

void AppendGoJson(const Json& v, std::string& out) {
  switch (v.type()) {
    case Json::value_t::null:
      out += "null";
      break;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      break;
    case Json::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      break;
    case Json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      break;
    case Json::value_t::number_float:
      out += GoFloat(v.get<double>());
      break;
    case Json::value_t::string:
      AppendGoJsonString(v.get_ref<const std::string&>(), out);
      break;
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const Json& item : v) {
        if (!first) {
          out += ',';
        }
        first = false;
        AppendGoJson(item, out);
      }
      out += ']';
      break;
    }
    case Json::value_t::object: {  // nlohmann keeps object keys sorted, as Go writes them
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) {
          out += ',';
        }
        first = false;
        AppendGoJsonString(key, out);
        out += ':';
        AppendGoJson(item, out);
      }
      out += '}';
      break;
    }
    default:  // binary and discarded values never come from JSON text
      out += "null";
  }
}

std::string GoJson(const Json& v) {
  std::string out;
  AppendGoJson(v, out);
  return out;
}

// fmt's %q for the strings kube prints in paths and manager names.
std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 0xF];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

// structured-merge-diff's value.ToString, used inside [key=value] path elements.
std::string ValueToString(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string:
      return GoQuote(v.get_ref<const std::string&>());
    case Json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const Json& item : v) {
        if (!first) {
          out += ',';
        }
        first = false;
        out += ValueToString(item);
      }
      return out + "]";
    }
    case Json::value_t::object: {
      std::string out;
      for (const auto& [key, item] : v.items()) {
        out += key + "=" + ValueToString(item);
      }
      return out;
    }
    default:
      return GoJson(v);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// PathElement

PathElement PathElement::Field(std::string name) {
  return PathElement(Kind::kField, std::move(name), Json(), 0);
}

PathElement PathElement::Key(const Json& key_fields) {
  return PathElement(Kind::kKey, GoJson(key_fields), key_fields, 0);
}

PathElement PathElement::Value(const Json& value) {
  return PathElement(Kind::kValue, GoJson(value), value, 0);
}

PathElement PathElement::Index(int64_t index) {
  return PathElement(Kind::kIndex, std::to_string(index), Json(), index);
}

Result<PathElement> PathElement::FromFieldsV1Key(std::string_view key) {
  if (key.size() < 2) {
    return BadRequest("fieldsV1 key " + GoQuote(key) + " is not a path element");
  }
  if (key[1] != ':') {
    return Status(Code::kNotSupported, "unknown path element type");
  }
  std::string_view rest = key.substr(2);
  switch (key[0]) {
    case 'f':
      return Field(std::string(rest));
    case 'k':
    case 'v': {
      auto parsed = ParseJson(rest);
      if (!parsed.ok()) {
        return BadRequest("fieldsV1 key " + GoQuote(key) + ": " + parsed.error().message());
      }
      if (key[0] == 'v') {
        return Value(*parsed);
      }
      if (!parsed->is_object()) {
        return BadRequest("fieldsV1 key " + GoQuote(key) + ": keys must be a JSON object");
      }
      return Key(*parsed);
    }
    case 'i': {
      int64_t index = 0;
      auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), index);
      if (ec != std::errc() || ptr != rest.data() + rest.size() || rest.empty()) {
        return BadRequest("fieldsV1 key " + GoQuote(key) + ": index is not an integer");
      }
      return Index(index);
    }
    default:
      return Status(Code::kNotSupported, "unknown path element type");
  }
}

std::string PathElement::FieldsV1Key() const {
  switch (kind_) {
    case Kind::kField:
      return "f:" + text_;
    case Kind::kKey:
      return "k:" + text_;
    case Kind::kValue:
      return "v:" + text_;
    case Kind::kIndex:
      return "i:" + text_;
  }
  return text_;
}

std::string PathElement::ToString() const {
  switch (kind_) {
    case Kind::kField:
      return "." + text_;
    case Kind::kKey: {
      std::string out = "[";
      bool first = true;
      for (const auto& [name, value] : json_.items()) {
        if (!first) {
          out += ',';
        }
        first = false;
        out += name + "=" + ValueToString(value);
      }
      return out + "]";
    }
    case Kind::kValue:
      return "[=" + ValueToString(json_) + "]";
    case Kind::kIndex:
      return "[" + text_ + "]";
  }
  return text_;
}

std::strong_ordering PathElement::operator<=>(const PathElement& other) const {
  if (kind_ != other.kind_) {
    return kind_ <=> other.kind_;
  }
  if (kind_ == Kind::kIndex) {
    return index_ <=> other.index_;
  }
  return text_.compare(other.text_) <=> 0;
}

bool PathElement::operator==(const PathElement& other) const {
  return kind_ == other.kind_ && text_ == other.text_;
}

std::string PathToString(const Path& path) {
  std::string out;
  for (const PathElement& pe : path) {
    out += pe.ToString();
  }
  return out;
}

Path FieldPath(std::string_view dotted) {
  Path path;
  while (!dotted.empty()) {
    if (dotted.front() == '.') {
      dotted.remove_prefix(1);
      continue;
    }
    size_t dot = dotted.find('.');
    path.push_back(PathElement::Field(std::string(dotted.substr(0, dot))));
    dotted.remove_prefix(dot == std::string_view::npos ? dotted.size() : dot);
  }
  return path;
}

// ---------------------------------------------------------------------------------------------
// FieldSet

// Gives the walkers below the trie's entries without widening FieldSet's public interface.
struct FieldSetAccess {
  using Entry = FieldSet::Entry;
  static const std::vector<Entry>& Entries(const FieldSet& s) { return s.entries_; }
  static const Entry* Find(const FieldSet& s, const PathElement& pe) { return s.Find(pe); }
  static Entry& FindOrAdd(FieldSet& s, const PathElement& pe) { return s.FindOrAdd(pe); }
  static void Append(FieldSet& s, Entry&& e) { s.entries_.push_back(std::move(e)); }
};

const FieldSet::Entry* FieldSet::Find(const PathElement& pe) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), pe,
                             [](const Entry& e, const PathElement& p) { return e.element < p; });
  return it != entries_.end() && it->element == pe ? &*it : nullptr;
}

FieldSet::Entry& FieldSet::FindOrAdd(const PathElement& pe) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), pe,
                             [](const Entry& e, const PathElement& p) { return e.element < p; });
  if (it != entries_.end() && it->element == pe) {
    return *it;
  }
  return *entries_.insert(it, Entry{pe, false, FieldSet()});
}

void FieldSet::Insert(const Path& path) {
  if (path.empty()) {
    return;  // the root is never owned
  }
  FieldSet* set = this;
  for (size_t i = 0; i < path.size(); ++i) {
    Entry& e = set->FindOrAdd(path[i]);
    if (i + 1 == path.size()) {
      e.member = true;
    } else {
      set = &e.children;
    }
  }
}

bool FieldSet::Contains(const Path& path) const {
  const FieldSet* set = this;
  for (size_t i = 0; i < path.size(); ++i) {
    const Entry* e = set->Find(path[i]);
    if (e == nullptr) {
      return false;
    }
    if (i + 1 == path.size()) {
      return e->member;
    }
    set = &e->children;
  }
  return false;
}

bool FieldSet::ContainsPrefix(const Path& path) const {
  const FieldSet* set = this;
  for (const PathElement& pe : path) {
    const Entry* e = set->Find(pe);
    if (e == nullptr) {
      return false;
    }
    set = &e->children;
  }
  return true;  // entries are never empty, so reaching the end means a member at or below
}

size_t FieldSet::Size() const {
  size_t n = 0;
  for (const Entry& e : entries_) {
    n += (e.member ? 1 : 0) + e.children.Size();
  }
  return n;
}

FieldSet FieldSet::Union(const FieldSet& other) const {
  FieldSet out;
  out.entries_.reserve(std::max(entries_.size(), other.entries_.size()));
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() || b != other.entries_.end()) {
    if (b == other.entries_.end() || (a != entries_.end() && a->element < b->element)) {
      out.entries_.push_back(*a++);
    } else if (a == entries_.end() || b->element < a->element) {
      out.entries_.push_back(*b++);
    } else {
      out.entries_.push_back(
          Entry{a->element, a->member || b->member, a->children.Union(b->children)});
      ++a;
      ++b;
    }
  }
  return out;
}

FieldSet FieldSet::Intersection(const FieldSet& other) const {
  FieldSet out;
  auto a = entries_.begin();
  auto b = other.entries_.begin();
  while (a != entries_.end() && b != other.entries_.end()) {
    if (a->element < b->element) {
      ++a;
    } else if (b->element < a->element) {
      ++b;
    } else {
      Entry e{a->element, a->member && b->member, a->children.Intersection(b->children)};
      if (e.member || !e.children.Empty()) {
        out.entries_.push_back(std::move(e));
      }
      ++a;
      ++b;
    }
  }
  return out;
}

namespace {

// Difference and RecursiveDifference differ only in what a member of `b` removes.
void DifferenceInto(const std::vector<FieldSet::Entry>& a, const FieldSet& b, bool recursive,
                    FieldSet& out) {
  for (const FieldSet::Entry& e : a) {
    const FieldSet::Entry* other = FieldSetAccess::Find(b, e.element);
    if (other == nullptr) {
      FieldSetAccess::Append(out, FieldSet::Entry(e));
      continue;
    }
    if (recursive && other->member) {
      continue;
    }
    FieldSet::Entry kept{e.element, e.member && !other->member,
                         recursive ? e.children.RecursiveDifference(other->children)
                                   : e.children.Difference(other->children)};
    if (kept.member || !kept.children.Empty()) {
      FieldSetAccess::Append(out, std::move(kept));
    }
  }
}

}  // namespace

FieldSet FieldSet::Difference(const FieldSet& other) const {
  FieldSet out;
  DifferenceInto(entries_, other, /*recursive=*/false, out);
  return out;
}

FieldSet FieldSet::RecursiveDifference(const FieldSet& other) const {
  FieldSet out;
  DifferenceInto(entries_, other, /*recursive=*/true, out);
  return out;
}

void FieldSet::CollectPaths(Path& prefix, std::vector<Path>& out) const {
  for (const Entry& e : entries_) {
    if (!e.member) {
      continue;
    }
    prefix.push_back(e.element);
    out.push_back(prefix);
    prefix.pop_back();
  }
  for (const Entry& e : entries_) {
    if (e.children.Empty()) {
      continue;
    }
    prefix.push_back(e.element);
    e.children.CollectPaths(prefix, out);
    prefix.pop_back();
  }
}

std::vector<Path> FieldSet::Paths() const {
  std::vector<Path> out;
  Path prefix;
  CollectPaths(prefix, out);
  return out;
}

std::string FieldSet::ToString() const {
  std::string out;
  for (const Path& p : Paths()) {
    out += PathToString(p) + "\n";
  }
  return out;
}

bool FieldSet::operator==(const FieldSet& other) const {
  if (entries_.size() != other.entries_.size()) {
    return false;
  }
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& a = entries_[i];
    const Entry& b = other.entries_[i];
    if (!(a.element == b.element) || a.member != b.member || !(a.children == b.children)) {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// FieldsV1

Json ToFieldsV1(const FieldSet& set) {
  Json out = Json::object();
  for (const FieldSet::Entry& e : FieldSetAccess::Entries(set)) {
    Json child = ToFieldsV1(e.children);
    if (e.member && !e.children.Empty()) {
      child["."] = Json::object();
    }
    out[e.element.FieldsV1Key()] = std::move(child);
  }
  return out;
}

namespace {

// Reads one level; `member` says whether the node itself was listed ("." or no children).
Status ReadFieldsV1(const Json& node, const std::string& where, int depth, FieldSet& out,
                    bool& member) {
  if (!node.is_object()) {
    return BadRequest("malformed fieldsV1 at " + (where.empty() ? "the root" : where) +
                      ": expected an object");
  }
  if (depth > kMaxJsonDepth) {
    return BadRequest("malformed fieldsV1: nested too deeply");
  }
  member = false;
  bool any_child = false;
  for (const auto& [key, value] : node.items()) {
    if (key == ".") {
      member = true;
      continue;
    }
    auto pe = PathElement::FromFieldsV1Key(key);
    if (!pe.ok()) {
      if (pe.error().code() == Code::kNotSupported) {
        continue;  // a newer kind of element
      }
      return pe.error();
    }
    FieldSet children;
    bool child_member = false;
    LINTEL_RETURN_IF_ERROR(
        ReadFieldsV1(value, where + pe->ToString(), depth + 1, children, child_member));
    if (!child_member && children.Empty()) {
      continue;
    }
    any_child = true;
    FieldSet::Entry& e = FieldSetAccess::FindOrAdd(out, *pe);
    e.member = e.member || child_member;
    e.children = e.children.Union(children);
  }
  if (!any_child) {
    member = true;
  }
  return Status::Ok();
}

}  // namespace

Result<FieldSet> FromFieldsV1(const Json& fields) {
  FieldSet out;
  bool member = false;
  LINTEL_RETURN_IF_ERROR(ReadFieldsV1(fields, "", 0, out, member));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Walking objects with the schema

namespace {

const Json& EmptyObject() {
  static const Json* const empty = new Json(Json::object());
  return *empty;
}

const Json& EmptyArray() {
  static const Json* const empty = new Json(Json::array());
  return *empty;
}

bool IsContainer(const Json& v) { return v.is_object() || v.is_array(); }

// The current position in an object: its field path, and the schema path the oracles take
// (fields only, no keys).
class Cursor {
 public:
  explicit Cursor(const Schema& schema) : schema_(schema) {}

  const Path& Here() const { return path_; }
  const std::string& SchemaPath() const { return schema_path_; }

  void PushField(const std::string& name) {
    path_.push_back(PathElement::Field(name));
    schema_lengths_.push_back(schema_path_.size());
    schema_path_ += '.';
    schema_path_ += name;
  }
  void PushItem(PathElement pe) {
    path_.push_back(std::move(pe));
    schema_lengths_.push_back(schema_path_.size());
  }
  void Pop() {
    path_.pop_back();
    schema_path_.resize(schema_lengths_.back());
    schema_lengths_.pop_back();
  }

  // How the list here merges. A map-list without keys cannot be keyed: atomic.
  ListInfo List() const {
    ListInfo info = schema_.lists ? schema_.lists(schema_path_) : ListInfo{};
    if (info.type == ListType::kMap && info.keys.empty()) {
      info.type = ListType::kAtomic;
    }
    return info;
  }
  bool AtomicMap() const {
    return !path_.empty() && schema_.atomic_maps && schema_.atomic_maps(schema_path_);
  }

 private:
  const Schema& schema_;
  Path path_;
  std::string schema_path_;
  std::vector<size_t> schema_lengths_;
};

// The element naming a list item, or nullopt with `error` set.
std::optional<PathElement> ItemElement(const Json& item, const ListInfo& info, std::string& error) {
  if (info.type == ListType::kSet) {
    return PathElement::Value(item);
  }
  if (!item.is_object()) {
    error = "associative list with keys has an element that is not an object";
    return std::nullopt;
  }
  Json key = Json::object();
  for (const std::string& name : info.keys) {
    auto it = item.find(name);
    if (it == item.end()) {
      error = "associative list with keys has an element that omits key field " + GoQuote(name);
      return std::nullopt;
    }
    key[name] = *it;
  }
  return PathElement::Key(key);
}

// The keyed items of a list, first occurrence of each key only, in list order. Strict mode
// reports unkeyable items and duplicates (an apply configuration); lenient mode skips them
// (live objects may hold legacy data).
struct KeyedItem {
  PathElement element;
  const Json* value;
};

Result<std::vector<KeyedItem>> KeyItems(const Json& list, const ListInfo& info,
                                        const Cursor& cursor, bool strict) {
  std::vector<KeyedItem> items;
  std::set<PathElement> seen;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string error;
    std::optional<PathElement> pe = ItemElement(list[i], info, error);
    if (!pe) {
      if (strict) {
        return BadRequest(PathToString(cursor.Here()) + ": element " + std::to_string(i) + ": " +
                          error);
      }
      continue;
    }
    if (!seen.insert(*pe).second) {
      if (strict) {
        return BadRequest(PathToString(cursor.Here()) + ": duplicate entries for key " +
                          pe->ToString());
      }
      continue;
    }
    items.push_back(KeyedItem{std::move(*pe), &list[i]});
  }
  return items;
}

std::vector<KeyedItem> KeyItemsLenient(const Json& list, const ListInfo& info,
                                       const Cursor& cursor) {
  auto items = KeyItems(list, info, cursor, /*strict=*/false);
  LINTEL_DCHECK(items.ok());
  return items.ok() ? std::move(*items) : std::vector<KeyedItem>{};
}

// --- ToFieldSet ------------------------------------------------------------------------------

Status AddFields(const Json& object, Cursor& cursor, bool strict, FieldSet& out);

Status AddValue(const Json& v, Cursor& cursor, bool strict, FieldSet& out) {
  if (v.is_object()) {
    if (v.empty() || cursor.AtomicMap()) {
      out.Insert(cursor.Here());
      return Status::Ok();
    }
    return AddFields(v, cursor, strict, out);
  }
  if (!v.is_array()) {
    out.Insert(cursor.Here());
    return Status::Ok();
  }
  ListInfo info = cursor.List();
  if (info.type == ListType::kAtomic) {
    out.Insert(cursor.Here());
    return Status::Ok();
  }
  LINTEL_ASSIGN_OR_RETURN(std::vector<KeyedItem> items, KeyItems(v, info, cursor, strict));
  for (KeyedItem& item : items) {
    cursor.PushItem(std::move(item.element));
    out.Insert(cursor.Here());
    Status st =
        info.type == ListType::kMap ? AddFields(*item.value, cursor, strict, out) : Status::Ok();
    cursor.Pop();
    LINTEL_RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

Status AddFields(const Json& object, Cursor& cursor, bool strict, FieldSet& out) {
  for (const auto& [key, child] : object.items()) {
    cursor.PushField(key);
    Status st = AddValue(child, cursor, strict, out);
    cursor.Pop();
    LINTEL_RETURN_IF_ERROR(st);
  }
  return Status::Ok();
}

// --- Compare -----------------------------------------------------------------------------------

// What a write did, in kube's terms: leaves that appeared, changed or disappeared, plus the maps,
// lists and list entries that appeared or disappeared as a whole.
struct Comparison {
  FieldSet added;
  FieldSet modified;
  FieldSet removed;
};

// Everything in a subtree present on one side only: every leaf and every node.
void AddSubtree(const Json& v, Cursor& cursor, bool item, FieldSet& out, bool include_self) {
  if (v.is_object() && !v.empty() && (item || !cursor.AtomicMap())) {
    for (const auto& [key, child] : v.items()) {
      cursor.PushField(key);
      AddSubtree(child, cursor, /*item=*/false, out, /*include_self=*/true);
      cursor.Pop();
    }
  } else if (v.is_array() && !v.empty() && !item) {
    ListInfo info = cursor.List();
    if (info.type != ListType::kAtomic) {
      for (KeyedItem& it : KeyItemsLenient(v, info, cursor)) {
        cursor.PushItem(std::move(it.element));
        if (info.type == ListType::kMap) {
          AddSubtree(*it.value, cursor, /*item=*/true, out, /*include_self=*/true);
        } else {
          out.Insert(cursor.Here());
        }
        cursor.Pop();
      }
    }
  }
  if (include_self) {
    out.Insert(cursor.Here());
  }
}

void CompareValues(const Json& lhs, const Json& rhs, Cursor& cursor, bool item, Comparison& out);

void CompareFields(const Json& lhs, const Json& rhs, Cursor& cursor, Comparison& out) {
  for (const auto& [key, lchild] : lhs.items()) {
    cursor.PushField(key);
    auto it = rhs.find(key);
    if (it == rhs.end()) {
      AddSubtree(lchild, cursor, /*item=*/false, out.removed, /*include_self=*/true);
    } else {
      CompareValues(lchild, *it, cursor, /*item=*/false, out);
    }
    cursor.Pop();
  }
  for (const auto& [key, rchild] : rhs.items()) {
    if (lhs.contains(key)) {
      continue;
    }
    cursor.PushField(key);
    AddSubtree(rchild, cursor, /*item=*/false, out.added, /*include_self=*/true);
    cursor.Pop();
  }
}

void CompareLists(const Json& lhs, const Json& rhs, const ListInfo& info, Cursor& cursor,
                  Comparison& out) {
  std::vector<KeyedItem> litems = KeyItemsLenient(lhs, info, cursor);
  std::vector<KeyedItem> ritems = KeyItemsLenient(rhs, info, cursor);
  std::map<PathElement, const Json*> lvalues;
  for (const KeyedItem& l : litems) {
    lvalues.emplace(l.element, l.value);
  }
  std::map<PathElement, const Json*> rvalues;
  for (const KeyedItem& r : ritems) {
    rvalues.emplace(r.element, r.value);
  }
  // An item on one side only: a map-list entry with all its fields, or a set value.
  auto whole = [&](const Json& item, FieldSet& set) {
    if (info.type == ListType::kMap) {
      AddSubtree(item, cursor, /*item=*/true, set, /*include_self=*/true);
    } else {
      set.Insert(cursor.Here());
    }
  };
  for (KeyedItem& l : litems) {
    auto r = rvalues.find(l.element);
    cursor.PushItem(std::move(l.element));
    if (r == rvalues.end()) {
      whole(*l.value, out.removed);
    } else if (info.type == ListType::kMap) {
      CompareValues(*l.value, *r->second, cursor, /*item=*/true, out);
    }  // set values with equal elements are equal
    cursor.Pop();
  }
  for (KeyedItem& r : ritems) {
    if (lvalues.count(r.element) != 0) {
      continue;
    }
    cursor.PushItem(std::move(r.element));
    whole(*r.value, out.added);
    cursor.Pop();
  }
}

void CompareValues(const Json& lhs_in, const Json& rhs_in, Cursor& cursor, bool item,
                   Comparison& out) {
  // A null against a map or list reads as an empty one of that kind (kube's typed values).
  const Json* lhs = &lhs_in;
  const Json* rhs = &rhs_in;
  if (lhs->is_null() && IsContainer(*rhs)) {
    lhs = rhs->is_object() ? &EmptyObject() : &EmptyArray();
  }
  if (rhs->is_null() && IsContainer(*lhs)) {
    rhs = lhs->is_object() ? &EmptyObject() : &EmptyArray();
  }

  auto leaf = [&] {
    if (lhs_in != rhs_in) {
      out.modified.Insert(cursor.Here());
    }
  };
  if (lhs->is_object() && rhs->is_object()) {
    if ((lhs->empty() && rhs->empty()) || (!item && cursor.AtomicMap())) {
      return leaf();
    }
    return CompareFields(*lhs, *rhs, cursor, out);
  }
  if (lhs->is_array() && rhs->is_array() && !item) {
    ListInfo info = cursor.List();
    if ((lhs->empty() && rhs->empty()) || info.type == ListType::kAtomic) {
      return leaf();
    }
    return CompareLists(*lhs, *rhs, info, cursor, out);
  }
  if (!IsContainer(*lhs) && !IsContainer(*rhs)) {
    return leaf();
  }
  // The kind changed: the node is modified, whatever was below it went or came.
  out.modified.Insert(cursor.Here());
  if (IsContainer(*lhs)) {
    AddSubtree(*lhs, cursor, item, out.removed, /*include_self=*/false);
  }
  if (IsContainer(*rhs)) {
    AddSubtree(*rhs, cursor, item, out.added, /*include_self=*/false);
  }
}

Comparison Compare(const Json& lhs, const Json& rhs, const Schema& schema) {
  Comparison out;
  Cursor cursor(schema);
  CompareValues(lhs, rhs, cursor, /*item=*/false, out);
  return out;
}

// --- Merge -------------------------------------------------------------------------------------

// The merge of `config` into `live` (consumed), at the cursor.
Json MergeValues(Json&& live, const Json& config, Cursor& cursor, bool item);

Json MergeLists(Json&& live, const Json& config, const ListInfo& info, Cursor& cursor) {
  std::vector<KeyedItem> citems = KeyItemsLenient(config, info, cursor);
  std::map<PathElement, const Json*> cvalues;
  for (const KeyedItem& c : citems) {
    cvalues.emplace(c.element, c.value);
  }
  std::set<PathElement> merged_keys;
  Json out = Json::array();
  for (Json& litem : live) {
    std::string error;
    std::optional<PathElement> pe = ItemElement(litem, info, error);
    auto c = pe ? cvalues.find(*pe) : cvalues.end();
    if (c == cvalues.end()) {
      // Unkeyable legacy items and items the config does not name stay.
      out.push_back(std::move(litem));
      continue;
    }
    if (!merged_keys.insert(*pe).second) {
      continue;  // a live duplicate of a configured item
    }
    if (info.type == ListType::kSet) {
      out.push_back(std::move(litem));
      continue;
    }
    cursor.PushItem(std::move(*pe));
    out.push_back(MergeValues(std::move(litem), *c->second, cursor, /*item=*/true));
    cursor.Pop();
  }
  for (const KeyedItem& c : citems) {
    if (merged_keys.count(c.element) == 0) {
      out.push_back(*c.value);
    }
  }
  return out;
}

Json MergeValues(Json&& live, const Json& config, Cursor& cursor, bool item) {
  // A null in the config against a map or list keeps the live entries (kube's typed merge).
  if (config.is_null() && IsContainer(live) && !live.empty()) {
    return std::move(live);
  }
  if (live.is_object() && config.is_object()) {
    if ((live.empty() && config.empty()) || (!item && cursor.AtomicMap())) {
      return config;
    }
    for (const auto& [key, cchild] : config.items()) {
      auto it = live.find(key);
      if (it == live.end()) {
        live[key] = cchild;
        continue;
      }
      cursor.PushField(key);
      *it = MergeValues(std::move(*it), cchild, cursor, /*item=*/false);
      cursor.Pop();
    }
    return std::move(live);
  }
  if (live.is_array() && config.is_array() && !item) {
    ListInfo info = cursor.List();
    if ((live.empty() && config.empty()) || info.type == ListType::kAtomic) {
      return config;
    }
    return MergeLists(std::move(live), config, info, cursor);
  }
  return config;
}

// --- Prune -------------------------------------------------------------------------------------

bool IsEmptyContainer(const Json& v) { return IsContainer(v) && v.empty(); }

void PruneValue(Json& v, const FieldSet& remove, const FieldSet& keep, Cursor& cursor);

// Removes the fields of `object` named in `remove` unless `keep` owns them or something below
// them; `key_fields` (of a map-list entry that stays) are never removed.
void PruneFields(Json& object, const FieldSet& remove, const FieldSet& keep, Cursor& cursor,
                 const std::vector<std::string>* key_fields) {
  for (const FieldSet::Entry& e : FieldSetAccess::Entries(remove)) {
    if (e.element.kind() != PathElement::Kind::kField) {
      continue;
    }
    const std::string& name = e.element.text();
    if (key_fields != nullptr &&
        std::find(key_fields->begin(), key_fields->end(), name) != key_fields->end()) {
      continue;
    }
    auto it = object.find(name);
    if (it == object.end()) {
      continue;
    }
    cursor.PushField(name);
    if (e.member && !keep.ContainsPrefix(cursor.Here())) {
      object.erase(it);
    } else if (!e.children.Empty()) {
      bool was_filled = IsContainer(*it) && !it->empty();
      PruneValue(*it, e.children, keep, cursor);
      // Emptied by the removal: gone too, as kube's typed objects drop an empty omitempty field.
      if (was_filled && IsEmptyContainer(*it) && !keep.Contains(cursor.Here())) {
        object.erase(it);
      }
    }
    cursor.Pop();
  }
}

void PruneList(Json& list, const FieldSet& remove, const FieldSet& keep, Cursor& cursor) {
  ListInfo info = cursor.List();
  if (info.type == ListType::kAtomic) {
    return;
  }
  Json out = Json::array();
  for (Json& item : list) {
    std::string error;
    std::optional<PathElement> pe = ItemElement(item, info, error);
    const FieldSet::Entry* e = pe ? FieldSetAccess::Find(remove, *pe) : nullptr;
    if (e == nullptr) {
      out.push_back(std::move(item));
      continue;
    }
    cursor.PushItem(std::move(*pe));
    bool drop = e->member && !keep.Contains(cursor.Here());
    if (!drop && info.type == ListType::kMap && !e->children.Empty()) {
      PruneFields(item, e->children, keep, cursor, &info.keys);
    }
    cursor.Pop();
    if (!drop) {
      out.push_back(std::move(item));
    }
  }
  list = std::move(out);
}

void PruneValue(Json& v, const FieldSet& remove, const FieldSet& keep, Cursor& cursor) {
  if (v.is_object()) {
    PruneFields(v, remove, keep, cursor, nullptr);
  } else if (v.is_array()) {
    PruneList(v, remove, keep, cursor);
  }
}

// ---------------------------------------------------------------------------------------------
// Which fields nobody owns

// apiVersion, kind and metadata's system fields: stripped from every set (kube's
// stripMetaManager, plus the deletion fields, which only the server writes).
constexpr std::string_view kSystemFields[] = {
    ".apiVersion",
    ".kind",
    ".metadata.name",
    ".metadata.namespace",
    ".metadata.uid",
    ".metadata.resourceVersion",
    ".metadata.generation",
    ".metadata.creationTimestamp",
    ".metadata.deletionTimestamp",
    ".metadata.deletionGracePeriodSeconds",
    ".metadata.selfLink",
    ".metadata.managedFields",
};

struct Unmanaged {
  FieldSet recursive;  // system fields and the caller's ignored paths, with all below them
  FieldSet exact;      // .metadata itself (kube strips the node, not its fields)

  FieldSet Strip(const FieldSet& set) const {
    return set.RecursiveDifference(recursive).Difference(exact);
  }
};

Unmanaged MakeUnmanaged(const std::vector<std::string>& ignored_paths) {
  Unmanaged u;
  for (std::string_view p : kSystemFields) {
    u.recursive.Insert(FieldPath(p));
  }
  for (const std::string& p : ignored_paths) {
    u.recursive.Insert(FieldPath(p));
  }
  u.exact.Insert(FieldPath(".metadata"));
  return u;
}

void DropPath(Json& object, const Path& path) {
  Json* node = &object;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    auto it = node->find(path[i].text());
    if (it == node->end() || !it->is_object()) {
      return;
    }
    node = &*it;
  }
  if (!path.empty() && node->is_object()) {
    node->erase(path.back().text());
  }
}

// metadata without managedFields.
bool SameMetadata(const Json& a, const Json& b) {
  if (!a.is_object() || !b.is_object()) {
    return a == b;
  }
  size_t na = 0;
  for (const auto& [key, value] : a.items()) {
    if (key == "managedFields") {
      continue;
    }
    ++na;
    auto it = b.find(key);
    if (it == b.end() || *it != value) {
      return false;
    }
  }
  size_t nb = b.size() - (b.contains("managedFields") ? 1 : 0);
  return na == nb;
}

bool EqualIgnoringManagedFields(const Json& a, const Json& b) {
  if (!a.is_object() || !b.is_object() || a.size() != b.size()) {
    return a == b;
  }
  for (const auto& [key, value] : a.items()) {
    auto it = b.find(key);
    if (it == b.end()) {
      return false;
    }
    if (key == "metadata" ? !SameMetadata(value, *it) : value != *it) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<FieldSet> FieldSet::FromObject(const Json& object, const Schema& schema) {
  if (!object.is_object()) {
    return BadRequest("expected a JSON object");
  }
  FieldSet out;
  Cursor cursor(schema);
  LINTEL_RETURN_IF_ERROR(AddFields(object, cursor, /*strict=*/true, out));
  return out;
}

// ---------------------------------------------------------------------------------------------
// metadata.managedFields

namespace {

constexpr size_t kMaxManagerLength = 128;
constexpr size_t kMaxSubresourceLength = 256;

bool Printable(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c < 0x20 || c == 0x7F;
  });
}

// kube's manager identifier: the entry as JSON without time and fields (and, for appliers,
// without apiVersion, so an applier is one manager across versions).
std::string Identity(std::string_view manager, std::string_view operation,
                     std::string_view api_version, std::string_view subresource) {
  std::string out = "{";
  auto field = [&](std::string_view name, std::string_view value) {
    if (value.empty()) {
      return;
    }
    if (out.size() > 1) {
      out += ',';
    }
    AppendGoJsonString(name, out);
    out += ':';
    AppendGoJsonString(value, out);
  };
  field("manager", manager);
  field("operation", operation);
  if (operation != kOperationApply) {
    field("apiVersion", api_version);
  }
  field("subresource", subresource);
  return out + "}";
}

std::string Identity(const ManagedFieldsEntry& e) {
  return Identity(e.manager, e.operation, e.api_version, e.subresource);
}

// kube's printManager: `"kubectl-patch" using lintel.dev/v1alpha1`.
std::string DescribeManager(const ManagedFieldsEntry& e) {
  std::string out = GoQuote(e.manager);
  if (!e.subresource.empty()) {
    out += " with subresource " + GoQuote(e.subresource);
  }
  if (e.operation == kOperationUpdate) {
    out += " using " + e.api_version;
  }
  return out;
}

int64_t TimeSeconds(const std::string& time) {
  if (time.empty()) {
    return 0;
  }
  auto t = ParseRfc3339(time);
  if (!t) {
    return 0;
  }
  return std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
}

// kube's sortEncodedManagedFields.
void SortEntries(std::vector<ManagedFieldsEntry>& entries) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const ManagedFieldsEntry& p, const ManagedFieldsEntry& q) {
                     if (p.operation != q.operation) {
                       return p.operation < q.operation;
                     }
                     int64_t ps = TimeSeconds(p.time);
                     int64_t qs = TimeSeconds(q.time);
                     if (ps != qs) {
                       return ps < qs;
                     }
                     if (p.manager != q.manager) {
                       return p.manager < q.manager;
                     }
                     if (p.api_version != q.api_version) {
                       return p.api_version < q.api_version;
                     }
                     return p.subresource < q.subresource;
                   });
}

// The entries by identity; a later duplicate replaces an earlier one, as in kube.
struct Managers {
  std::vector<std::string> ids;
  std::vector<ManagedFieldsEntry> entries;

  explicit Managers(const std::vector<ManagedFieldsEntry>& in) {
    for (const ManagedFieldsEntry& e : in) {
      std::string id = Identity(e);
      if (ManagedFieldsEntry* existing = Find(id)) {
        *existing = e;
      } else {
        ids.push_back(std::move(id));
        entries.push_back(e);
      }
    }
  }
  ManagedFieldsEntry* Find(const std::string& id) {
    auto it = std::find(ids.begin(), ids.end(), id);
    return it == ids.end() ? nullptr : &entries[it - ids.begin()];
  }
  void DropEmpty() {
    for (size_t i = entries.size(); i-- > 0;) {
      if (entries[i].fields.Empty()) {
        entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
        ids.erase(ids.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
  }
};

// kube's capManagersManager: past the cap, the oldest Update entries merge, per apiVersion, into
// one "ancient-changes" entry, which takes the time of the newest entry merged into it.
void CapUpdateManagers(Managers& m) {
  std::vector<size_t> updaters;
  for (size_t i = 0; i < m.entries.size(); ++i) {
    if (m.entries[i].operation == kOperationUpdate) {
      updaters.push_back(i);
    }
  }
  if (updaters.size() <= kMaxUpdateManagers) {
    return;
  }
  std::stable_sort(updaters.begin(), updaters.end(), [&](size_t a, size_t b) {
    return TimeSeconds(m.entries[a].time) < TimeSeconds(m.entries[b].time);
  });
  std::vector<bool> dead(m.entries.size(), false);
  std::map<std::string, size_t> first_of_version;
  size_t length = updaters.size();
  for (size_t k = 0; k < updaters.size() && length > kMaxUpdateManagers; ++k) {
    size_t i = updaters[k];
    const std::string version = m.entries[i].api_version;
    auto first = first_of_version.find(version);
    if (first == first_of_version.end()) {
      first_of_version.emplace(version, i);
      continue;
    }
    std::string bucket_id = Identity(kAncientChangesManager, kOperationUpdate, version, "");
    auto bucket_it = std::find(m.ids.begin(), m.ids.end(), bucket_id);
    size_t bucket = 0;
    if (bucket_it == m.ids.end() || dead[static_cast<size_t>(bucket_it - m.ids.begin())]) {
      bucket = first->second;  // the first entry of this version becomes the bucket
      m.entries[bucket].manager = std::string(kAncientChangesManager);
      m.entries[bucket].subresource.clear();
      m.ids[bucket] = bucket_id;
    } else {
      bucket = static_cast<size_t>(bucket_it - m.ids.begin());
    }
    if (bucket == i) {
      continue;
    }
    m.entries[bucket].fields = m.entries[i].fields.Union(m.entries[bucket].fields);
    m.entries[bucket].time = m.entries[i].time;
    dead[i] = true;
    --length;
  }
  for (size_t i = m.entries.size(); i-- > 0;) {
    if (!dead[i]) {
      continue;
    }
    m.entries.erase(m.entries.begin() + static_cast<std::ptrdiff_t>(i));
    m.ids.erase(m.ids.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

Cause FieldCause(std::string reason, std::string field, std::string message) {
  return Cause{std::move(reason), std::move(field), std::move(message)};
}

}  // namespace

Result<std::vector<ManagedFieldsEntry>> ParseManagedFields(const Json& managed_fields) {
  std::vector<ManagedFieldsEntry> out;
  if (managed_fields.is_null()) {
    return out;
  }
  std::vector<Cause> causes;
  const std::string base = "metadata.managedFields";
  if (!managed_fields.is_array()) {
    causes.push_back(FieldCause("FieldValueTypeInvalid", base,
                                "Invalid value: " + GoJson(managed_fields) +
                                    ": must be an array of managed fields entries"));
  } else {
    for (size_t i = 0; i < managed_fields.size(); ++i) {
      const Json& item = managed_fields[i];
      const std::string at = base + "[" + std::to_string(i) + "]";
      if (!item.is_object()) {
        causes.push_back(FieldCause("FieldValueTypeInvalid", at,
                                    "Invalid value: " + GoJson(item) + ": must be an object"));
        continue;
      }
      ManagedFieldsEntry e;
      bool ok = true;
      // Reads an optional string member; a non-string is a type error.
      auto str = [&](const char* name, std::string& dest) {
        auto it = item.find(name);
        if (it == item.end() || it->is_null()) {
          return;
        }
        if (!it->is_string()) {
          causes.push_back(FieldCause("FieldValueTypeInvalid", at + "." + name,
                                      "Invalid value: " + GoJson(*it) + ": must be a string"));
          ok = false;
          return;
        }
        dest = it->get<std::string>();
      };
      std::string fields_type;
      str("manager", e.manager);
      str("operation", e.operation);
      str("apiVersion", e.api_version);
      str("time", e.time);
      str("subresource", e.subresource);
      str("fieldsType", fields_type);
      if (!ok) {
        continue;
      }
      if (e.manager.size() > kMaxManagerLength) {
        causes.push_back(FieldCause(
            "FieldValueTooLong", at + ".manager",
            "Too long: may not be more than " + std::to_string(kMaxManagerLength) + " bytes"));
      } else if (!Printable(e.manager)) {
        causes.push_back(FieldCause(
            "FieldValueInvalid", at + ".manager",
            "Invalid value: " + GoQuote(e.manager) + ": must only contain printable characters"));
      }
      if (e.operation != kOperationApply && e.operation != kOperationUpdate) {
        causes.push_back(
            FieldCause("FieldValueInvalid", at + ".operation",
                       "Invalid value: " + GoQuote(e.operation) + ": must be `Apply` or `Update`"));
      }
      if (e.api_version.empty()) {
        causes.push_back(FieldCause("FieldValueRequired", at + ".apiVersion", "Required value"));
      }
      if (!e.time.empty() && !ParseRfc3339(e.time)) {
        causes.push_back(
            FieldCause("FieldValueInvalid", at + ".time",
                       "Invalid value: " + GoQuote(e.time) + ": must be an RFC 3339 timestamp"));
      }
      if (e.subresource.size() > kMaxSubresourceLength) {
        causes.push_back(FieldCause(
            "FieldValueTooLong", at + ".subresource",
            "Too long: may not be more than " + std::to_string(kMaxSubresourceLength) + " bytes"));
      }
      if (fields_type != "FieldsV1") {
        if (fields_type.empty()) {
          causes.push_back(FieldCause("FieldValueRequired", at + ".fieldsType", "Required value"));
        } else {
          causes.push_back(
              FieldCause("FieldValueInvalid", at + ".fieldsType",
                         "Invalid value: " + GoQuote(fields_type) + ": must be `FieldsV1`"));
        }
      }
      auto fv = item.find("fieldsV1");
      if (fv != item.end() && !fv->is_null()) {
        auto fields = FromFieldsV1(*fv);
        if (!fields.ok()) {
          causes.push_back(FieldCause("FieldValueInvalid", at + ".fieldsV1",
                                      "Invalid value: " + fields.error().message()));
        } else {
          e.fields = std::move(*fields);
        }
      }
      out.push_back(std::move(e));
    }
  }
  if (causes.empty()) {
    return out;
  }
  std::string message;
  for (const Cause& c : causes) {
    if (!message.empty()) {
      message += ", ";
    }
    message += c.field + ": " + c.message;
  }
  if (causes.size() > 1) {
    message = "[" + message + "]";
  }
  return Invalid(std::move(message), std::move(causes));
}

Json ManagedFieldsToJson(const std::vector<ManagedFieldsEntry>& entries) {
  Json out = Json::array();
  for (const ManagedFieldsEntry& e : entries) {
    Json j = Json::object();
    if (!e.manager.empty()) {
      j["manager"] = e.manager;
    }
    if (!e.operation.empty()) {
      j["operation"] = e.operation;
    }
    if (!e.api_version.empty()) {
      j["apiVersion"] = e.api_version;
    }
    if (!e.time.empty()) {
      j["time"] = e.time;
    }
    j["fieldsType"] = "FieldsV1";
    j["fieldsV1"] = ToFieldsV1(e.fields);
    if (!e.subresource.empty()) {
      j["subresource"] = e.subresource;
    }
    out.push_back(std::move(j));
  }
  return out;
}

void SetManagedFields(Json& object, const std::vector<ManagedFieldsEntry>& entries) {
  if (!object.is_object()) {
    return;
  }
  auto md = object.find("metadata");
  if (entries.empty()) {
    if (md != object.end() && md->is_object()) {
      md->erase("managedFields");
    }
    return;
  }
  if (md == object.end() || !md->is_object()) {
    object["metadata"] = Json::object();
    md = object.find("metadata");
  }
  (*md)["managedFields"] = ManagedFieldsToJson(entries);
}

std::vector<ManagedFieldsEntry> ManagedFieldsForWrite(const Json& live, const Json& request,
                                                      bool ignore_request) {
  auto managed_of = [](const Json& obj) -> const Json* {
    if (!obj.is_object()) {
      return nullptr;
    }
    auto md = obj.find("metadata");
    if (md == obj.end() || !md->is_object()) {
      return nullptr;
    }
    auto mf = md->find("managedFields");
    return mf == md->end() || mf->is_null() ? nullptr : &*mf;
  };
  auto live_entries = [&]() -> std::vector<ManagedFieldsEntry> {
    const Json* mf = managed_of(live);
    if (mf == nullptr) {
      return {};
    }
    auto parsed = ParseManagedFields(*mf);
    return parsed.ok() ? std::move(*parsed) : std::vector<ManagedFieldsEntry>{};
  };
  if (ignore_request) {
    return live_entries();
  }
  const Json* requested = managed_of(request);
  if (requested != nullptr && requested->is_array()) {
    if (requested->empty()) {
      return {};
    }
    if (requested->size() == 1 && (*requested)[0].is_object() && (*requested)[0].empty()) {
      return {};
    }
    auto parsed = ParseManagedFields(*requested);
    if (parsed.ok() && !parsed->empty()) {
      return std::move(*parsed);
    }
  }
  return live_entries();
}

// ---------------------------------------------------------------------------------------------
// Apply and Update

namespace {

Status ConflictStatus(
    const std::vector<std::pair<const ManagedFieldsEntry*, FieldSet>>& conflicts) {
  size_t total = 0;
  for (const auto& c : conflicts) {
    total += c.second.Size();
  }
  std::string message;
  std::vector<Cause> causes;
  std::vector<std::string> lines;
  for (const auto& [entry, set] : conflicts) {
    std::string who = DescribeManager(*entry);
    lines.push_back("conflicts with " + who + ":");
    for (const Path& p : set.Paths()) {
      std::string path = PathToString(p);
      causes.push_back(Cause{"FieldManagerConflict", path, "conflict with " + who});
      lines.push_back("- " + path);
    }
  }
  if (total == 1) {
    message = "Apply failed with 1 conflict: " + causes[0].message + ": " + causes[0].field;
  } else {
    message = "Apply failed with " + std::to_string(total) + " conflicts: ";
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i > 0) {
        message += "\n";
      }
      message += lines[i];
    }
  }
  Status st = Conflict(std::move(message));
  for (Cause& c : causes) {
    st.AddCause(std::move(c));
  }
  return st;
}

}  // namespace

Result<ApplyResult> Apply(const Json& live, const Json& applied, std::string_view manager,
                          bool force, const std::vector<ManagedFieldsEntry>& managed,
                          const Schema& schema, std::string_view api_version, std::string_view now,
                          std::string_view subresource,
                          const std::vector<std::string>& ignored_paths) {
  if (!applied.is_object()) {
    return BadRequest("apply configuration must be a JSON object");
  }
  if (auto md = applied.find("metadata"); md != applied.end() && md->is_object()) {
    if (auto mf = md->find("managedFields"); mf != md->end() && !mf->is_null()) {
      return BadRequest("metadata.managedFields must be nil");
    }
  }
  if (auto av = applied.find("apiVersion");
      !api_version.empty() && av != applied.end() && av->is_string() && *av != api_version) {
    return BadRequest("Incorrect version specified in apply patch. Specified patch version: " +
                      av->get<std::string>() + ", expected: " + std::string(api_version));
  }
  if (!live.is_null() && !live.is_object()) {
    return Internal("live object is not a JSON object");
  }

  const Unmanaged unmanaged = MakeUnmanaged(ignored_paths);
  Json config = applied;
  for (const std::string& p : ignored_paths) {
    DropPath(config, FieldPath(p));
  }
  LINTEL_ASSIGN_OR_RETURN(FieldSet applied_set, FieldSet::FromObject(config, schema));
  applied_set = unmanaged.Strip(applied_set);

  const Json& live_obj = live.is_null() ? EmptyObject() : live;
  Managers managers(managed);
  const std::string self_id = Identity(manager, kOperationApply, api_version, subresource);
  const ManagedFieldsEntry* previous = managers.Find(self_id);
  const bool had_previous = previous != nullptr;
  const FieldSet last = had_previous ? previous->fields : FieldSet();
  const std::string previous_time = had_previous ? previous->time : std::string();
  const std::string previous_version = had_previous ? previous->api_version : std::string();

  Cursor cursor(schema);
  Json merged = MergeValues(Json(live_obj), config, cursor, /*item=*/false);

  // Prune what this applier dropped, unless someone still owns it.
  FieldSet keep = applied_set;
  for (size_t i = 0; i < managers.entries.size(); ++i) {
    if (managers.ids[i] != self_id) {
      keep = keep.Union(managers.entries[i].fields);
    }
  }
  FieldSet remove = last.Difference(applied_set).RecursiveDifference(unmanaged.recursive);
  if (!remove.Empty()) {
    PruneValue(merged, remove, keep, cursor);
  }

  // Conflicts: fields the apply changes that others own.
  Comparison diff = Compare(live_obj, merged, schema);
  const FieldSet changed = unmanaged.Strip(diff.added.Union(diff.modified));
  const FieldSet removed = unmanaged.Strip(diff.removed);
  std::vector<size_t> order(managers.entries.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return managers.ids[a] < managers.ids[b]; });
  std::vector<std::pair<const ManagedFieldsEntry*, FieldSet>> conflicts;
  std::vector<FieldSet> taken(managers.entries.size());
  for (size_t i : order) {
    if (managers.ids[i] == self_id) {
      continue;
    }
    taken[i] = managers.entries[i].fields.Intersection(changed);
    if (!taken[i].Empty()) {
      conflicts.emplace_back(&managers.entries[i], taken[i]);
    }
  }
  if (!force && !conflicts.empty()) {
    return ConflictStatus(conflicts);
  }

  const bool object_changed = !EqualIgnoringManagedFields(live_obj, merged);
  for (size_t i = 0; i < managers.entries.size(); ++i) {
    if (managers.ids[i] == self_id) {
      continue;
    }
    ManagedFieldsEntry& e = managers.entries[i];
    e.fields = e.fields.Difference(taken[i]).Difference(removed);
  }
  ManagedFieldsEntry* self = managers.Find(self_id);
  if (self == nullptr) {
    managers.ids.push_back(self_id);
    managers.entries.push_back(ManagedFieldsEntry{std::string(manager),
                                                  std::string(kOperationApply), "", "",
                                                  std::string(subresource), FieldSet()});
    self = &managers.entries.back();
  }
  // A re-apply that changes neither the object nor what the applier owns keeps its time, so
  // that the caller can recognise the no-op and skip the write.
  const bool refresh =
      !had_previous || !(last == applied_set) || object_changed || previous_version != api_version;
  self->api_version = std::string(api_version);
  self->fields = applied_set;
  self->time = refresh ? std::string(now) : previous_time;
  managers.DropEmpty();

  ApplyResult result;
  result.managed = std::move(managers.entries);
  SortEntries(result.managed);
  result.object = std::move(merged);
  result.object_changed = object_changed;
  SetManagedFields(result.object, result.managed);
  return result;
}

std::vector<ManagedFieldsEntry> UpdateManagedFields(
    const Json& old_obj, const Json& new_obj, std::string_view manager,
    const std::vector<ManagedFieldsEntry>& managed, const Schema& schema,
    std::string_view api_version, std::string_view now, std::string_view subresource,
    const std::vector<std::string>& ignored_paths) {
  const Unmanaged unmanaged = MakeUnmanaged(ignored_paths);
  Comparison diff = Compare(old_obj.is_object() ? old_obj : EmptyObject(),
                            new_obj.is_object() ? new_obj : EmptyObject(), schema);
  const FieldSet taken = unmanaged.Strip(diff.added.Union(diff.modified));
  const FieldSet removed = unmanaged.Strip(diff.removed);

  Managers managers(managed);
  for (ManagedFieldsEntry& e : managers.entries) {
    e.fields = e.fields.Difference(taken).Difference(removed);
  }
  if (!taken.Empty()) {
    const std::string self_id = Identity(manager, kOperationUpdate, api_version, subresource);
    ManagedFieldsEntry* self = managers.Find(self_id);
    if (self == nullptr) {
      managers.ids.push_back(self_id);
      managers.entries.push_back(
          ManagedFieldsEntry{std::string(manager), std::string(kOperationUpdate),
                             std::string(api_version), "", std::string(subresource), FieldSet()});
      self = &managers.entries.back();
    }
    self->fields = self->fields.Union(taken);
    self->time = std::string(now);
  }
  managers.DropEmpty();
  CapUpdateManagers(managers);
  SortEntries(managers.entries);
  return std::move(managers.entries);
}

}  // namespace lintel::apimachinery
