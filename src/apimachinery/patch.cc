#include "apimachinery/patch.h"

#include <exception>
#include <optional>

namespace lintel::apimachinery {

namespace {

// ---- merge patch ------------------------------------------------------------------------

Json MergeInto(Json target, const Json& patch) {
  if (!patch.is_object()) {
    return patch;
  }
  if (!target.is_object()) {
    target = Json::object();
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it->is_null()) {
      target.erase(it.key());
      continue;
    }
    auto existing = target.find(it.key());
    Json base = existing == target.end() ? Json() : std::move(*existing);
    target[it.key()] = MergeInto(std::move(base), *it);
  }
  return target;
}

Json Diff(const Json& original, const Json& modified) {
  if (!original.is_object() || !modified.is_object()) {
    return modified;
  }
  Json patch = Json::object();
  for (auto it = original.begin(); it != original.end(); ++it) {
    if (!modified.contains(it.key())) {
      patch[it.key()] = nullptr;
    }
  }
  for (auto it = modified.begin(); it != modified.end(); ++it) {
    auto old = original.find(it.key());
    if (old != original.end() && old->is_object() && it->is_object()) {
      Json sub = Diff(*old, *it);
      if (!sub.empty()) {
        patch[it.key()] = std::move(sub);
      }
    } else if (old == original.end() || *old != *it) {
      patch[it.key()] = *it;
    }
  }
  return patch;
}

// keepOrDeleteNullInObj: with keep_null, only the deletions (nulls) of a patch; without,
// everything but them. An explicitly empty object is a value, not an empty patch.
Json KeepOrDropNulls(const Json& patch, bool keep_null) {
  Json out = Json::object();
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    if (it->is_null()) {
      if (keep_null) {
        out[it.key()] = nullptr;
      }
    } else if (it->is_object()) {
      if (it->empty()) {
        if (!keep_null) {
          out[it.key()] = Json::object();
        }
        continue;
      }
      Json sub = KeepOrDropNulls(*it, keep_null);
      if (!sub.empty()) {
        out[it.key()] = std::move(sub);
      }
    } else if (!keep_null) {
      out[it.key()] = *it;  // lists are replaced whole
    }
  }
  return out;
}

// ---- JSON patch ---------------------------------------------------------------------------

std::string Show(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 120) {
    s = s.substr(0, 117) + "...";
  }
  return s;
}

std::string Quoted(std::string_view s) { return Show(Json(std::string(s))); }

// RFC 6901 array index: "0" or [1-9][0-9]*.
std::optional<size_t> ParseIndex(std::string_view token) {
  if (token.empty() || token.size() > 18) {
    return std::nullopt;
  }
  if (token.size() > 1 && token[0] == '0') {
    return std::nullopt;
  }
  size_t v = 0;
  for (char c : token) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  return v;
}

std::string JoinPointer(const std::vector<std::string>& tokens, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    out += '/';
    for (char c : tokens[i]) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
  }
  return out;
}

// The node at the first `count` tokens, or null when there is none.
Json* Resolve(Json& doc, const std::vector<std::string>& tokens, size_t count) {
  Json* node = &doc;
  for (size_t i = 0; i < count; ++i) {
    const std::string& t = tokens[i];
    if (node->is_object()) {
      auto it = node->find(t);
      if (it == node->end()) {
        return nullptr;
      }
      node = &*it;
    } else if (node->is_array()) {
      auto index = ParseIndex(t);
      if (!index || *index >= node->size()) {
        return nullptr;
      }
      node = &(*node)[*index];
    } else {
      return nullptr;
    }
  }
  return node;
}

// One operation being applied; builds its error messages.
struct OpContext {
  size_t index;
  std::string op;
  std::string path;

  Status Fail(std::string_view detail) const {
    return Invalid("jsonpatch " + op + " operation does not apply: operation " +
                   std::to_string(index) + ", path " + Quoted(path) + ": " + std::string(detail));
  }
  Status Malformed(std::string_view detail) const {
    return Invalid("jsonpatch operation " + std::to_string(index) + ": " + std::string(detail));
  }
};

Status Missing(const OpContext& ctx, const std::vector<std::string>& tokens, size_t count) {
  return ctx.Fail("doc is missing path " + Quoted(JoinPointer(tokens, count)));
}

