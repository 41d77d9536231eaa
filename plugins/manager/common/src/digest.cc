// Deterministic digests (SHA-256, OpenSSL) and the JSON-diff text of changed registrations.
#include "flyte/manager/digest.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <openssl/evp.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>

#include "flyte/manager/encoding.h"
#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::manager {
namespace {

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return out;
}

// protoc-gen-go's GoCamelCase of a field or oneof name (which holds no '.'): the Go name.
std::string GoCamelCase(const std::string& name) {
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '_' && i == 0) {
      out += 'X';
    } else if (c == '_' && i + 1 < name.size() && lower(name[i + 1])) {
      continue;
    } else if (c >= '0' && c <= '9') {
      out += c;
    } else {
      out += lower(c) ? static_cast<char>(c - 'a' + 'A') : c;
      while (i + 1 < name.size() && lower(name[i + 1])) out += name[++i];
    }
  }
  return out;
}

// What Go's encoding/json makes of the generated Go struct of `message`, which is what
// upstream's jsondiff compares: fields under their proto names and omitted when zero (Go's
// omitempty), a set message even when empty, enums as numbers, bytes in base64, and each real
// oneof under its Go name, null when unset, else {"<member's Go name>": value}. Sets
// `unsupported` where Go's encoder fails (NaN or infinite floats, bool map keys): upstream then
// has no diff at all.
nlohmann::json GoStructJson(const google::protobuf::Message& message, bool& unsupported);

nlohmann::json GoScalar(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* fd, int index,
                        bool& unsupported) {
  using FD = google::protobuf::FieldDescriptor;
  const auto* r = m.GetReflection();
  const bool rep = index >= 0;
  switch (fd->cpp_type()) {
    case FD::CPPTYPE_INT32:
      return rep ? r->GetRepeatedInt32(m, fd, index) : r->GetInt32(m, fd);
    case FD::CPPTYPE_INT64:
      return rep ? r->GetRepeatedInt64(m, fd, index) : r->GetInt64(m, fd);
    case FD::CPPTYPE_UINT32:
      return rep ? r->GetRepeatedUInt32(m, fd, index) : r->GetUInt32(m, fd);
    case FD::CPPTYPE_UINT64:
      return rep ? r->GetRepeatedUInt64(m, fd, index) : r->GetUInt64(m, fd);
    case FD::CPPTYPE_DOUBLE: {
      double v = rep ? r->GetRepeatedDouble(m, fd, index) : r->GetDouble(m, fd);
      if (!std::isfinite(v)) unsupported = true;
      return v;
    }
    case FD::CPPTYPE_FLOAT: {
      float v = rep ? r->GetRepeatedFloat(m, fd, index) : r->GetFloat(m, fd);
      if (!std::isfinite(v)) {
        unsupported = true;
        return 0.0;
      }
      // Written with float32 precision, read back as a float64.
      return std::strtod(plugin::GoFormatFloat(v, 32).c_str(), nullptr);
    }
    case FD::CPPTYPE_BOOL:
      return rep ? r->GetRepeatedBool(m, fd, index) : r->GetBool(m, fd);
    case FD::CPPTYPE_ENUM:
      return rep ? r->GetRepeatedEnumValue(m, fd, index) : r->GetEnumValue(m, fd);
    case FD::CPPTYPE_STRING: {
      std::string v = rep ? r->GetRepeatedString(m, fd, index) : r->GetString(m, fd);
      return fd->type() == FD::TYPE_BYTES ? Base64(v) : v;
    }
    case FD::CPPTYPE_MESSAGE:
      return GoStructJson(rep ? r->GetRepeatedMessage(m, fd, index) : r->GetMessage(m, fd), unsupported);
  }
  return nullptr;
}

bool IsZero(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::boolean: return !v.get<bool>();
    case nlohmann::json::value_t::string: return v.get_ref<const std::string&>().empty();
    case nlohmann::json::value_t::number_integer: return v.get<int64_t>() == 0;
    case nlohmann::json::value_t::number_unsigned: return v.get<uint64_t>() == 0;
    case nlohmann::json::value_t::number_float: return v.get<double>() == 0;
    default: return false;
  }
}

