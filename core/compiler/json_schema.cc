// An approximation of upstream's JSON-schema subtype check for dataclass STRUCT types.
#include "json_schema.h"

#include <set>
#include <string>
#include <vector>

namespace flyte::core::compiler {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

constexpr int kMaxDepth = 48;

bool ValuesEqual(const Value& a, const Value& b);

bool StructsEqual(const Struct& a, const Struct& b) {
  if (a.fields_size() != b.fields_size()) return false;
  for (const auto& [k, v] : a.fields()) {
    auto it = b.fields().find(k);
    if (it == b.fields().end() || !ValuesEqual(v, it->second)) return false;
  }
  return true;
}

// JSON equality: a missing kind reads as null, numbers compare as doubles.
bool ValuesEqual(const Value& a, const Value& b) {
  auto kind = [](const Value& v) {
    return v.kind_case() == Value::KIND_NOT_SET ? Value::kNullValue : v.kind_case();
  };
  if (kind(a) != kind(b)) return false;
  switch (kind(a)) {
    case Value::kNumberValue:
      return a.number_value() == b.number_value();
    case Value::kStringValue:
      return a.string_value() == b.string_value();
    case Value::kBoolValue:
      return a.bool_value() == b.bool_value();
    case Value::kStructValue:
      return StructsEqual(a.struct_value(), b.struct_value());
    case Value::kListValue: {
      const ListValue& la = a.list_value();
      const ListValue& lb = b.list_value();
      if (la.values_size() != lb.values_size()) return false;
      for (int i = 0; i < la.values_size(); ++i) {
        if (!ValuesEqual(la.values(i), lb.values(i))) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

class Comparer {
 public:
  Comparer(const Struct& src_root, const Struct& tgt_root)
      : src_root_(src_root), tgt_root_(tgt_root) {}

  bool Subsumes(const Value& src, const Value& tgt, int depth) {
    if (depth > kMaxDepth) return true;
    if (tgt.has_bool_value())
      return tgt.bool_value() || (src.has_bool_value() && !src.bool_value());
    if (src.has_bool_value()) return !src.bool_value() || IsTrivial(tgt);
    if (!src.has_struct_value() || !tgt.has_struct_value()) return ValuesEqual(src, tgt);
    const Struct* s = Resolve(&src.struct_value(), src_root_, depth);
    const Struct* t = Resolve(&tgt.struct_value(), tgt_root_, depth);
    if (s == nullptr || t == nullptr) return false;
    return SubsumesStruct(*s, *t, depth);
  }

 private:
  const Struct& src_root_;
  const Struct& tgt_root_;

  static const Value* Field(const Struct& s, const char* name) {
    auto it = s.fields().find(name);
    return it == s.fields().end() ? nullptr : &it->second;
  }

  static bool IsTrivial(const Value& v) {
    if (v.has_bool_value()) return v.bool_value();
    if (!v.has_struct_value()) return false;
    for (const auto& [k, unused] : v.struct_value().fields()) {
      if (k != "title" && k != "description" && k != "default" && k != "examples" &&
          k != "$schema" && k != "$id" && k != "$comment") {
        return false;
      }
    }
    return true;
  }

  // Follows a local "$ref" ("#/a/b") within the document; null when it cannot be resolved.
  const Struct* Resolve(const Struct* s, const Struct& root, int depth) {
    for (int hops = 0; hops < kMaxDepth; ++hops) {
      const Value* ref = Field(*s, "$ref");
      if (ref == nullptr || !ref->has_string_value()) return s;
      const std::string& path = ref->string_value();
      if (path.rfind("#", 0) != 0) return s;
      const Struct* cur = &root;
      size_t pos = 1;
      while (pos < path.size()) {
        if (path[pos] != '/') return nullptr;
        size_t next = path.find('/', pos + 1);
        std::string token =
            path.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
        const Value* v = Field(*cur, token.c_str());
        if (v == nullptr || !v->has_struct_value()) return nullptr;
        cur = &v->struct_value();
        pos = next == std::string::npos ? path.size() : next;
      }
      s = cur;
    }
    return s;
  }

  static std::set<std::string> Types(const Value* v) {
    std::set<std::string> out;
    if (v == nullptr) return out;
    if (v->has_string_value()) out.insert(v->string_value());
    if (v->has_list_value()) {
      for (const auto& x : v->list_value().values()) {
        if (x.has_string_value()) out.insert(x.string_value());
      }
    }
    return out;
  }

  static std::set<std::string> Strings(const Value* v) {
    std::set<std::string> out;
    if (v != nullptr && v->has_list_value()) {
      for (const auto& x : v->list_value().values()) {
        if (x.has_string_value()) out.insert(x.string_value());
      }
    }
    return out;
  }

  bool SubsumesStruct(const Struct& s, const Struct& t, int depth) {
    // A union on the source side: each alternative must fit the target.
    for (const char* key : {"anyOf", "oneOf"}) {
      const Value* alts = Field(s, key);
      if (alts != nullptr && alts->has_list_value()) {
        Value tv;
        *tv.mutable_struct_value() = t;
        for (const auto& alt : alts->list_value().values()) {
          if (!Subsumes(alt, tv, depth + 1)) return false;
        }
        return true;
      }
    }
    return SubsumesRest(s, t, depth);
  }

  bool SubsumesRest(const Struct& s, const Struct& t, int depth) {
    // A union on the target side: some alternative must admit the source.
    for (const char* key : {"anyOf", "oneOf"}) {
      const Value* alts = Field(t, key);
      if (alts != nullptr && alts->has_list_value()) {
        Value sv;
        *sv.mutable_struct_value() = s;
        bool any = false;
        for (const auto& alt : alts->list_value().values()) {
          if (Subsumes(sv, alt, depth + 1)) {
            any = true;
            break;
          }
        }
        if (!any) return false;
      }
    }
    if (const Value* all = Field(t, "allOf"); all != nullptr && all->has_list_value()) {
      Value sv;
      *sv.mutable_struct_value() = s;
      for (const auto& alt : all->list_value().values()) {
        if (!Subsumes(sv, alt, depth + 1)) return false;
      }
    }

    // type: every type the source admits must be admitted by the target.
    auto ttypes = Types(Field(t, "type"));
    if (!ttypes.empty()) {
      auto stypes = Types(Field(s, "type"));
      if (stypes.empty()) return false;
      for (const auto& st : stypes) {
        if (ttypes.count(st) == 0 && !(st == "integer" && ttypes.count("number") > 0)) return false;
      }
    }

    // enum / const: the source's values must be among the target's.
    const Value* tenum = Field(t, "enum");
    const Value* tconst = Field(t, "const");
    if (tenum != nullptr || tconst != nullptr) {
      std::vector<const Value*> svals;
      if (const Value* se = Field(s, "enum"); se != nullptr && se->has_list_value()) {
        for (const auto& v : se->list_value().values()) svals.push_back(&v);
      } else if (const Value* sc = Field(s, "const"); sc != nullptr) {
        svals.push_back(sc);
      } else {
        return false;
      }
      for (const Value* v : svals) {
        bool ok = true;
        if (tconst != nullptr && !ValuesEqual(*v, *tconst)) ok = false;
        if (tenum != nullptr && tenum->has_list_value()) {
          bool found = false;
          for (const auto& e : tenum->list_value().values()) found = found || ValuesEqual(*v, e);
          ok = ok && found;
        }
        if (!ok) return false;
      }
    }

    // required: whatever the target requires, the source must require too.
    auto sreq = Strings(Field(s, "required"));
    for (const auto& r : Strings(Field(t, "required"))) {
      if (sreq.count(r) == 0) return false;
    }

    // properties: each property the target constrains must be at least as constrained.
    const Value* sprops = Field(s, "properties");
    const Value* tprops = Field(t, "properties");
    const Value* sadd = Field(s, "additionalProperties");
    if (tprops != nullptr && tprops->has_struct_value()) {
      for (const auto& [name, tschema] : tprops->struct_value().fields()) {
        const Value* sschema = nullptr;
        if (sprops != nullptr && sprops->has_struct_value()) {
          auto it = sprops->struct_value().fields().find(name);
          if (it != sprops->struct_value().fields().end()) sschema = &it->second;
        }
        if (sschema == nullptr) {
          if (sadd != nullptr && sadd->has_bool_value() && !sadd->bool_value()) continue;
          if (sadd != nullptr && sadd->has_struct_value()) {
            sschema = sadd;
          } else if (IsTrivial(tschema)) {
            continue;
          } else {
            return false;
          }
        }
        if (!Subsumes(*sschema, tschema, depth + 1)) return false;
      }
    }
    const Value* tadd = Field(t, "additionalProperties");
    if (tadd != nullptr && tadd->has_struct_value() && sadd != nullptr &&
        sadd->has_struct_value()) {
      if (!Subsumes(*sadd, *tadd, depth + 1)) return false;
    }
    if (tadd != nullptr && tadd->has_bool_value() && !tadd->bool_value()) {
      bool closed = sadd != nullptr && sadd->has_bool_value() && !sadd->bool_value();
      if (!closed) return false;
      if (sprops != nullptr && sprops->has_struct_value()) {
        for (const auto& [name, unused] : sprops->struct_value().fields()) {
          bool listed = tprops != nullptr && tprops->has_struct_value() &&
                        tprops->struct_value().fields().count(name) > 0;
          if (!listed) return false;
        }
      }
    }

    // items: arrays' element schemas.
    const Value* titems = Field(t, "items");
    if (titems != nullptr && !IsTrivial(*titems)) {
      const Value* sitems = Field(s, "items");
      if (sitems == nullptr || !Subsumes(*sitems, *titems, depth + 1)) return false;
    }
    const Value* tprefix = Field(t, "prefixItems");
    if (tprefix != nullptr && tprefix->has_list_value()) {
      const Value* sprefix = Field(s, "prefixItems");
      if (sprefix == nullptr || !sprefix->has_list_value()) return false;
      const auto& tl = tprefix->list_value().values();
      const auto& sl = sprefix->list_value().values();
      for (int i = 0; i < tl.size(); ++i) {
        if (i >= sl.size() || !Subsumes(sl[i], tl[i], depth + 1)) return false;
      }
    }
    return true;
  }
};

}  // namespace

bool IsSameTypeInJson(const Struct& source, const Struct& target) {
  return StructsEqual(source, target);
}

bool IsSuperTypeInJson(const Struct& source, const Struct& target) {
  Comparer c(source, target);
  Value s;
  Value t;
  *s.mutable_struct_value() = source;
  *t.mutable_struct_value() = target;
  return c.Subsumes(s, t, 0);
}

}  // namespace flyte::core::compiler
