// Declarations shared by the gateway's translation units (gateway.cc, gateway_json.cc) only.
#pragma once

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/rpc/status.pb.h>

#include <string>
#include <string_view>
#include <vector>

#include "flyte/plugin/status.h"

namespace flyte::core::gateway {

// Defined in gateway_json.cc.
namespace internal {
plugin::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message,
                                            bool proto_names);
plugin::StatusOr<std::string> FieldToJson(const google::protobuf::Message& message,
                                          const google::protobuf::FieldDescriptor* fd,
                                          bool proto_names);
plugin::Status ParseJsonBody(std::string_view body, google::protobuf::Message& message,
                             bool discard_unknown);
plugin::Status ParseJsonBodyField(std::string_view body, google::protobuf::Message& parent,
                                  const google::protobuf::FieldDescriptor* fd,
                                  bool discard_unknown);
std::vector<std::string> NormalizeFieldPath(const google::protobuf::Descriptor* d,
                                            std::string_view dotted);
plugin::Status PopulateField(google::protobuf::Message& message,
                             const std::vector<std::string>& path,
                             const std::vector<std::string_view>& values);
void FillRpcStatus(const plugin::Status& status, google::rpc::Status* out);
// Whether a string field anywhere in `message` (map keys and values too) holds invalid UTF-8.
bool HasInvalidUtf8(const google::protobuf::Message& message);
// The first problem Go's proto.Unmarshal would report in protobuf wire data of a `d`.
enum class WireCheck { kOk, kInvalidUtf8, kMalformed, kUndecided };
WireCheck CheckWireUtf8(const google::protobuf::Descriptor* d, std::string_view wire, int depth = 0);
plugin::StatusOr<std::string> RpcStatusToJson(const plugin::Status& status, bool proto_names);
}  // namespace internal

}  // namespace flyte::core::gateway
