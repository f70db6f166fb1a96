#include "client/kubeconfig.h"

#include <cstdlib>
#include <filesystem>

#include "common/fs.h"
#include "common/json.h"

namespace lintel::client {

namespace {

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read-only use
  return v != nullptr ? std::string(v) : std::string();
}

// A scalar as a string: YAML may type an unquoted token as a number or bool.
std::string ScalarString(const Json& j) {
  if (j.is_string()) {
    return j.get<std::string>();
  }
  if (j.is_null()) {
    return "";
  }
  return j.dump();
}

bool ScalarBool(const Json& j) {
  if (j.is_boolean()) {
    return j.get<bool>();
  }
  std::string s = ScalarString(j);
  return s == "true" || s == "True" || s == "TRUE";
}

const Json* Member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) {
    return nullptr;
  }
  auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string StringMember(const Json& obj, std::string_view key) {
  const Json* m = Member(obj, key);
  return m != nullptr ? ScalarString(*m) : std::string();
}

class Parser {
 public:
  Parser(const Json& doc, std::string path) : doc_(doc), path_(std::move(path)) {
    dir_ = std::filesystem::path(path_).parent_path().string();
  }

  Status Error(Code code, const std::string& msg) const {
    return Status(code, "kubeconfig " + path_ + ": " + msg);
  }

  // The "cluster"/"user"/"context" body of the named entry of `list`.
  Result<const Json*> Find(std::string_view list, std::string_view what, const std::string& name) {
    const Json* entries = Member(doc_, list);
    if (entries != nullptr && entries->is_array()) {
      for (const Json& e : *entries) {
        if (StringMember(e, "name") == name) {
          const Json* body = Member(e, what);
          static const Json* const empty = new Json(Json::object());
          return body != nullptr ? body : empty;
        }
      }
    }
    return Error(Code::kNotFound, std::string(what) + " \"" + name + "\" not found");
  }

  // Inline base64 data, else the named file's content, else "".
  Result<std::string> DataOrFile(const Json& obj, std::string_view what, std::string_view data_key,
                                 std::string_view file_key) {
    std::string data = StringMember(obj, data_key);
    if (!data.empty()) {
      auto decoded = Base64Decode(data);
      if (!decoded) {
        return Error(Code::kBadRequest, std::string(what) + ": " + std::string(data_key) + ": " +
                                            decoded.error().message());
      }
      return std::move(*decoded);
    }
    std::string file = StringMember(obj, file_key);
    if (file.empty()) {
      return std::string();
    }
    if (!dir_.empty() && std::filesystem::path(file).is_relative()) {
      file = (std::filesystem::path(dir_) / file).string();
    }
    auto content = ReadFile(file);
    if (!content) {
      return Error(content.error().code(), std::string(what) + ": " + std::string(file_key) + ": " +
                                               content.error().message());
    }
    return std::move(*content);
  }

  Result<Kubeconfig> Parse(const std::string& context_name) {
    if (!doc_.is_object()) {
      return Error(Code::kBadRequest, "not a kubeconfig (want a YAML mapping)");
    }
    Kubeconfig out;
    out.path = path_;
    out.context = context_name.empty() ? StringMember(doc_, "current-context") : context_name;
    if (out.context.empty()) {
      return Error(Code::kNotFound, "no current-context is set and no context was named");
    }
    LINTEL_ASSIGN_OR_RETURN(const Json* ctx, Find("contexts", "context", out.context));
    out.cluster = StringMember(*ctx, "cluster");
    out.user = StringMember(*ctx, "user");
    std::string ns = StringMember(*ctx, "namespace");
    if (!ns.empty()) {
      out.ns = ns;
    }
    if (out.cluster.empty()) {
      return Error(Code::kBadRequest, "context \"" + out.context + "\" names no cluster");
    }

    LINTEL_ASSIGN_OR_RETURN(const Json* cluster, Find("clusters", "cluster", out.cluster));
    std::string what = "cluster \"" + out.cluster + "\"";
    out.server = StringMember(*cluster, "server");
    if (out.server.empty()) {
      return Error(Code::kBadRequest, what + " has no server");
    }
    if (const Json* insecure = Member(*cluster, "insecure-skip-tls-verify")) {
      out.insecure_skip_tls_verify = ScalarBool(*insecure);
    }
    out.tls_server_name = StringMember(*cluster, "tls-server-name");
    LINTEL_ASSIGN_OR_RETURN(out.ca_pem, DataOrFile(*cluster, what, "certificate-authority-data",
                                                   "certificate-authority"));

    if (out.user.empty()) {
      return out;  // anonymous
    }
    LINTEL_ASSIGN_OR_RETURN(const Json* user, Find("users", "user", out.user));
    what = "user \"" + out.user + "\"";
    out.token = StringMember(*user, "token");
    if (out.token.empty()) {
      LINTEL_ASSIGN_OR_RETURN(out.token, DataOrFile(*user, what, "", "tokenFile"));
      while (!out.token.empty() && std::isspace(static_cast<unsigned char>(out.token.back()))) {
        out.token.pop_back();
      }
    }
    LINTEL_ASSIGN_OR_RETURN(out.client_cert_pem, DataOrFile(*user, what, "client-certificate-data",
                                                            "client-certificate"));
    LINTEL_ASSIGN_OR_RETURN(out.client_key_pem,
                            DataOrFile(*user, what, "client-key-data", "client-key"));
    if (out.client_cert_pem.empty() != out.client_key_pem.empty()) {
      return Error(Code::kBadRequest, what + ": a client certificate needs both cert and key");
    }
    bool has_credentials = !out.token.empty() || !out.client_cert_pem.empty();
    if (!has_credentials &&
        (Member(*user, "exec") != nullptr || Member(*user, "auth-provider") != nullptr)) {
      return Error(Code::kBadRequest,
                   what + ": exec and auth-provider credentials are not supported");
    }
    return out;
  }

