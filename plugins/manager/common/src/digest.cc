// Deterministic digests (SHA-256, OpenSSL) and the JSON-diff text of changed registrations.
#include "flyte/manager/digest.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>

#include <map>
#include <nlohmann/json.hpp>

#include "flyte/manager/go_compat.h"

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

nlohmann::json ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_enums_as_ints = true;  // Go's encoding/json writes enum numbers
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) return nullptr;
  return nlohmann::json::parse(text, nullptr, false);
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
      return GoFormatFloat(v.get<double>());
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

std::string DigestHex(const google::protobuf::Message& message) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : Digest(message)) {
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
  }
  return out;
}

std::vector<std::string> StructureDiff(const google::protobuf::Message& existing,
                                       const google::protobuf::Message& requested) {
  const nlohmann::json old_json = ToJson(existing);
  const nlohmann::json new_json = ToJson(requested);
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
