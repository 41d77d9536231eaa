// Signals as upstream's signal manager serves them (impl/signal_manager.go,
// validation/signal_validator.go, transformers/signal.go).
#include "signal_manager.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <string>

#include "flyte/manager/event_checks.h"
#include "flyte/manager/checks.h"
#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::manager {

using plugin::Status;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

constexpr std::string_view kFieldExecutionId = "execution_id";
constexpr std::string_view kFieldSignalId = "signal_id";
constexpr std::string_view kFieldValue = "value";


// ValidateSignalIdentifier.
Status ValidateSignalId(const core::SignalIdentifier& id) {
  if (!id.has_execution_id()) return MissingArgumentError(kFieldExecutionId);
  if (id.signal_id().empty()) return MissingArgumentError(kFieldSignalId);
  return ValidateWorkflowExecutionId(&id.execution_id());
}

plugin::db::SignalKey KeyOf(const core::SignalIdentifier& id) {
  return {{id.execution_id().project(), id.execution_id().domain(), id.execution_id().name()}, id.signal_id()};
}

// Go's %v of the model key: {{project domain name} signal_id}.
std::string KeyText(const plugin::db::SignalKey& key) {
  return "{{" + key.execution.project + " " + key.execution.domain + " " + key.execution.name + "} " +
         key.signal_id + "}";
}

// Go's %v of a []byte: the decimal bytes, space separated, in brackets.
std::string GoBytesText(const std::string& bytes) {
  std::string out = "[";
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out += ' ';
    out += std::to_string(static_cast<unsigned>(static_cast<unsigned char>(bytes[i])));
  }
  return out + "]";
}

std::string Serialize(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// FromSignalModel: id fields, then type and value when stored non-empty.
Status FromModel(const plugin::db::SignalModel& m, admin::Signal& out) {
  auto* id = out.mutable_id();
  id->mutable_execution_id()->set_project(m.key.execution.project);
  id->mutable_execution_id()->set_domain(m.key.execution.domain);
  id->mutable_execution_id()->set_name(m.key.execution.name);
  id->set_signal_id(m.key.signal_id);
  if (!m.type.empty() && !out.mutable_type()->ParseFromString(m.type)) {
    out.Clear();
    return plugin::Internal("failed to unmarshal signal type");
  }
  if (m.value && !m.value->empty() && !out.mutable_value()->ParseFromString(*m.value)) {
    out.Clear();
    return plugin::Internal("failed to unmarshal signal value");
  }
  return Status::Ok();
}

}  // namespace

Status SignalManagerImpl::GetOrCreateSignal(plugin::CallContext&, const admin::SignalGetOrCreateRequest& request,
                                            admin::Signal& response) {
  if (!request.has_id()) return MissingArgumentError(kFieldId);
  if (auto s = ValidateSignalId(request.id()); !s.ok()) return s;
  if (!request.has_type()) return MissingArgumentError(kFieldType);

  plugin::db::SignalModel model;
  model.key = KeyOf(request.id());
  model.type = Serialize(request.type());
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto row = db.value()->Signals().GetOrCreate(model);
  if (!row.ok()) return row.status();
  return FromModel(row.value(), response);
}

Status SignalManagerImpl::ListSignals(plugin::CallContext&, const admin::SignalListRequest& request,
                                      admin::SignalList& response) {
  if (!ValidateWorkflowExecutionId(request.has_workflow_execution_id() ? &request.workflow_execution_id() : nullptr).ok()) {
    return MissingArgumentError(kFieldExecutionId);
  }
  if (auto s = ValidateLimit(request.limit()); !s.ok()) return s;

  const auto& exec = request.workflow_execution_id();
  auto filters = GetDbFilters({exec.project(), exec.domain(), exec.name(), request.filters()}, Entity::kSignal);
  if (!filters.ok()) return filters.status();
  plugin::db::ListInput input;
  input.filters = std::move(filters.value());
  auto sort = ParseSort(request.has_sort_by() ? &request.sort_by() : nullptr, Entity::kSignal);
  if (!sort.ok()) return sort.status();
  input.sort = sort.value();
  auto offset = ParseToken(request.token(), "ListSignals");
  if (!offset.ok()) return offset.status();
  input.offset = offset.value();
  input.limit = request.limit();

  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto rows = db.value()->Signals().List(input);
  if (!rows.ok()) return rows.status();
  for (const auto& row : rows.value()) {
    if (auto s = FromModel(row, *response.add_signals()); !s.ok()) {
      response.Clear();
      return s;
    }
  }
  response.set_token(NextToken(input.offset, rows->size(), request.limit()));
  return Status::Ok();
}

Status SignalManagerImpl::SetSignal(plugin::CallContext&, const admin::SignalSetRequest& request,
                                    admin::SignalSetResponse&) {
  if (!request.has_id()) return MissingArgumentError(kFieldId);
  if (auto s = ValidateSignalId(request.id()); !s.ok()) return s;
  if (!request.has_value()) return MissingArgumentError(kFieldValue);

  // The value must be castable to the type the signal was created with.
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto& repo = db.value()->Signals();
  const auto key = KeyOf(request.id());
  auto existing = repo.Get(key);
  if (!existing.ok()) {
    return plugin::InvalidArgument("failed to validate that signal [" + KeyText(key) + "] exists, err: [" +
                                   existing.status().message() + "]");
  }
  auto compiler = services_.Compiler();
  if (!compiler.ok()) return compiler.status();
  auto value_type = compiler.value()->LiteralTypeForLiteral(request.value());
  admin::Signal stored;
  if (auto s = FromModel(existing.value(), stored); !s.ok()) return s;
  if (!value_type.ok()) return InvalidLiteralTypeError("", value_type.status().message());
  if (!compiler.value()->AreTypesCastable(stored.type(), value_type.value())) {
    return plugin::InvalidArgument("requested signal value [" + plugin::GoProtoText(request.value()) +
                                   "] is not castable to existing signal type [" +
                                   GoBytesText(existing->type) + "]");
  }
  return repo.Update(key, Serialize(request.value()));
}

}  // namespace flyte::plugins::manager
