// lintel wait: until objects are deleted, exist, have a condition, or have a
// field value (--for=delete|create|condition=C[=V]|jsonpath={.a.b}[=V]).
#include <thread>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/fetch.h"
#include "cli/output.h"
#include "cli/resource_args.h"
#include "cli/text.h"
#include "cli/waiter.h"

namespace lintel::cli {

namespace {

struct WaitFlags {
  std::vector<std::string> args;
  std::string for_;
  std::string timeout = "30s";
  std::string selector;
  std::string field_selector;
  bool all = false;
  bool all_namespaces = false;
};

struct Condition {
  enum class Type { kDelete, kCreate, kCondition, kJsonPath } type;
  std::string name;   // condition type, or the JSON path's fields
  std::string value;  // wanted status or value
  bool has_value = false;
  std::vector<std::string> path;
};

Result<Condition> ParseFor(const std::string& spec) {
  Condition c;
  if (spec == "delete") {
    c.type = Condition::Type::kDelete;
    return c;
  }
  if (spec == "create") {
    c.type = Condition::Type::kCreate;
    return c;
  }
  if (StartsWith(spec, "condition=")) {
    c.type = Condition::Type::kCondition;
    std::string rest = spec.substr(10);
    size_t eq = rest.find('=');
    c.name = rest.substr(0, eq);
    c.value = eq == std::string::npos ? "True" : rest.substr(eq + 1);
    if (c.name.empty()) return CliError("condition name is required");
    return c;
  }
  if (StartsWith(spec, "jsonpath=")) {
    c.type = Condition::Type::kJsonPath;
    std::string rest = spec.substr(9);
    size_t close = rest.find('}');
    if (rest.empty() || rest[0] != '{' || close == std::string::npos) {
      return CliError("jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3");
    }
    std::string expr = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != '=') return CliError("jsonpath wait has to have a value after '='");
      c.value = rest.substr(close + 2);
      c.has_value = true;
    }
    if (StartsWith(expr, ".")) expr = expr.substr(1);
    for (auto& part : Split(expr, '.')) {
      // a[0] -> a, 0
      size_t bracket = part.find('[');
      if (bracket == std::string::npos) {
        c.path.push_back(part);
        continue;
      }
      c.path.push_back(part.substr(0, bracket));
      std::string idx = part.substr(bracket + 1);
      if (!idx.empty() && idx.back() == ']') idx.pop_back();
      c.path.push_back(idx);
    }
    return c;
  }
  return CliError("unrecognized condition: \"" + spec + "\"");
}

bool ConditionMet(const Json& obj, const Condition& c) {
  if (c.type == Condition::Type::kCreate) return true;
  if (c.type == Condition::Type::kJsonPath) {
    const Json* v = &obj;
    for (const auto& key : c.path) {
      if (v->is_object() && v->contains(key)) {
        v = &(*v)[key];
      } else if (v->is_array() && !key.empty() &&
                 key.find_first_not_of("0123456789") == std::string::npos &&
                 std::stoul(key) < v->size()) {
        v = &(*v)[std::stoul(key)];
      } else {
        return false;
      }
    }
    if (!c.has_value) return true;
    std::string s = v->is_string() ? v->get<std::string>() : v->dump();
    return s == c.value;
  }
  if (!obj.contains("status") || !obj["status"].is_object()) return false;
  const Json& status = obj["status"];
  if (!status.contains("conditions") || !status["conditions"].is_array()) return false;
  for (const auto& cond : status["conditions"]) {
    if (!cond.is_object() || ToLower(cond.value("type", "")) != ToLower(c.name)) continue;
    if (cond.contains("observedGeneration") && cond["observedGeneration"].is_number() &&
        obj["metadata"].contains("generation") &&
        obj["metadata"]["generation"].get<int64_t>() > cond["observedGeneration"].get<int64_t>()) {
      return false;
    }
    return ToLower(cond.value("status", "")) == ToLower(c.value);
  }
  return false;
}

