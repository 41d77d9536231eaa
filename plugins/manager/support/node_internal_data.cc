// NodeExecutionInternalData{event_version = 1 (int32)}, encoded by hand: the message is admin's
// own, not part of flyteidl.
#include "flyte/manager/node_internal_data.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

namespace flyte::plugins::manager {

std::string EncodeInternalData(int32_t event_version) {
  std::string out;
  if (event_version == 0) return out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.WriteTag(google::protobuf::internal::WireFormatLite::MakeTag(
      1, google::protobuf::internal::WireFormatLite::WIRETYPE_VARINT));
  coded.WriteVarint64(static_cast<uint64_t>(static_cast<int64_t>(event_version)));
  coded.Trim();
  return out;
}

plugin::StatusOr<int32_t> DecodeEventVersion(const std::string& bytes) {
  int32_t version = 0;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    using WFL = google::protobuf::internal::WireFormatLite;
    if (WFL::GetTagFieldNumber(tag) == 1 && WFL::GetTagWireType(tag) == WFL::WIRETYPE_VARINT) {
      uint64_t v = 0;
      if (!in.ReadVarint64(&v)) return plugin::Internal("failed to unmarshal node execution data: truncated varint");
      version = static_cast<int32_t>(v);
    } else if (!WFL::SkipField(&in, tag)) {
      return plugin::Internal("failed to unmarshal node execution data: invalid field");
    }
  }
  if (!in.ConsumedEntireMessage()) {
    return plugin::Internal("failed to unmarshal node execution data: trailing bytes");
  }
  return version;
}

}  // namespace flyte::plugins::manager
