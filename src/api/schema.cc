#include "api/schema.h"

#include <algorithm>
#include <set>

#include "apimachinery/names.h"
#include "apimachinery/quantity.h"
#include "common/time_format.h"

namespace lintel::api {

namespace {

const std::vector<Property>& NoProperties() {
  static const auto* const kEmpty = new std::vector<Property>();
  return *kEmpty;
}

std::string TypeName(Type t) {
  switch (t) {
    case Type::kObject: return "object";
    case Type::kMap: return "object";
    case Type::kArray: return "array";
    case Type::kString: return "string";
    case Type::kInteger: return "integer";
    case Type::kNumber: return "number";
    case Type::kBoolean: return "boolean";
    case Type::kQuantity: return "quantity";
    case Type::kIntOrString: return "integer or string";
    case Type::kTime: return "date-time string";
    case Type::kAny: return "any";
  }
  return "any";
}

std::string JsonTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return "object";
    case Json::value_t::array: return "array";
    case Json::value_t::string: return "string";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::null: return "null";
    case Json::value_t::number_float: return "number";
    default: return "integer";
  }
}

bool IsInteger(const Json& v) {
  if (v.is_number_integer() || v.is_number_unsigned()) return true;
  if (v.is_number_float()) {
    double d = v.get<double>();
    return d == static_cast<double>(static_cast<int64_t>(d));
  }
  return false;
}

void CheckFormat(Format f, const std::string& s, const std::string& path, const Json& value,
                 std::vector<Cause>* causes) {
  std::vector<std::string> errs;
  switch (f) {
    case Format::kNone: return;
    case Format::kDns1123Label: errs = apimachinery::IsDns1123Label(s); break;
    case Format::kDns1123Subdomain: errs = apimachinery::IsDns1123Subdomain(s); break;
    case Format::kQualifiedName: errs = apimachinery::IsQualifiedName(s); break;
    case Format::kLabelValue: errs = apimachinery::IsValidLabelValue(s); break;
    case Format::kIPv4: {
      int parts = 0;
      size_t pos = 0;
      bool ok = !s.empty();
      while (ok && pos <= s.size()) {
        size_t dot = s.find('.', pos);
        std::string part = s.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
        ok = !part.empty() && part.size() <= 3 &&
             std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
             std::stoi(part) <= 255;
        ++parts;
        if (dot == std::string::npos) break;
        pos = dot + 1;
      }
      if (!ok || parts != 4) errs.push_back("must be a valid IPv4 address, (e.g. 10.9.8.7)");
      break;
    }
    case Format::kCidr: {
      auto slash = s.find('/');
      bool ok = slash != std::string::npos;
      if (ok) {
        std::vector<Cause> sub;
        CheckFormat(Format::kIPv4, s.substr(0, slash), path, value, &sub);
        std::string bits = s.substr(slash + 1);
        ok = sub.empty() && !bits.empty() && bits.size() <= 2 &&
             std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
             std::stoi(bits) <= 32;
      }
      if (!ok) errs.push_back("must be a valid CIDR value, (e.g. 10.9.8.0/24)");
      break;
    }
  }
  for (const auto& e : errs) causes->push_back(InvalidValue(path, value, e));
}

}  // namespace

// ---- builders --------------------------------------------------------------

Schema Schema::Doc(std::string text) const {
  Schema s = *this;
  s.doc_ = std::move(text);
  return s;
}
Schema Schema::Default(Json value) const {
  Schema s = *this;
  s.default_ = std::move(value);
  return s;
}
Schema Schema::Enum(std::vector<std::string> values) const {
  Schema s = *this;
  s.enum_ = std::move(values);
  return s;
}
Schema Schema::Min(int64_t v) const {
  Schema s = *this;
  s.min_ = v;
  return s;
}
Schema Schema::Max(int64_t v) const {
  Schema s = *this;
  s.max_ = v;
  return s;
}
Schema Schema::MaxLength(size_t n) const {
  Schema s = *this;
  s.max_length_ = n;
  return s;
}
Schema Schema::MaxItems(size_t n) const {
  Schema s = *this;
  s.max_items_ = n;
  return s;
}
Schema Schema::WithFormat(Format f) const {
  Schema s = *this;
  s.format_ = f;
  return s;
}
Schema Schema::Required() const {
  Schema s = *this;
  s.required_ = true;
  return s;
}
Schema Schema::Nullable() const {
  Schema s = *this;
  s.nullable_ = true;
  return s;
}
Schema Schema::Positive() const {
  Schema s = *this;
  s.positive_ = true;
  return s;
}
Schema Schema::NonNegative() const {
  Schema s = *this;
  s.non_negative_ = true;
  return s;
}
Schema Schema::Check(CheckFn fn) const {
  Schema s = *this;
  s.checks_.push_back(std::move(fn));
  return s;
}
Schema Schema::ListSet() const {
  Schema s = *this;
  s.list_type_ = ListType::kSet;
  return s;
}
Schema Schema::ListMap(std::vector<std::string> keys) const {
  Schema s = *this;
  s.list_type_ = ListType::kMap;
  s.list_keys_ = std::move(keys);
  return s;
}
Schema Schema::Immutable() const {
  Schema s = *this;
  s.immutable_ = true;
  return s;
}