int RunWait(ClientContext& ctx, const WaitFlags& f) {
  if (f.for_.empty()) {
    return PrintError(ctx.err(), CliError("--for must be specified: delete, create, "
                                          "condition=NAME[=VALUE] or jsonpath={.path}=VALUE"));
  }
  auto cond = ParseFor(f.for_);
  if (!cond.ok()) return PrintError(ctx.err(), cond.error());
  auto timeout = ParseDuration(f.timeout);
  if (!timeout.ok()) return PrintError(ctx.err(), CliError(timeout.error().message()));
  // kubectl: --timeout=0 checks once; a negative one waits a week.
  Deadline deadline = timeout->count() < 0 ? DeadlineAfter(std::chrono::milliseconds(0))
                                           : std::chrono::steady_clock::now() + *timeout;
  auto discovery = ctx.discovery();
  if (!discovery.ok()) return PrintError(ctx.err(), discovery.error());
  auto requests = ParseResourceArgs(**discovery, f.args, /*allow_categories=*/false);
  if (!requests.ok()) return PrintError(ctx.err(), requests.error());

  std::vector<WaitTarget> targets;
  int failures = 0;
  for (const auto& req : *requests) {
    for (const auto& n : req.names) targets.push_back({req.resource, ctx.NamespaceFor(req.resource), n, ""});
    if (!req.names.empty()) continue;
    if (!f.all && f.selector.empty() && f.field_selector.empty()) {
      return PrintError(ctx.err(), CliError("resource(s) were provided, but no name was "
                                            "specified"));
    }
    client::ListOptions o;
    o.label_selector = f.selector;
    o.field_selector = f.field_selector;
    auto list = ListAll(ctx.client(), req.resource,
                        f.all_namespaces ? "" : ctx.NamespaceFor(req.resource), o);
    if (!list.ok()) return PrintError(ctx.err(), ServerError(list.error()));
    for (const auto& item : (*list)["items"]) {
      targets.push_back({req.resource, StringAt(item, "/metadata/namespace"),
                         StringAt(item, "/metadata/name"), StringAt(item, "/metadata/uid")});
    }
    if ((*list)["items"].empty()) {
      return PrintError(ctx.err(), CliError("no matching resources found"));
    }
  }
  for (const auto& t : targets) {
    Status s;
    if (cond->type == Condition::Type::kDelete) {
      s = WaitForDeletion(ctx.client(), t, deadline);
      // Already gone: nothing to report, as kubectl.
      if (s.code() == Code::kNotFound) continue;
    } else if (cond->type == Condition::Type::kCreate) {
      // Absent is not an error here: keep looking until it appears.
      while (true) {
        auto got = ctx.client().Get(t.resource.ToResource(), t.ns, t.name);
        if (got.ok()) break;
        if (got.error().code() != Code::kNotFound) {
          s = got.error();
          break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
          s = Timeout("timed out");
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    } else {
      const Condition& c = *cond;
      s = WaitForObject(ctx.client(), t, [&c](const Json& o) { return ConditionMet(o, c); },
                        deadline);
    }
    if (s.ok()) {
      ctx.out() << ObjectRef(t.resource, t.name) << " condition met\n";
      ctx.out().flush();
      continue;
    }
    ++failures;
    if (s.code() == Code::kTimeout) {
      PrintError(ctx.err(), CliError("timed out waiting for the condition on " + t.resource.name +
                                     "/" + t.name));
    } else {
      PrintError(ctx.err(), ServerError(s));
    }
  }
  return failures > 0 ? 1 : 0;
}

}  // namespace

void AddWaitCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<WaitFlags>();
  auto* cmd = app.add_subcommand("wait", "Wait for a condition on one or many resources");
  cmd->add_option("args", f->args, "TYPE/NAME... | TYPE NAME... | TYPE -l SELECTOR");
  cmd->add_option("--for", f->for_,
                  "delete, create, condition=NAME[=VALUE] or jsonpath={.path}[=VALUE]");
  cmd->add_option("--timeout", f->timeout, "How long to wait (e.g. 30s; negative: a week)")
      ->capture_default_str();
  cmd->add_option("-l,--selector", f->selector, "Label selector");
  cmd->add_option("--field-selector", f->field_selector, "Field selector");
  cmd->add_flag("--all", f->all, "Every object of the type in the namespace");
  cmd->add_flag("-A,--all-namespaces", f->all_namespaces, "Select across all namespaces");
  cmd->callback([f, run, &g] {
    *run = [f, &g] { return WithContext(g, [&](ClientContext& ctx) { return RunWait(ctx, *f); }); };
  });
}

}  // namespace lintel::cli