Status AddAt(Json& doc, const std::vector<std::string>& tokens, Json value, const OpContext& ctx) {
  if (tokens.empty()) {
    doc = std::move(value);
    return Status::Ok();
  }
  Json* parent = Resolve(doc, tokens, tokens.size() - 1);
  if (parent == nullptr) {
    return Missing(ctx, tokens, tokens.size() - 1);
  }
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    (*parent)[last] = std::move(value);
    return Status::Ok();
  }
  if (parent->is_array()) {
    if (last == "-") {
      parent->push_back(std::move(value));
      return Status::Ok();
    }
    auto index = ParseIndex(last);
    if (!index) {
      return ctx.Fail("invalid array index " + Quoted(last));
    }
    if (*index > parent->size()) {
      return ctx.Fail("index " + last + " is out of bounds for an array of " +
                      std::to_string(parent->size()));
    }
    parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(*index), std::move(value));
    return Status::Ok();
  }
  return ctx.Fail("parent " + Quoted(JoinPointer(tokens, tokens.size() - 1)) +
                  " is neither an object nor an array");
}

Status RemoveAt(Json& doc, const std::vector<std::string>& tokens, const OpContext& ctx) {
  if (tokens.empty()) {
    return ctx.Fail("cannot remove the whole document");
  }
  Json* parent = Resolve(doc, tokens, tokens.size() - 1);
  if (parent == nullptr) {
    return Missing(ctx, tokens, tokens.size());
  }
  const std::string& last = tokens.back();
  if (parent->is_object()) {
    auto it = parent->find(last);
    if (it == parent->end()) {
      return Missing(ctx, tokens, tokens.size());
    }
    parent->erase(it);
    return Status::Ok();
  }
  if (parent->is_array()) {
    auto index = ParseIndex(last);
    if (!index || *index >= parent->size()) {
      return Missing(ctx, tokens, tokens.size());
    }
    parent->erase(parent->begin() + static_cast<std::ptrdiff_t>(*index));
    return Status::Ok();
  }
  return Missing(ctx, tokens, tokens.size());
}

bool IsProperPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& of) {
  if (prefix.size() >= of.size()) {
    return false;
  }
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (prefix[i] != of[i]) {
      return false;
    }
  }
  return true;
}

Status ApplyOne(Json& doc, const Json& op_json, size_t index) {
  OpContext ctx{index, "", ""};
  auto member = [&](const char* name) -> const Json* {
    auto it = op_json.find(name);
    return it == op_json.end() ? nullptr : &*it;
  };
  const Json* op = member("op");
  if (op == nullptr || !op->is_string()) {
    return ctx.Malformed("missing \"op\" (a string)");
  }
  ctx.op = op->get<std::string>();
  const Json* path = member("path");
  if (path == nullptr || !path->is_string()) {
    return ctx.Malformed("\"" + ctx.op + "\" is missing \"path\" (a string)");
  }
  ctx.path = path->get<std::string>();
  auto tokens = SplitJsonPointer(ctx.path);
  if (!tokens.ok()) {
    return ctx.Malformed(tokens.error().message());
  }

  const Json* value = member("value");
  auto need_value = [&]() -> Status {
    if (value == nullptr) {
      return ctx.Malformed("\"" + ctx.op + "\" is missing \"value\"");
    }
    return Status::Ok();
  };
  std::vector<std::string> from;
  std::string from_text;
  auto need_from = [&]() -> Status {
    const Json* f = member("from");
    if (f == nullptr || !f->is_string()) {
      return ctx.Malformed("\"" + ctx.op + "\" is missing \"from\" (a string)");
    }
    from_text = f->get<std::string>();
    auto parsed = SplitJsonPointer(from_text);
    if (!parsed.ok()) {
      return ctx.Malformed(parsed.error().message());
    }
    from = std::move(*parsed);
    return Status::Ok();
  };

  if (ctx.op == "add") {
    LINTEL_RETURN_IF_ERROR(need_value());
    return AddAt(doc, *tokens, *value, ctx);
  }
  if (ctx.op == "remove") {
    return RemoveAt(doc, *tokens, ctx);
  }
  if (ctx.op == "replace") {
    LINTEL_RETURN_IF_ERROR(need_value());
    Json* node = Resolve(doc, *tokens, tokens->size());
    if (node == nullptr) {
      return Missing(ctx, *tokens, tokens->size());
    }
    *node = *value;
    return Status::Ok();
  }
  if (ctx.op == "move" || ctx.op == "copy") {
    LINTEL_RETURN_IF_ERROR(need_from());
    Json* source = Resolve(doc, from, from.size());
    if (source == nullptr) {
      return ctx.Fail("doc is missing from path " + Quoted(from_text));
    }
    if (ctx.op == "copy") {
      return AddAt(doc, *tokens, *source, ctx);
    }
    if (from == *tokens) {
      return Status::Ok();
    }
    if (IsProperPrefix(from, *tokens)) {
      return ctx.Fail("cannot move " + Quoted(from_text) + " into one of its children");
    }
    Json moved = std::move(*source);
    LINTEL_RETURN_IF_ERROR(RemoveAt(doc, from, ctx));
    return AddAt(doc, *tokens, std::move(moved), ctx);
  }
  if (ctx.op == "test") {
    LINTEL_RETURN_IF_ERROR(need_value());
    Json* node = Resolve(doc, *tokens, tokens->size());
    if (node == nullptr) {
      return Missing(ctx, *tokens, tokens->size());
    }
    if (*node != *value) {
      return ctx.Fail("value is " + Show(*node) + ", expected " + Show(*value));
    }
    return Status::Ok();
  }
  return ctx.Malformed("unknown op " + Quoted(ctx.op) +
                       ": must be one of add, remove, replace, move, copy, test");
}

}  // namespace