const std::vector<Property>& Schema::properties() const {
  return properties_ ? *properties_ : NoProperties();
}

const Schema* Schema::Find(std::string_view property) const {
  for (const auto& p : properties()) {
    if (p.name == property) return &p.schema;
  }
  return nullptr;
}

const Schema* Schema::AtPath(std::string_view dotted) const {
  const Schema* cur = this;
  size_t pos = 0;
  while (pos < dotted.size()) {
    if (dotted[pos] == '.') ++pos;
    size_t end = dotted.find('.', pos);
    std::string_view name = dotted.substr(pos, end == std::string_view::npos ? end : end - pos);
    while (cur && (cur->type_ == Type::kArray || cur->type_ == Type::kMap)) cur = cur->items();
    if (!cur) return nullptr;
    cur = cur->Find(name);
    if (!cur) return nullptr;
    if (end == std::string_view::npos) break;
    pos = end;
  }
  return cur;
}

Schema Object(std::initializer_list<Property> props) {
  Schema s(Type::kObject);
  s.properties_ = std::make_shared<const std::vector<Property>>(props);
  return s;
}
Schema Array(Schema items) {
  Schema s(Type::kArray);
  s.items_ = std::make_shared<const Schema>(std::move(items));
  return s;
}
Schema MapOf(Schema values) {
  Schema s(Type::kMap);
  s.items_ = std::make_shared<const Schema>(std::move(values));
  return s;
}
Schema String() { return Schema(Type::kString); }
Schema Int() { return Schema(Type::kInteger); }
Schema Number() { return Schema(Type::kNumber); }
Schema Bool() { return Schema(Type::kBoolean); }
Schema QuantityType() { return Schema(Type::kQuantity); }
Schema IntOrString() { return Schema(Type::kIntOrString); }
Schema Time() { return Schema(Type::kTime); }
Schema AnyJson() { return Schema(Type::kAny); }
Schema StringMap() { return MapOf(String()); }

Schema Extend(const Schema& base, std::initializer_list<Property> more) {
  return Extend(base, std::vector<Property>(more));
}

Schema Extend(const Schema& base, const std::vector<Property>& more) {
  std::vector<Property> props = base.properties();
  for (const auto& p : more) {
    auto it = std::find_if(props.begin(), props.end(),
                           [&](const Property& q) { return q.name == p.name; });
    if (it != props.end()) {
      it->schema = p.schema;
    } else {
      props.push_back(p);
    }
  }
  Schema s = base;
  s.type_ = Type::kObject;
  s.properties_ = std::make_shared<const std::vector<Property>>(std::move(props));
  return s;
}

// ---- validation --------------------------------------------------------------