nlohmann::json GoStructJson(const google::protobuf::Message& message, bool& unsupported) {
  using FD = google::protobuf::FieldDescriptor;
  const auto* d = message.GetDescriptor();
  const auto* r = message.GetReflection();
  nlohmann::json out = nlohmann::json::object();
  for (int i = 0; i < d->field_count(); ++i) {
    const FD* fd = d->field(i);
    if (const auto* oneof = fd->real_containing_oneof()) {
      if (oneof->field(0) != fd) continue;  // one entry per oneof
      const FD* set = r->GetOneofFieldDescriptor(message, oneof);
      out[GoCamelCase(oneof->name())] =
          set ? nlohmann::json{{GoCamelCase(set->name()), GoScalar(message, set, -1, unsupported)}} : nullptr;
      continue;
    }
    if (fd->is_map()) {
      const int n = r->FieldSize(message, fd);
      if (n == 0) continue;
      const FD* key_fd = fd->message_type()->map_key();
      const FD* value_fd = fd->message_type()->map_value();
      nlohmann::json map = nlohmann::json::object();
      for (int j = 0; j < n; ++j) {
        const auto& entry = r->GetRepeatedMessage(message, fd, j);
        nlohmann::json key = GoScalar(entry, key_fd, -1, unsupported);
        if (key_fd->cpp_type() == FD::CPPTYPE_BOOL) unsupported = true;
        map[key.is_string() ? key.get<std::string>() : key.dump()] = GoScalar(entry, value_fd, -1, unsupported);
      }
      out[fd->name()] = std::move(map);
    } else if (fd->is_repeated()) {
      const int n = r->FieldSize(message, fd);
      if (n == 0) continue;
      nlohmann::json list = nlohmann::json::array();
      for (int j = 0; j < n; ++j) list.push_back(GoScalar(message, fd, j, unsupported));
      out[fd->name()] = std::move(list);
    } else if (fd->cpp_type() == FD::CPPTYPE_MESSAGE || fd->has_presence()) {
      // Pointers in Go: omitted when nil, written (even as zero) when set.
      if (r->HasField(message, fd)) out[fd->name()] = GoScalar(message, fd, -1, unsupported);
    } else {
      nlohmann::json v = GoScalar(message, fd, -1, unsupported);
      if (!IsZero(v)) out[fd->name()] = std::move(v);
    }
  }
  return out;
}

// fmt's %v of a value decoded by Go's encoding/json into interface{}.
std::string GoValueText(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      return "<nil>";
    case nlohmann::json::value_t::string:
      return v.get<std::string>();
    case nlohmann::json::value_t::boolean:
      return v.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return plugin::GoFormatFloat(v.get<double>());
    case nlohmann::json::value_t::array: {
      std::string out = "[";
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ' ';
        first = false;
        out += GoValueText(e);
      }
      return out + "]";
    }
    case nlohmann::json::value_t::object: {
      std::map<std::string, const nlohmann::json*> sorted;
      for (auto it = v.begin(); it != v.end(); ++it) sorted[it.key()] = &it.value();
      std::string out = "map[";
      bool first = true;
      for (const auto& [k, e] : sorted) {
        if (!first) out += ' ';
        first = false;
        out += k + ":" + GoValueText(*e);
      }
      return out + "]";
    }
    default:
      return "";
  }
}

}  // namespace

std::string Digest(const google::protobuf::Message& message) {
  const std::string bytes = DeterministicBytes(message);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string DigestHex(const google::protobuf::Message& message) { return LowerHex(Digest(message)); }

std::vector<std::string> StructureDiff(const google::protobuf::Message& existing,
                                       const google::protobuf::Message& requested) {
  bool unsupported = false;
  const nlohmann::json old_json = GoStructJson(existing, unsupported);
  const nlohmann::json new_json = GoStructJson(requested, unsupported);
  if (unsupported) return {};
  const nlohmann::json forward = nlohmann::json::diff(old_json, new_json);
  const nlohmann::json backward = nlohmann::json::diff(new_json, old_json);
  std::map<std::string, nlohmann::json> forward_by_path;
  for (const auto& op : forward) {
    forward_by_path[op.at("path").get<std::string>()] =
        op.contains("value") ? op.at("value") : nullptr;
  }
  std::vector<std::string> lines;
  for (const auto& op : backward) {
    const std::string path = op.at("path").get<std::string>();
    const auto it = forward_by_path.find(path);
    if (it == forward_by_path.end()) continue;
    const nlohmann::json old_value =
        op.contains("value") ? op.at("value") : nlohmann::json(nullptr);
    lines.push_back(path + ":\n\t- " + GoValueText(old_value) + " \n\t+ " +
                    GoValueText(it->second));
  }
  return lines;
}

}  // namespace flyte::plugins::manager
