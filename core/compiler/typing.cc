// Castability between literal types and the type inferred for a literal, as upstream decides.
#include "flyte/core/compiler/typing.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string_view>
#include <vector>

#include "flyte/plugin/go_compat.h"
#include "json_schema.h"

namespace flyte::core::compiler {
namespace {

using flyteidl::core::LiteralType;
using flyteidl::core::SchemaType;
using flyteidl::core::SimpleType;
using flyteidl::core::StructuredDatasetType;

bool IsNoneType(const LiteralType& t) {
  return t.type_case() == LiteralType::kSimple && t.simple() == flyteidl::core::NONE;
}

bool EqualFold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const std::string& TagOf(const LiteralType& t) { return t.structure().tag(); }

bool SchemaColumnMatchesSimple(SchemaType::SchemaColumn::SchemaColumnType column,
                               SimpleType simple) {
  switch (column) {
    case SchemaType::SchemaColumn::INTEGER:
      return simple == flyteidl::core::INTEGER;
    case SchemaType::SchemaColumn::FLOAT:
      return simple == flyteidl::core::FLOAT;
    case SchemaType::SchemaColumn::STRING:
      return simple == flyteidl::core::STRING;
    case SchemaType::SchemaColumn::BOOLEAN:
      return simple == flyteidl::core::BOOLEAN;
    case SchemaType::SchemaColumn::DATETIME:
      return simple == flyteidl::core::DATETIME;
    case SchemaType::SchemaColumn::DURATION:
      return simple == flyteidl::core::DURATION;
    default:
      return false;
  }
}

bool SchemaFromSchema(const SchemaType& up, const SchemaType& down) {
  if (up.columns_size() == 0 || down.columns_size() == 0) return true;
  std::map<std::string, int> by_name;
  for (const auto& c : up.columns()) by_name[c.name()] = c.type();
  for (const auto& c : down.columns()) {
    auto it = by_name.find(c.name());
    if (it == by_name.end() || it->second != c.type()) return false;
  }
  return true;
}

bool SchemaFromStructuredDataset(const StructuredDatasetType& up, const SchemaType& down) {
  if (up.columns_size() == 0 || down.columns_size() == 0) return true;
  std::map<std::string, SimpleType> by_name;
  for (const auto& c : up.columns()) by_name[c.name()] = c.literal_type().simple();
  for (const auto& c : down.columns()) {
    auto it = by_name.find(c.name());
    if (it == by_name.end() || !SchemaColumnMatchesSimple(c.type(), it->second)) return false;
  }
  return true;
}

bool StructuredDatasetFromSchema(const SchemaType& up, const StructuredDatasetType& down) {
  if (up.columns_size() == 0 || down.columns_size() == 0) return true;
  std::map<std::string, SchemaType::SchemaColumn::SchemaColumnType> by_name;
  for (const auto& c : up.columns()) by_name[c.name()] = c.type();
  for (const auto& c : down.columns()) {
    auto it = by_name.find(c.name());
    if (it == by_name.end() || !SchemaColumnMatchesSimple(it->second, c.literal_type().simple())) {
      return false;
    }
  }
  return true;
}

bool CastsFrom(const LiteralType& down, const LiteralType& up);

bool StructuredDatasetFromStructuredDataset(const StructuredDatasetType& up,
                                            const StructuredDatasetType& down) {
  if (!up.format().empty() && !down.format().empty() && !EqualFold(up.format(), down.format())) {
    return false;
  }
  if (up.columns_size() == 0 || down.columns_size() == 0) return true;
  std::map<std::string, const LiteralType*> by_name;
  for (const auto& c : up.columns()) by_name[c.name()] = &c.literal_type();
  for (const auto& c : down.columns()) {
    auto it = by_name.find(c.name());
    if (it == by_name.end() || !CastsFrom(c.literal_type(), *it->second)) return false;
  }
  return true;
}

bool TrivialCastsFrom(const LiteralType& down, const LiteralType& up) {
  if (up.has_enum_type() && down.type_case() == LiteralType::kSimple &&
      down.simple() == flyteidl::core::STRING) {
    return true;
  }
  if (down.has_enum_type() && up.type_case() == LiteralType::kSimple &&
      up.simple() == flyteidl::core::STRING) {
    return true;
  }
  if (!TagOf(up).empty() && TagOf(down) != TagOf(up)) return false;
  bool up_struct = up.type_case() == LiteralType::kSimple && up.simple() == flyteidl::core::STRUCT;
  bool down_struct =
      down.type_case() == LiteralType::kSimple && down.simple() == flyteidl::core::STRUCT;
  if (up_struct && down_struct) {
    // Older flytekit versions sent no schema; such types stay compatible.
    if (!up.has_metadata() || !down.has_metadata()) return true;
    return IsSameTypeInJson(up.metadata(), down.metadata()) ||
           IsSuperTypeInJson(up.metadata(), down.metadata());
  }
  // Metadata, annotations and structure do not take part in the comparison.
  LiteralType a = up;
  LiteralType b = down;
  a.clear_metadata();
  a.clear_annotation();
  a.clear_structure();
  b.clear_metadata();
  b.clear_annotation();
  b.clear_structure();
  return plugin::GoProtoText(a) == plugin::GoProtoText(b);
}

// The checker picked by the downstream type, applied to the upstream type.
bool CastsFrom(const LiteralType& down, const LiteralType& up) {
  switch (down.type_case()) {
    case LiteralType::kCollectionType:
      if (up.has_collection_type()) {
        if (IsNoneType(up.collection_type())) return true;
        return CastsFrom(down.collection_type(), up.collection_type());
      }
      return false;
    case LiteralType::kMapValueType:
      if (up.has_map_value_type()) {
        if (IsNoneType(up.map_value_type())) return true;
        return CastsFrom(down.map_value_type(), up.map_value_type());
      }
      return false;
    case LiteralType::kBlob: {
      if (!up.has_blob()) return false;
      const std::string& uf = up.blob().format();
      const std::string& df = down.blob().format();
      if (uf.empty() || df.empty()) return true;
      return uf == df;
    }
    case LiteralType::kSchema:
      if (up.has_schema()) return SchemaFromSchema(up.schema(), down.schema());
      if (up.has_structured_dataset_type()) {
        const std::string& f = up.structured_dataset_type().format();
        if (!f.empty() && !EqualFold(f, "parquet")) return false;
        return SchemaFromStructuredDataset(up.structured_dataset_type(), down.schema());
      }
      return false;
    case LiteralType::kUnionType: {
      const auto& variants = down.union_type().variants();
      if (up.has_union_type()) {
        for (const auto& u : up.union_type().variants()) {
          bool found = false;
          for (const auto& d : variants) {
            if (AreTypesCastable(u, d)) {
              found = true;
              break;
            }
          }
          if (!found) return false;
        }
        return true;
      }
      bool found_one = false;
      for (const auto& d : variants) {
        if (AreTypesCastable(up, d)) {
          if (found_one) return false;
          found_one = true;
        }
      }
      return found_one;
    }
    case LiteralType::kStructuredDatasetType: {
      if (IsNoneType(up)) return true;
      if (up.has_schema()) {
        const std::string& f = down.structured_dataset_type().format();
        if (!f.empty() && !EqualFold(f, "parquet")) return false;
        return StructuredDatasetFromSchema(up.schema(), down.structured_dataset_type());
      }
      if (up.has_structured_dataset_type()) {
        return StructuredDatasetFromStructuredDataset(up.structured_dataset_type(),
                                                      down.structured_dataset_type());
      }
      return false;
    }
    default:
      if (IsNoneType(down)) return IsNoneType(up);
      return TrivialCastsFrom(down, up);
  }
}

std::string KeyOf(const std::optional<LiteralType>& t) { return t ? plugin::GoProtoText(*t) : "<nil>"; }

LiteralType OrEmpty(const std::optional<LiteralType>& t) { return t ? *t : LiteralType(); }

LiteralType Simple(SimpleType s) {
  LiteralType t;
  t.set_simple(s);
  return t;
}

// The element type of a collection or map literal (upstream's literalTypeForLiterals).
std::optional<LiteralType> LiteralTypeForLiterals(
    const std::vector<const flyteidl::core::Literal*>& literals) {
  std::vector<std::optional<LiteralType>> inner;
  std::set<std::string> seen;
  std::optional<std::optional<LiteralType>> none_type;
  for (const auto* x : literals) {
    auto other = LiteralTypeForLiteral(*x);
    if (x->value_case() == flyteidl::core::Literal::kCollection &&
        x->collection().literals_size() == 0) {
      none_type = other;
      continue;
    }
    std::string key = KeyOf(other);
    if (seen.insert(key).second) inner.push_back(std::move(other));
  }
  if (inner.empty() && none_type.has_value()) inner.push_back(*none_type);
  if (inner.empty()) return Simple(flyteidl::core::NONE);
  if (inner.size() == 1) return inner[0];

  std::vector<std::pair<std::string, std::optional<LiteralType>>> keyed;
  keyed.reserve(inner.size());
  for (auto& t : inner) keyed.emplace_back(KeyOf(t), std::move(t));
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  LiteralType union_type;
  auto* variants = union_type.mutable_union_type()->mutable_variants();
  bool nested = false;
  for (auto& [key, t] : keyed) {
    if (t && t->has_collection_type() && t->collection_type().has_union_type()) {
      nested = true;
      for (const auto& v : t->collection_type().union_type().variants()) *variants->Add() = v;
    } else {
      *variants->Add() = OrEmpty(t);
    }
  }
  if (nested) {
    LiteralType out;
    *out.mutable_collection_type() = std::move(union_type);
    return out;
  }
  return union_type;
}

}  // namespace

bool AreTypesCastable(const LiteralType& upstream, const LiteralType& downstream) {
  if (upstream.has_union_type() && upstream.union_type().variants_size() == 1 &&
      CastsFrom(downstream, upstream.union_type().variants(0))) {
    return true;
  }
  return CastsFrom(downstream, upstream);
}

LiteralType LiteralTypeForPrimitive(const flyteidl::core::Primitive& primitive) {
  using P = flyteidl::core::Primitive;
  switch (primitive.value_case()) {
    case P::kInteger:
      return Simple(flyteidl::core::INTEGER);
    case P::kFloatValue:
      return Simple(flyteidl::core::FLOAT);
    case P::kStringValue:
      return Simple(flyteidl::core::STRING);
    case P::kBoolean:
      return Simple(flyteidl::core::BOOLEAN);
    case P::kDatetime:
      return Simple(flyteidl::core::DATETIME);
    case P::kDuration:
      return Simple(flyteidl::core::DURATION);
    default:
      return Simple(flyteidl::core::NONE);
  }
}

std::optional<LiteralType> LiteralTypeForScalar(const flyteidl::core::Scalar& scalar) {
  using S = flyteidl::core::Scalar;
  LiteralType t;
  switch (scalar.value_case()) {
    case S::kPrimitive:
      return LiteralTypeForPrimitive(scalar.primitive());
    case S::kBlob:
      if (!scalar.blob().has_metadata()) return std::nullopt;
      *t.mutable_blob() = scalar.blob().metadata().type();
      return t;
    case S::kBinary:
      return Simple(scalar.binary().tag() == "msgpack" ? flyteidl::core::STRUCT
                                                       : flyteidl::core::BINARY);
    case S::kSchema:
      *t.mutable_schema() = scalar.schema().type();
      return t;
    case S::kStructuredDataset:
      if (!scalar.structured_dataset().has_metadata()) {
        t.mutable_structured_dataset_type();
        return t;
      }
      *t.mutable_structured_dataset_type() =
          scalar.structured_dataset().metadata().structured_dataset_type();
      return t;
    case S::kNoneType:
      return Simple(flyteidl::core::NONE);
    case S::kError:
      return Simple(flyteidl::core::ERROR);
    case S::kGeneric:
      return Simple(flyteidl::core::STRUCT);
    case S::kUnion:
      *t.mutable_union_type()->add_variants() = scalar.union_().type();
      return t;
    default:
      return std::nullopt;
  }
}

std::optional<LiteralType> LiteralTypeForLiteral(const flyteidl::core::Literal& literal) {
  using L = flyteidl::core::Literal;
  switch (literal.value_case()) {
    case L::kScalar:
      return LiteralTypeForScalar(literal.scalar());
    case L::kCollection: {
      std::vector<const L*> items;
      items.reserve(literal.collection().literals_size());
      for (const auto& l : literal.collection().literals()) items.push_back(&l);
      LiteralType t;
      *t.mutable_collection_type() = OrEmpty(LiteralTypeForLiterals(items));
      return t;
    }
    case L::kMap: {
      std::vector<const L*> items;
      items.reserve(literal.map().literals_size());
      for (const auto& [k, l] : literal.map().literals()) items.push_back(&l);
      LiteralType t;
      *t.mutable_map_value_type() = OrEmpty(LiteralTypeForLiterals(items));
      return t;
    }
    case L::kOffloadedMetadata:
      if (!literal.offloaded_metadata().has_inferred_type()) return std::nullopt;
      return literal.offloaded_metadata().inferred_type();
    default:
      return std::nullopt;
  }
}

std::optional<std::string> ValidateLiteralType(const LiteralType* type) {
  if (type == nullptr) {
    return std::string(
        "got unknown literal type: [<nil>].\nSuggested solution: Please update all your Flyte "
        "deployment images to the latest version and try again");
  }
  if (type->has_collection_type()) return ValidateLiteralType(&type->collection_type());
  if (type->has_map_value_type()) return ValidateLiteralType(&type->map_value_type());
  return std::nullopt;
}

std::string LiteralTypeToStr(const LiteralType* type) {
  if (type == nullptr) return "None";
  if (type->type_case() == LiteralType::kSimple && type->simple() == flyteidl::core::STRUCT) {
    std::vector<std::string> keys;
    for (const auto& [k, v] : type->structure().dataclass_type()) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    std::string structure;
    for (const auto& k : keys) {
      structure += "dataclass_type:{key:" + k + " value:{" +
                   LiteralTypeToStr(&type->structure().dataclass_type().at(k)) + "}, ";
    }
    if (structure.size() >= 2 && structure.compare(structure.size() - 2, 2, ", ") == 0) {
      structure.resize(structure.size() - 2);
    }
    return "simple: STRUCT structure{" + structure + "}";
  }
  return plugin::GoProtoText(*type);
}

bool IsOptionalType(const flyteidl::core::Variable& variable) {
  if (!variable.type().has_union_type()) return false;
  for (const auto& v : variable.type().union_type().variants()) {
    if (v.simple() == flyteidl::core::NONE) return true;
  }
  return false;
}

std::string GoScalarValueTypeName(const flyteidl::core::Scalar& scalar) {
  using S = flyteidl::core::Scalar;
  switch (scalar.value_case()) {
    case S::kPrimitive:
      return "*core.Scalar_Primitive";
    case S::kBlob:
      return "*core.Scalar_Blob";
    case S::kBinary:
      return "*core.Scalar_Binary";
    case S::kSchema:
      return "*core.Scalar_Schema";
    case S::kNoneType:
      return "*core.Scalar_NoneType";
    case S::kError:
      return "*core.Scalar_Error";
    case S::kGeneric:
      return "*core.Scalar_Generic";
    case S::kStructuredDataset:
      return "*core.Scalar_StructuredDataset";
    case S::kUnion:
      return "*core.Scalar_Union";
    default:
      // Upstream panics here (reflect.TypeOf(nil).String()); we report the value as absent.
      return "<nil>";
  }
}

}  // namespace flyte::core::compiler