void Schema::Validate(const Json& value, const std::string& path, std::vector<Cause>* causes,
                      std::vector<std::string>* unknown) const {
  if (value.is_null()) {
    // null is "absent" for optional fields; required-ness is checked by the parent.
    return;
  }
  switch (type_) {
    case Type::kAny:
      break;
    case Type::kObject: {
      if (!value.is_object()) {
        causes->push_back(TypeInvalid(path, value, "object"));
        return;
      }
      for (const auto& p : properties()) {
        auto it = value.find(p.name);
        std::string child = JoinPath(path, p.name);
        if (it == value.end() || it->is_null()) {
          if (p.schema.required_) causes->push_back(RequiredValue(child));
          continue;
        }
        p.schema.Validate(*it, child, causes, unknown);
      }
      if (unknown) {
        for (auto it = value.begin(); it != value.end(); ++it) {
          if (!Find(it.key())) unknown->push_back(JoinPath(path, it.key()));
        }
      }
      break;
    }
    case Type::kMap: {
      if (!value.is_object()) {
        causes->push_back(TypeInvalid(path, value, "object"));
        return;
      }
      if (items_) {
        for (auto it = value.begin(); it != value.end(); ++it) {
          items_->Validate(it.value(), KeyPath(path, it.key()), causes, unknown);
        }
      }
      break;
    }
    case Type::kArray: {
      if (!value.is_array()) {
        causes->push_back(TypeInvalid(path, value, "array"));
        return;
      }
      if (max_items_ && value.size() > *max_items_) {
        causes->push_back({"FieldValueTooMany", path,
                           "Too many: " + std::to_string(value.size()) + ": must have at most " +
                               std::to_string(*max_items_) + " items"});
      }
      for (size_t i = 0; i < value.size(); ++i) {
        if (items_) items_->Validate(value[i], IndexPath(path, i), causes, unknown);
      }
      if (list_type_ == ListType::kMap && !list_keys_.empty()) {
        std::set<std::string> seen;
        for (size_t i = 0; i < value.size(); ++i) {
          if (!value[i].is_object()) continue;
          Json key = Json::object();
          for (const auto& k : list_keys_) {
            if (value[i].contains(k)) key[k] = value[i][k];
          }
          if (!seen.insert(key.dump()).second) {
            std::string field = IndexPath(path, i);
            const Json& shown = list_keys_.size() == 1 && key.contains(list_keys_[0])
                                    ? key[list_keys_[0]]
                                    : key;
            causes->push_back(DuplicateValue(
                list_keys_.size() == 1 ? JoinPath(field, list_keys_[0]) : field, shown));
          }
        }
      } else if (list_type_ == ListType::kSet) {
        std::set<std::string> seen;
        for (size_t i = 0; i < value.size(); ++i) {
          if (!seen.insert(value[i].dump()).second) {
            causes->push_back(DuplicateValue(IndexPath(path, i), value[i]));
          }
        }
      }
      break;
    }
    case Type::kString:
    case Type::kTime: {
      if (!value.is_string()) {
        causes->push_back(TypeInvalid(path, value, "string"));
        return;
      }
      const auto& s = value.get_ref<const std::string&>();
      if (type_ == Type::kTime && !ParseRfc3339(s)) {
        causes->push_back(InvalidValue(path, value, "must be an RFC 3339 date-time"));
        return;
      }
      if (max_length_ && s.size() > *max_length_) {
        causes->push_back(TooLong(path, value, *max_length_));
        return;
      }
      if (!enum_.empty() && std::find(enum_.begin(), enum_.end(), s) == enum_.end()) {
        causes->push_back(NotSupportedValue(path, value, enum_));
        return;
      }
      CheckFormat(format_, s, path, value, causes);
      break;
    }
    case Type::kInteger:
    case Type::kNumber: {
      bool ok = type_ == Type::kInteger ? IsInteger(value) : value.is_number();
      if (!ok) {
        causes->push_back(TypeInvalid(path, value, TypeName(type_)));
        return;
      }
      double d = value.get<double>();
      if (min_ && d < static_cast<double>(*min_)) {
        causes->push_back(InvalidValue(
            path, value, "must be greater than or equal to " + std::to_string(*min_)));
      } else if (positive_ && d <= 0) {
        causes->push_back(InvalidValue(path, value, "must be greater than 0"));
      } else if (non_negative_ && d < 0) {
        causes->push_back(InvalidValue(path, value, "must be greater than or equal to 0"));
      }
      if (max_ && d > static_cast<double>(*max_)) {
        causes->push_back(
            InvalidValue(path, value, "must be less than or equal to " + std::to_string(*max_)));
      }
      break;
    }
    case Type::kBoolean:
      if (!value.is_boolean()) {
        causes->push_back(TypeInvalid(path, value, "boolean"));
        return;
      }
      break;
    case Type::kQuantity: {
      std::string text;
      if (value.is_string()) {
        text = value.get<std::string>();
      } else if (value.is_number()) {
        text = value.dump();
      } else {
        causes->push_back(TypeInvalid(path, value, "quantity (string or number)"));
        return;
      }
      auto q = apimachinery::Quantity::Parse(text);
      if (!q.ok()) {
        causes->push_back(InvalidValue(path, value, q.error().message()));
        return;
      }
      if ((non_negative_ || positive_ || (min_ && *min_ >= 0)) && q->IsNegative()) {
        causes->push_back(InvalidValue(path, value, "must be greater than or equal to 0"));
      } else if (positive_ && q->IsZero()) {
        causes->push_back(InvalidValue(path, value, "must be greater than 0"));
      }
      break;
    }
    case Type::kIntOrString:
      if (!value.is_string() && !IsInteger(value)) {
        causes->push_back(TypeInvalid(path, value, "integer or string"));
        return;
      }
      if (IsInteger(value)) {
        double d = value.get<double>();
        if (min_ && d < static_cast<double>(*min_)) {
          causes->push_back(InvalidValue(
              path, value, "must be greater than or equal to " + std::to_string(*min_)));
        }
        if (max_ && d > static_cast<double>(*max_)) {
          causes->push_back(InvalidValue(
              path, value, "must be less than or equal to " + std::to_string(*max_)));
        }
      }
      break;
  }
  for (const auto& check : checks_) check(value, path, causes);
}