 private:
  const Json& doc_;
  const std::string path_;
  std::string dir_;
};

std::string Quote(std::string_view s) { return Json(std::string(s)).dump(); }

}  // namespace

HttpClientOptions Kubeconfig::ToHttpClientOptions() const {
  HttpClientOptions o;
  o.base_url = server;
  o.ca_pem = ca_pem;
  o.insecure_skip_tls_verify = insecure_skip_tls_verify;
  o.tls_server_name = tls_server_name;
  o.client_cert_pem = client_cert_pem;
  o.client_key_pem = client_key_pem;
  o.bearer_token = token;
  return o;
}

Result<std::string> FindKubeconfig(const std::string& explicit_path) {
  if (!explicit_path.empty()) {
    if (!FileExists(explicit_path)) {
      return NotFound("kubeconfig " + explicit_path + ": no such file");
    }
    return explicit_path;
  }
  std::string env = Getenv("KUBECONFIG");
  if (!env.empty()) {
    size_t start = 0;
    while (start <= env.size()) {
      size_t colon = env.find(':', start);
      std::string candidate = env.substr(start, colon - start);
      if (!candidate.empty() && FileExists(candidate)) {
        return candidate;
      }
      if (colon == std::string::npos) {
        break;
      }
      start = colon + 1;
    }
    return NotFound("kubeconfig: none of $KUBECONFIG (" + env + ") exists");
  }
  std::string home = Getenv("HOME");
  std::string def = (home.empty() ? std::string(".") : home) + "/.kube/config";
  if (!FileExists(def)) {
    return NotFound("kubeconfig " + def + ": no such file (and $KUBECONFIG is unset)");
  }
  return def;
}

Result<Kubeconfig> LoadKubeconfig(const std::string& explicit_path, const std::string& context) {
  LINTEL_ASSIGN_OR_RETURN(std::string path, FindKubeconfig(explicit_path));
  auto text = ReadFile(path);
  if (!text) {
    return Status(text.error().code(), "kubeconfig " + path + ": " + text.error().message());
  }
  return ParseKubeconfig(*text, path, context);
}

Result<Kubeconfig> ParseKubeconfig(std::string_view text, const std::string& path,
                                   const std::string& context) {
  auto doc = ParseYaml(text);
  if (!doc) {
    return BadRequest("kubeconfig " + path + ": " + doc.error().message());
  }
  return Parser(*doc, path).Parse(context);
}

std::string RenderKubeconfig(const KubeconfigContent& c) {
  std::string name = Quote(c.name);
  std::string out;
  out += "apiVersion: v1\n";
  out += "kind: Config\n";
  out += "clusters:\n";
  out += "- name: " + name + "\n";
  out += "  cluster:\n";
  out += "    server: " + Quote(c.server) + "\n";
  if (!c.ca_pem.empty()) {
    out += "    certificate-authority-data: " + Base64Encode(c.ca_pem) + "\n";
  }
  if (c.insecure_skip_tls_verify) {
    out += "    insecure-skip-tls-verify: true\n";
  }
  out += "users:\n";
  out += "- name: " + name + "\n";
  out += "  user:\n";
  bool any_user = false;
  if (!c.token.empty()) {
    out += "    token: " + Quote(c.token) + "\n";
    any_user = true;
  }
  if (!c.client_cert_pem.empty()) {
    out += "    client-certificate-data: " + Base64Encode(c.client_cert_pem) + "\n";
    out += "    client-key-data: " + Base64Encode(c.client_key_pem) + "\n";
    any_user = true;
  }
  if (!any_user) {
    out.resize(out.size() - std::string_view("  user:\n").size());
    out += "  user: {}\n";
  }
  out += "contexts:\n";
  out += "- name: " + name + "\n";
  out += "  context:\n";
  out += "    cluster: " + name + "\n";
  out += "    user: " + name + "\n";
  if (!c.ns.empty()) {
    out += "    namespace: " + Quote(c.ns) + "\n";
  }
  out += "current-context: " + name + "\n";
  out += "preferences: {}\n";
  return out;
}

}  // namespace lintel::client
