#include "images/reference.h"

#include <cctype>
#include <vector>

namespace lintel::images {

namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// A repository path component: lower-case alphanumerics separated by one '.',
// one or two '_', or any number of '-'.
bool ValidComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    char ch = c[i];
    if (IsLowerAlnum(ch) || ch == '-') continue;
    if (ch == '.' && c[i + 1] != '.' && c[i + 1] != '_') continue;
    if (ch == '_') {
      size_t run = 1;
      while (i + run < c.size() && c[i + run] == '_') ++run;
      if (run > 2) return false;
      i += run - 1;
      continue;
    }
    return false;
  }
  return true;
}

bool ValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t.front())) return false;
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool ValidRegistry(std::string_view r) {
  if (r.empty()) return false;
  for (char c : r) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
        c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string Reference::Name() const { return registry + "/" + repository; }

std::string Reference::ToString() const {
  std::string out = Name();
  if (!tag.empty()) out += ":" + tag;
  if (digest) out += "@" + digest->ToString();
  return out;
}

std::string Reference::FamiliarName() const {
  if (registry != kDockerHub) return Name();
  if (repository.starts_with("library/") && repository.find('/', 8) == std::string::npos) {
    return repository.substr(8);
  }
  return repository;
}

std::string Reference::ManifestRef() const { return digest ? digest->ToString() : tag; }

Result<Reference> ParseReference(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return Invalid("image reference \"" + std::string(s) + "\": " + std::string(why));
  };
  if (s.empty()) return bad("empty");
  if (s.size() > 1024) return bad("too long");
  Reference ref;
  std::string_view rest = s;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    auto d = ParseDigest(rest.substr(at + 1));
    if (!d.ok()) return bad(d.error().message());
    ref.digest = *d;
    rest = rest.substr(0, at);
  }
  // A tag is after the last ':' that follows the last '/' (a registry port
  // comes before a '/').
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    if (!ValidTag(ref.tag)) return bad("invalid tag \"" + ref.tag + "\"");
    rest = rest.substr(0, colon);
  }
  size_t first = rest.find('/');
  std::string_view head = rest.substr(0, first);
  if (first != std::string_view::npos &&
      (head.find('.') != std::string_view::npos || head.find(':') != std::string_view::npos ||
       head == "localhost")) {
    if (!ValidRegistry(head)) return bad("invalid registry \"" + std::string(head) + "\"");
    ref.registry = std::string(head);
    rest = rest.substr(first + 1);
  } else {
    ref.registry = std::string(kDockerHub);
  }
  if (ref.registry == "index.docker.io" || ref.registry == "registry-1.docker.io") {
    ref.registry = std::string(kDockerHub);
  }
  if (rest.empty()) return bad("no repository");
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find('/', start);
    std::string_view comp = rest.substr(start, end == std::string_view::npos ? end : end - start);
    if (!ValidComponent(comp)) {
      return bad("invalid repository component \"" + std::string(comp) +
                 "\" (lower-case letters, digits and separators . _ -)");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.repository = std::string(rest);
  if (ref.registry == kDockerHub && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.tag.empty() && !ref.digest) ref.tag = "latest";
  return ref;
}

}  // namespace lintel::images