Result<std::vector<std::string>> SplitJsonPointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) {
    return tokens;
  }
  if (pointer[0] != '/') {
    return BadRequest("invalid JSON pointer " + Quoted(pointer) +
                      ": must be empty or start with '/'");
  }
  std::string current;
  for (size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(current));
      current.clear();
      continue;
    }
    char c = pointer[i];
    if (c == '~') {
      char next = i + 1 < pointer.size() ? pointer[i + 1] : '\0';
      if (next != '0' && next != '1') {
        return BadRequest("invalid JSON pointer " + Quoted(pointer) +
                          ": '~' must be followed by '0' or '1'");
      }
      current += next == '0' ? '~' : '/';
      ++i;
      continue;
    }
    current += c;
  }
  return tokens;
}

Result<Json> ApplyMergePatch(const Json& target, const Json& patch) {
  try {
    return MergeInto(target, patch);
  } catch (const std::exception& e) {
    return Internal(std::string("merge patch: ") + e.what());
  }
}

Result<Json> ApplyJsonPatch(const Json& target, const Json& patch) {
  if (!patch.is_array()) {
    return BadRequest("json patch must be an array of operations, not " +
                      std::string(patch.type_name()));
  }
  if (patch.size() > kMaxJsonPatchOperations) {
    return Status(Code::kRequestEntityTooLarge,
                  "The allowed maximum operations in a JSON patch is " +
                      std::to_string(kMaxJsonPatchOperations) + ", got " +
                      std::to_string(patch.size()));
  }
  for (size_t i = 0; i < patch.size(); ++i) {
    if (!patch[i].is_object()) {
      return BadRequest("json patch operation " + std::to_string(i) + " must be an object, not " +
                        std::string(patch[i].type_name()));
    }
  }
  try {
    Json doc = target;
    for (size_t i = 0; i < patch.size(); ++i) {
      LINTEL_RETURN_IF_ERROR(ApplyOne(doc, patch[i], i));
    }
    return doc;
  } catch (const std::exception& e) {
    return Internal(std::string("json patch: ") + e.what());
  }
}

Json CreateMergePatch(const Json& original, const Json& modified) {
  try {
    return Diff(original, modified);
  } catch (const std::exception&) {
    return modified;  // a replacing patch is always correct
  }
}

Json CreateThreeWayMergePatch(const Json& original, const Json& modified, const Json& current) {
  if (modified.is_null()) {
    return CreateThreeWayMergePatch(original, Json::object(), current);
  }
  if (!modified.is_object()) {
    return modified;
  }
  try {
    const Json empty = Json::object();
    const Json& orig = original.is_object() ? original : empty;
    const Json& cur = current.is_object() ? current : empty;
    Json add_and_change = KeepOrDropNulls(Diff(cur, modified), /*keep_null=*/false);
    Json deletions = KeepOrDropNulls(Diff(orig, modified), /*keep_null=*/true);
    return MergeInto(std::move(deletions), add_and_change);
  } catch (const std::exception&) {
    return modified;
  }
}

}  // namespace lintel::apimachinery