void Schema::ApplyDefaults(Json* value) const {
  switch (type_) {
    case Type::kObject:
      if (!value->is_object()) return;
      for (const auto& p : properties()) {
        auto it = value->find(p.name);
        if (it == value->end() || it->is_null()) {
          if (p.schema.default_) {
            (*value)[p.name] = *p.schema.default_;
            p.schema.ApplyDefaults(&(*value)[p.name]);
          }
          continue;
        }
        p.schema.ApplyDefaults(&*it);
      }
      break;
    case Type::kArray:
      if (!value->is_array() || !items_) return;
      for (auto& e : *value) items_->ApplyDefaults(&e);
      break;
    case Type::kMap:
      if (!value->is_object() || !items_) return;
      for (auto& [k, v] : value->items()) items_->ApplyDefaults(&v);
      break;
    default:
      break;
  }
}

void Schema::PruneUnknown(Json* value) const {
  switch (type_) {
    case Type::kObject: {
      if (!value->is_object()) return;
      for (auto it = value->begin(); it != value->end();) {
        const Schema* child = Find(it.key());
        if (!child) {
          it = value->erase(it);
        } else {
          child->PruneUnknown(&it.value());
          ++it;
        }
      }
      break;
    }
    case Type::kArray:
      if (!value->is_array() || !items_) return;
      for (auto& e : *value) items_->PruneUnknown(&e);
      break;
    case Type::kMap:
      if (!value->is_object() || !items_) return;
      for (auto& [k, v] : value->items()) items_->PruneUnknown(&v);
      break;
    default:
      break;
  }
}

void Schema::CheckImmutable(const Json& old_value, const Json& new_value, const std::string& path,
                            std::vector<Cause>* causes) const {
  if (immutable_) {
    if (!old_value.is_null() && old_value != new_value) {
      causes->push_back(InvalidValue(path, new_value, "field is immutable"));
    }
    return;
  }
  if (type_ != Type::kObject || !old_value.is_object() || !new_value.is_object()) return;
  static const Json kNull;
  for (const auto& p : properties()) {
    auto o = old_value.find(p.name);
    auto n = new_value.find(p.name);
    p.schema.CheckImmutable(o == old_value.end() ? kNull : *o, n == new_value.end() ? kNull : *n,
                            JoinPath(path, p.name), causes);
  }
}

// ---- OpenAPI -------------------------------------------------------------------

Json Schema::ToOpenApi() const {
  Json out = Json::object();
  if (!doc_.empty()) out["description"] = doc_;
  switch (type_) {
    case Type::kObject: {
      out["type"] = "object";
      Json props = Json::object();
      Json required = Json::array();
      for (const auto& p : properties()) {
        props[p.name] = p.schema.ToOpenApi();
        if (p.schema.required_) required.push_back(p.name);
      }
      if (!props.empty()) out["properties"] = std::move(props);
      if (!required.empty()) out["required"] = std::move(required);
      break;
    }
    case Type::kMap:
      out["type"] = "object";
      out["additionalProperties"] = items_ ? items_->ToOpenApi() : Json::object();
      break;
    case Type::kArray:
      out["type"] = "array";
      out["items"] = items_ ? items_->ToOpenApi() : Json::object();
      if (list_type_ == ListType::kSet) out["x-kubernetes-list-type"] = "set";
      if (list_type_ == ListType::kMap) {
        out["x-kubernetes-list-type"] = "map";
        out["x-kubernetes-list-map-keys"] = list_keys_;
      }
      if (list_type_ == ListType::kAtomic) out["x-kubernetes-list-type"] = "atomic";
      if (max_items_) out["maxItems"] = *max_items_;
      break;
    case Type::kString:
      out["type"] = "string";
      if (!enum_.empty()) out["enum"] = enum_;
      if (max_length_) out["maxLength"] = *max_length_;
      break;
    case Type::kTime:
      out["type"] = "string";
      out["format"] = "date-time";
      break;
    case Type::kInteger:
      out["type"] = "integer";
      out["format"] = "int64";
      break;
    case Type::kNumber:
      out["type"] = "number";
      break;
    case Type::kBoolean:
      out["type"] = "boolean";
      break;
    case Type::kQuantity:
      out["x-kubernetes-int-or-string"] = true;
      out["anyOf"] = Json::array({{{"type", "integer"}}, {{"type", "string"}}});
      out["pattern"] =
          R"(^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$)";
      break;
    case Type::kIntOrString:
      out["x-kubernetes-int-or-string"] = true;
      out["anyOf"] = Json::array({{{"type", "integer"}}, {{"type", "string"}}});
      break;
    case Type::kAny:
      out["x-kubernetes-preserve-unknown-fields"] = true;
      break;
  }
  if (min_) out["minimum"] = *min_;
  if (max_) out["maximum"] = *max_;
  if (positive_ && (type_ == Type::kInteger || type_ == Type::kNumber)) {
    out["minimum"] = 0;
    out["exclusiveMinimum"] = true;
  }
  if (default_) out["default"] = *default_;
  if (nullable_) out["nullable"] = true;
  return out;
}

// ---- causes --------------------------------------------------------------------

std::string QuoteValue(const Json& value) {
  std::string s = value.dump();
  if (s.size() > 120) s = s.substr(0, 117) + "...";
  return s;
}

Cause InvalidValue(const std::string& path, const Json& value, std::string_view detail) {
  return {"FieldValueInvalid", path,
          "Invalid value: " + QuoteValue(value) + ": " + std::string(detail)};
}

Cause RequiredValue(const std::string& path, std::string_view detail) {
  return {"FieldValueRequired", path,
          detail.empty() ? "Required value" : "Required value: " + std::string(detail)};
}

Cause TypeInvalid(const std::string& path, const Json& value, std::string_view want) {
  return {"FieldValueTypeInvalid", path,
          "Invalid value: " + QuoteValue(value) + ": must be of type " + std::string(want) +
              ", not " + JsonTypeName(value)};
}

Cause NotSupportedValue(const std::string& path, const Json& value,
                        const std::vector<std::string>& allowed) {
  std::string list;
  for (const auto& a : allowed) {
    if (!list.empty()) list += ", ";
    list += "\"" + a + "\"";
  }
  return {"FieldValueNotSupported", path,
          "Unsupported value: " + QuoteValue(value) + ": supported values: " + list};
}

Cause ForbiddenField(const std::string& path, std::string_view detail) {
  return {"FieldValueForbidden", path, "Forbidden: " + std::string(detail)};
}

Cause TooLong(const std::string& path, const Json& value, size_t max) {
  (void)value;
  return {"FieldValueTooLong", path,
          "Too long: may not be longer than " + std::to_string(max)};
}

Cause DuplicateValue(const std::string& path, const Json& value) {
  return {"FieldValueDuplicate", path, "Duplicate value: " + QuoteValue(value)};
}

std::string JoinPath(const std::string& base, std::string_view field) {
  if (base.empty()) return std::string(field);
  std::string out = base;
  out.push_back('.');
  out.append(field);
  return out;
}

std::string IndexPath(const std::string& base, size_t index) {
  return base + "[" + std::to_string(index) + "]";
}

std::string KeyPath(const std::string& base, std::string_view key) {
  return base + "[" + std::string(key) + "]";
}

}  // namespace lintel::api
