// CreateExecution, RelaunchExecution and RecoverExecution as upstream's execution manager runs
// them: validate, resolve the launch plan (or synthesize one for a single task), merge and
// offload the inputs, resolve the execution config, hand the run to the WorkflowExecutor, store
// the row.
#include "launcher.h"

#include <algorithm>
#include <cctype>

#include <unicode/uchar.h>
#include <unicode/utf8.h>

#include "flyte/manager/attributes.h"
#include "flyte/manager/checks.h"
#include "flyte/manager/digest.h"
#include "flyte/manager/errors.h"
#include "flyte/plugin/go_compat.h"
#include "launch_support.h"

// Upstream still reads the deprecated auth_role, spec.inputs and spec.tags fields here.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::manager {

namespace {

using plugin::Status;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace db = plugin::db;

constexpr char kSystemNamePrefix[] = ".flytegen.";
constexpr size_t kMaxNodeIdLength = 63;

template <typename Map>
std::vector<std::string> SortedKeys(const Map& map) {
  std::vector<std::string> keys;
  for (const auto& entry : map) keys.push_back(entry.first);
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

// Upstream generateNodeNameFromTask: the last 63 bytes when the name is that long, keeping only
// '-' and the characters Unicode classes as letters (L*) or numbers (N*). Bytes that do not
// decode as UTF-8 (a character cut by the truncation) are dropped, as Go's range over a string
// yields them as U+FFFD.
std::string NodeNameFromTask(std::string name) {
  if (name.size() >= kMaxNodeIdLength) name = name.substr(name.size() - kMaxNodeIdLength);
  std::string out;
  const auto* bytes = reinterpret_cast<const uint8_t*>(name.data());
  const int32_t length = static_cast<int32_t>(name.size());
  for (int32_t at = 0; at < length;) {
    const int32_t start = at;
    UChar32 c;
    U8_NEXT(bytes, at, length, c);
    if (c < 0) continue;
    bool keep = c == '-';
    switch (u_charType(c)) {
      case U_UPPERCASE_LETTER:
      case U_LOWERCASE_LETTER:
      case U_TITLECASE_LETTER:
      case U_MODIFIER_LETTER:
      case U_OTHER_LETTER:
      case U_DECIMAL_DIGIT_NUMBER:
      case U_LETTER_NUMBER:
      case U_OTHER_NUMBER:
        keep = true;
        break;
      default:
        break;
    }
    if (keep) out.append(name, static_cast<size_t>(start), static_cast<size_t>(at - start));
  }
  return out;
}

namespace {

// Upstream generateBindings: a promise per variable, sorted by name for a stable template.
void AddBindings(const core::VariableMap& variables, const std::string& node_id,
                 google::protobuf::RepeatedPtrField<core::Binding>& out) {
  for (const auto& name : SortedKeys(variables.variables())) {
    auto* binding = out.Add();
    binding->set_var(name);
    auto* promise = binding->mutable_binding()->mutable_promise();
    promise->set_node_id(node_id);
    promise->set_var(name);
  }
}

std::string ExecutionIdentifierText(const core::WorkflowExecutionIdentifier& id) {
  core::Identifier key;
  key.set_project(id.project());
  key.set_domain(id.domain());
  key.set_name(id.name());
  return plugin::GoProtoText(key);
}

std::string LowerResourceType(core::ResourceType type) {
  std::string name = core::ResourceType_Name(type);
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

plugin::TaskResourceSet ForExecutor(const TaskResourceSet& set) {
  auto text = [](const Quantity& q) { return q.IsZero() ? std::string() : q.String(); };
  return {text(set.cpu), text(set.gpu), text(set.memory), text(set.ephemeral_storage)};
}

// Upstream checkLaunchPlanConcurrency: executions of any version of the launch plan (by name) in
// QUEUED or RUNNING. Count errors count as zero, as upstream only logs them.
Status CheckLaunchPlanConcurrency(db::ExecutionRepo& executions, const admin::LaunchPlan& lp) {
  db::ListInput input;
  input.filters = {{"executions", "execution_project", db::FilterOp::kEq, {lp.id().project()}},
                   {"executions", "execution_domain", db::FilterOp::kEq, {lp.id().domain()}},
                   {"launch_plans", "name", db::FilterOp::kEq, {lp.id().name()}},
                   {"executions", "phase", db::FilterOp::kValueIn, {"QUEUED", "RUNNING"}}};
  auto count = executions.Count(input);
  const int64_t active = count.ok() ? count.value() : 0;
  const auto& policy = lp.spec().concurrency_policy();
  if (active < policy.max()) return Status::Ok();
  switch (policy.behavior()) {
    case admin::CONCURRENCY_LIMIT_BEHAVIOR_SKIP:
      return plugin::AlreadyExists("concurrency limit (" + std::to_string(policy.max()) +
                                   ") reached for launch plan " + lp.id().name() +
                                   "; skipping execution");
    case admin::CONCURRENCY_LIMIT_BEHAVIOR_UNSPECIFIED:
      return Status::Ok();
    default: {
      const int b = policy.behavior();
      return plugin::Internal("unsupported concurrency-limit behavior: " +
                              (admin::ConcurrencyLimitBehavior_IsValid(b)
                                   ? admin::ConcurrencyLimitBehavior_Name(
                                         static_cast<admin::ConcurrencyLimitBehavior>(b))
                                   : std::to_string(b)));
    }
  }
}

}  // namespace

plugin::StatusOr<db::WorkflowModel> ExecutionLauncher::CreateOrGetWorkflow(
    plugin::CallContext& call, const core::Identifier& task_id, const admin::TaskClosure& task) {
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  core::Identifier workflow_id;
  workflow_id.set_resource_type(core::WORKFLOW);
  workflow_id.set_project(task_id.project());
  workflow_id.set_domain(task_id.domain());
  workflow_id.set_name(kSystemNamePrefix + task_id.name());
  workflow_id.set_version(task_id.version());
  auto existing = repos.value()->Workflows().Get(KeyOf(workflow_id));
  if (existing.ok()) return existing;
  if (existing.status().code() != plugin::StatusCode::kNotFound) return existing.status();

  const auto& tmpl = task.compiled_task().template_();
  const std::string node_id = NodeNameFromTask(task_id.name());
  admin::WorkflowCreateRequest create;
  *create.mutable_id() = workflow_id;
  auto* wf = create.mutable_spec()->mutable_template_();
  *wf->mutable_id() = workflow_id;
  *wf->mutable_interface() = tmpl.interface();
  auto* node = wf->add_nodes();
  node->set_id(node_id);
  node->mutable_metadata()->set_name(node_id);
  if (tmpl.metadata().has_retries()) {
    *node->mutable_metadata()->mutable_retries() = tmpl.metadata().retries();
  } else {
    node->mutable_metadata()->mutable_retries()->set_retries(3);
  }
  AddBindings(tmpl.interface().inputs(), "", *node->mutable_inputs());
  *node->mutable_task_node()->mutable_reference_id() = task_id;
  AddBindings(tmpl.interface().outputs(), node_id, *wf->mutable_outputs());

  auto workflows =
      context_.host().Plugins().Get<plugin::WorkflowManager>(plugin::plugin_id::kWorkflowManager);
  if (!workflows) {
    return plugin::FailedPrecondition(
        "no WorkflowManager plugin is loaded (flyte_manager_workflow): single-task executions need "
        "it");
  }
  admin::WorkflowCreateResponse created;
  if (auto s = workflows->CreateWorkflow(call, create, created);
      !s.ok() && s.code() != plugin::StatusCode::kAlreadyExists) {
    return s;
  }
  db::NamedEntityModel entity;
  entity.resource_type = core::WORKFLOW;
  entity.key = {workflow_id.project(), workflow_id.domain(), workflow_id.name()};
  entity.state = admin::SYSTEM_GENERATED;
  if (auto s = repos.value()->NamedEntities().Update(entity); !s.ok()) return s;
  return repos.value()->Workflows().Get(KeyOf(workflow_id));
}

plugin::StatusOr<admin::LaunchPlan> ExecutionLauncher::CreateOrGetLaunchPlan(
    const core::Identifier& task_id, const db::WorkflowModel& workflow,
    const admin::ExecutionSpec& spec) {
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  auto compiler = context_.services().Compiler();
  if (!compiler.ok()) return compiler.status();
  core::Identifier lp_id;
  lp_id.set_resource_type(core::LAUNCH_PLAN);
  lp_id.set_project(task_id.project());
  lp_id.set_domain(task_id.domain());
  lp_id.set_name(kSystemNamePrefix + task_id.name());
  lp_id.set_version(task_id.version());
  auto& launch_plans = repos.value()->LaunchPlans();
  auto existing = launch_plans.Get(KeyOf(lp_id));
  if (existing.ok()) {
    admin::LaunchPlan lp;
    *lp.mutable_id() = lp_id;
    if (!lp.mutable_spec()->ParseFromString(existing->spec) ||
        !lp.mutable_closure()->ParseFromString(existing->closure)) {
      return plugin::Internal("failed to unmarshal launch plan " + lp_id.name());
    }
    return lp;
  }
  if (existing.status().code() != plugin::StatusCode::kNotFound) return existing.status();

  core::TypedInterface workflow_interface;
  if (!workflow.typed_interface.empty() &&
      !workflow_interface.ParseFromString(workflow.typed_interface)) {
    return plugin::Internal("failed to unmarshal workflow " + std::to_string(workflow.id) +
                            " interface");
  }
  admin::LaunchPlanCreateRequest create;
  *create.mutable_id() = lp_id;
  auto* lp_spec = create.mutable_spec();
  // Upstream's quirk: the spec names the task's own name, not the .flytegen workflow (and only
  // its project, domain, name and version: no org).
  auto* workflow_id = lp_spec->mutable_workflow_id();
  workflow_id->set_resource_type(core::WORKFLOW);
  workflow_id->set_project(task_id.project());
  workflow_id->set_domain(task_id.domain());
  workflow_id->set_name(task_id.name());
  workflow_id->set_version(task_id.version());
  lp_spec->mutable_entity_metadata();
  lp_spec->mutable_default_inputs();
  lp_spec->mutable_fixed_inputs();
  lp_spec->mutable_labels();
  lp_spec->mutable_annotations();
  if (spec.has_auth_role()) *lp_spec->mutable_auth_role() = spec.auth_role();
  if (spec.has_security_context()) *lp_spec->mutable_security_context() = spec.security_context();
  const auto& settings = context_.settings().registration;
  if (auto s = ValidateLaunchPlan(create, repos.value()->Projects(), settings.domains,
                                  settings.enable_artifacts, workflow_interface, *compiler.value());
      !s.ok()) {
    return s;
  }
  admin::LaunchPlan lp;
  *lp.mutable_id() = lp_id;
  *lp.mutable_spec() = create.spec();
  *lp.mutable_closure()->mutable_expected_inputs() = create.spec().default_inputs();
  // A task without outputs leaves them absent, as the launch plan manager does.
  if (workflow_interface.has_outputs()) {
    *lp.mutable_closure()->mutable_expected_outputs() = workflow_interface.outputs();
  }

  db::LaunchPlanModel model;
  model.key = KeyOf(lp_id);
  model.spec = lp.spec().SerializeAsString();
  model.workflow_id = workflow.id;
  model.closure = lp.closure().SerializeAsString();
  model.state = admin::INACTIVE;
  model.digest = Digest(lp);
  if (auto s = launch_plans.Create(model); !s.ok()) {
    // A concurrent first launch of the task stored it meanwhile: use that one.
    if (s.code() == plugin::StatusCode::kAlreadyExists) return CreateOrGetLaunchPlan(task_id, workflow, spec);
    return s;
  }
  db::NamedEntityModel entity;
  entity.resource_type = core::LAUNCH_PLAN;
  entity.key = {lp_id.project(), lp_id.domain(), lp_id.name()};
  entity.state = admin::SYSTEM_GENERATED;
  if (auto s = repos.value()->NamedEntities().Update(entity); !s.ok()) return s;
  return lp;
}

plugin::StatusOr<ExecutionLauncher::Prepared> ExecutionLauncher::LaunchAndPrepare(
    plugin::CallContext& call, admin::ExecutionCreateRequest request, db::Time requested_at) {
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  auto store = context_.services().Storage();
  if (!store.ok()) return store.status();
  auto compiler = context_.services().Compiler();
  if (!compiler.ok()) return compiler.status();
  db::Repositories& db = *repos.value();
  const auto& settings = context_.settings();

  if (auto s = ValidateExecutionRequest(request, db.Projects(), settings.registration.domains);
      !s.ok())
    return s;
  const core::Identifier reference = request.spec().launch_plan();
  const bool single_task = reference.resource_type() == core::TASK;

  // The launch plan (registered, or the task's synthetic one) and the workflow it runs.
  admin::LaunchPlan lp;
  db::WorkflowModel workflow;
  int64_t launch_plan_db_id = 0;
  int64_t task_db_id = 0;
  if (single_task) {
    auto task_row = db.Tasks().Get(KeyOf(reference));
    if (!task_row.ok()) return MissingEntity(task_row.status(), core::TASK, reference);
    admin::TaskClosure task;
    if (!task.ParseFromString(task_row->closure))
      return plugin::Internal("failed to unmarshal task closure");
    task_db_id = task_row->id;
    auto wf = CreateOrGetWorkflow(call, reference, task);
    if (!wf.ok()) return wf.status();
    workflow = std::move(wf.value());
    auto synthetic = CreateOrGetLaunchPlan(reference, workflow, request.spec());
    if (!synthetic.ok()) return synthetic.status();
    lp = std::move(synthetic.value());
  } else {
    auto lp_row = db.LaunchPlans().Get(KeyOf(reference));
    if (!lp_row.ok()) return MissingEntity(lp_row.status(), core::LAUNCH_PLAN, reference);
    *lp.mutable_id() = IdentifierOf(core::LAUNCH_PLAN, lp_row->key);
    if (!lp.mutable_spec()->ParseFromString(lp_row->spec) ||
        !lp.mutable_closure()->ParseFromString(lp_row->closure)) {
      return plugin::Internal("failed to unmarshal launch plan " + lp_row->key.name);
    }
    launch_plan_db_id = lp_row->id;
  }

  auto inputs = CheckAndFetchInputsForExecution(request.inputs(), lp.spec().fixed_inputs(),
                                                lp.closure().expected_inputs(), *compiler.value());
  if (!inputs.ok()) return inputs.status();

  if (!single_task) {
    const auto& workflow_id = lp.spec().workflow_id();
    auto wf = db.Workflows().Get(KeyOf(workflow_id));
    if (!wf.ok()) return MissingEntity(wf.status(), core::WORKFLOW, workflow_id);
    workflow = std::move(wf.value());
  }
  const core::Identifier workflow_identifier = IdentifierOf(core::WORKFLOW, workflow.key);

  core::WorkflowExecutionIdentifier id;
  id.set_project(request.project());
  id.set_domain(request.domain());
  id.set_name(request.name().empty() ? GenerateExecutionName() : request.name());
  // A duplicate name is refused before anything is written: upstream only learns it from the
  // insert, after it has overwritten the first execution's stored inputs with the second
  // request's and handed the run to the executor again. Held until stored (KeysInFlight).
  std::shared_ptr<void> name_held = names_in_flight_.Hold(id.project() + "/" + id.domain() + "/" + id.name());
  if (auto existing = db.Executions().Get({id.project(), id.domain(), id.name()}); existing.ok()) {
    return plugin::AlreadyExists("value with matching already exists (execution " + id.project() + "/" +
                                 id.domain() + "/" + id.name() + " already exists)");
  } else if (existing.status().code() != plugin::StatusCode::kNotFound) {
    return existing.status();
  }

  // The compiled workflow from the stored closure, and the inputs offloaded beside the execution.
  admin::WorkflowClosure closure;
  if (auto s = ReadWorkflowClosure(*store.value(), settings.data, workflow.remote_closure_identifier, closure);
      !s.ok()) {
    return s;
  }
  auto inputs_uri = OffloadLiteralMap(*store.value(), inputs.value(),
                                      {id.project(), id.domain(), id.name(), "inputs"});
  if (!inputs_uri.ok()) return inputs_uri.status();
  auto user_inputs_uri = OffloadLiteralMap(*store.value(), request.inputs(),
                                           {id.project(), id.domain(), id.name(), "user_inputs"});
  if (!user_inputs_uri.ok()) return user_inputs_uri.status();

  admin::ExecutionSpec spec = request.spec();
  // The caller's identity, as an authentication interceptor reports it (the "principal" call
  // attribute, which UpdateExecution and TerminateExecution read too); a client-sent one is
  // overwritten, as upstream's getUser(ctx) overwrites it. Empty without such an interceptor.
  spec.mutable_metadata()->set_principal(std::string(call.Attribute("principal")));
  if (!single_task) spec.mutable_metadata()->clear_artifact_ids();

  // A child launched by propeller inherits principal, nesting and cluster label from its parent.
  int64_t parent_node_execution_id = 0;
  int64_t source_execution_id = 0;
  if (spec.metadata().has_parent_node_execution()) {
    const auto& parent = spec.metadata().parent_node_execution();
    db::NodeExecutionKey node_key{{parent.execution_id().project(), parent.execution_id().domain(),
                                   parent.execution_id().name()},
                                  parent.node_id()};
    auto node = db.NodeExecutions().Get(node_key);
    if (!node.ok()) {
      if (node.status().code() != plugin::StatusCode::kNotFound) return node.status();
      core::NodeExecutionIdentifier key;
      key.set_node_id(parent.node_id());
      key.mutable_execution_id()->set_project(parent.execution_id().project());
      key.mutable_execution_id()->set_domain(parent.execution_id().domain());
      key.mutable_execution_id()->set_name(parent.execution_id().name());
      return plugin::NotFound("missing entity of type node execution with identifier " +
                              plugin::GoProtoText(key));
    }
    parent_node_execution_id = node->id;
    auto source = db.Executions().Get(node_key.execution);
    if (!source.ok()) {
      if (source.status().code() != plugin::StatusCode::kNotFound) return source.status();
      return plugin::NotFound("missing entity of type execution with identifier " +
                              ExecutionIdentifierText(parent.execution_id()));
    }
    source_execution_id = source->id;
    spec.mutable_metadata()->set_principal(source->user);
    admin::ExecutionSpec source_spec;
    if (!source_spec.ParseFromString(source->spec))
      return plugin::Internal("failed to unmarshal spec");
    spec.mutable_metadata()->set_nesting(
        source_spec.has_metadata() ? source_spec.metadata().nesting() + 1 : 1);
    if (source_spec.has_execution_cluster_label()) {
      *spec.mutable_execution_cluster_label() = source_spec.execution_cluster_label();
    }
  }

  // Platform resources written into each compiled container task.
  const TaskResources platform =
      GetTaskResources(db.Resources(), &workflow_identifier, settings.registration.task_resources);
  for (auto& task : *closure.mutable_compiled_workflow()->mutable_tasks())
    SetCompiledTaskDefaults(task, platform);

  // The execution queue: an EXECUTION_QUEUE attribute's tags, else the configured workflow tags.
  // Lookup errors are only logged upstream.
  auto queue_attributes =
      GetResource(db.Resources(), {workflow_identifier.project(), workflow_identifier.domain(),
                                   workflow_identifier.name(), "", admin::EXECUTION_QUEUE});
  std::vector<std::string> queue_tags;
  const bool has_queue_tags =
      queue_attributes.ok() && queue_attributes->attributes.has_execution_queue_attributes();
  if (has_queue_tags) {
    for (const auto& tag : queue_attributes->attributes.execution_queue_attributes().tags())
      queue_tags.push_back(tag);
  }
  AssignChildQueue(
      *closure.mutable_compiled_workflow(),
      DynamicQueue(settings.execution_queues, settings.workflow_queue_configs,
                   has_queue_tags ? &queue_tags : nullptr, workflow_identifier.domain()));

  // Execution config, labels, annotations, raw output config and cluster pool.
  std::optional<admin::Labels> project_labels;
  {
    // The project was validated above; failing to read it again fails the launch (upstream's
    // addProjectLabels).
    auto project = db.Projects().Get(request.project());
    if (!project.ok()) return project.status();
    admin::Project stored;
    if (project->labels && stored.ParseFromString(*project->labels) && stored.has_labels())
      project_labels = stored.labels();
  }
  ExecutionNames names{id.project(), id.domain(), single_task ? "" : lp.spec().workflow_id().name(),
                       single_task ? "" : lp.id().name()};
  // The run-as identity defaults to the authenticated caller's, and identity annotations name
  // it (CallerIdentity: the attributes an authentication interceptor sets).
  CallerIdentity caller{std::string(call.Attribute("principal")), std::string(call.Attribute("app_id")),
                        std::string(call.Attribute("user_email")), std::string(call.Attribute("user_subject"))};
  auto resolved =
      ResolveExecutionConfig(spec, single_task ? nullptr : &lp.spec(), names, db.Resources(),
                             settings.app, project_labels ? &*project_labels : nullptr, caller);
  if (!resolved.ok()) return resolved.status();
  // Labels given in the request are the map upstream resolves the execution's labels into, so
  // the project's labels it adds (without replacing the request's) are stored with the spec and
  // become execution tags too.
  if (project_labels && spec.labels().values_size() > 0) {
    auto& values = *spec.mutable_labels()->mutable_values();
    for (const auto& [key, value] : project_labels->values()) values.insert({key, value});
  }
  // Likewise annotations given in the request are the map upstream resolves the execution's
  // annotations into (the request's, then the identity annotations), so the identity
  // annotations are stored with the spec too.
  if (spec.annotations().values_size() > 0) {
    auto& values = *spec.mutable_annotations()->mutable_values();
    for (const auto& [key, value] : resolved->annotations) values.insert({key, value});
  }
  const std::string ns = context_.Namespace(id.project(), id.domain());

  plugin::ExecutionData data;
  data.namespace_ = ns;
  data.execution_id = id;
  data.reference_workflow_name = workflow_identifier.name();
  data.reference_launch_plan_name = lp.id().name();
  data.workflow_closure = closure.compiled_workflow();
  data.workflow_closure_reference = workflow.remote_closure_identifier;
  data.offloaded_inputs_reference = inputs_uri.value();
  auto& params = data.parameters;
  params.inputs = inputs.value();
  params.accepted_at = requested_at;
  params.labels = resolved->labels;
  params.annotations = resolved->annotations;
  params.execution_config = resolved->config;
  params.task_resource_defaults = ForExecutor(platform.defaults);
  params.task_resource_limits = ForExecutor(platform.limits);
  params.event_version = settings.data.event_version;
  params.role_name_key = settings.role_name_key;
  if (resolved->raw_output_data_config)
    params.raw_output_data_config = *resolved->raw_output_data_config;
  params.cluster_assignment = resolved->cluster_assignment;
  if (spec.has_execution_cluster_label())
    params.execution_cluster_label = spec.execution_cluster_label();

  // Plugin overrides; the single-task flow keys them by the execution name (upstream's quirk).
  ResourceRequest overrides_request{id.project(), id.domain(),
                                    single_task ? id.name() : lp.spec().workflow_id().name(),
                                    single_task ? "" : lp.id().name(), admin::PLUGIN_OVERRIDE};
  auto overrides = GetResource(db.Resources(), overrides_request);
  if (!overrides.ok() && overrides.status().code() != plugin::StatusCode::kNotFound)
    return overrides.status();
  if (overrides.ok() && overrides->attributes.has_plugin_overrides()) {
    for (const auto& o : overrides->attributes.plugin_overrides().overrides())
      params.task_plugin_overrides.push_back(o);
  }
  if (spec.metadata().has_reference_execution() &&
      spec.metadata().mode() == admin::ExecutionMetadata::RECOVERED) {
    params.recovery_execution = spec.metadata().reference_execution();
  }

  // The request's notifications win over the launch plan's; disable_all clears them.
  google::protobuf::RepeatedPtrField<admin::Notification> notifications;
  if (lp.spec().has_entity_metadata()) notifications = lp.spec().entity_metadata().notifications();
  if (spec.has_notifications() && spec.notifications().notifications_size() > 0) {
    notifications = spec.notifications().notifications();
  } else if (spec.disable_all()) {
    notifications.Clear();
  }

  if (!single_task) {
    spec.set_max_parallelism(resolved->config.max_parallelism());
    if (lp.spec().has_concurrency_policy()) {
      if (auto s = CheckLaunchPlanConcurrency(db.Executions(), lp); !s.ok()) return s;
    }
  }

  auto executor = context_.Executor();
  if (!executor.ok()) return executor.status();
  // Upstream stamps a launch plan's execution before handing it to the executor, and a single
  // task's after.
  const auto created_before = Now();
  auto launched = executor.value()->Execute(data);

  ExecutionModelInput input;
  input.id = id;
  input.launch_plan_id = launch_plan_db_id;
  input.workflow_id = workflow.id;
  input.task_id = task_db_id;
  input.notifications = std::move(notifications);
  input.workflow_identifier = workflow_identifier;
  input.parent_node_execution_id = parent_node_execution_id;
  input.source_execution_id = source_execution_id;
  input.inputs_uri = inputs_uri.value();
  input.user_inputs_uri = user_inputs_uri.value();
  input.security_context = resolved->config.security_context();
  input.launch_entity = LowerResourceType(single_task ? core::TASK : core::LAUNCH_PLAN);
  input.namespace_ = ns;
  if (!launched.ok()) {
    // A task run that could not start is the caller's error; a launch plan's is stored as a
    // FAILED execution and the create succeeds (upstream).
    if (single_task) {
      // Upstream's service layer answers INTERNAL for an error that is not an admin error (one
      // without a gRPC code of its own: here, UNKNOWN).
      if (launched.status().code() == plugin::StatusCode::kUnknown)
        return plugin::Internal(launched.status().message());
      return launched.status();
    }
    input.error = launched.status();
  } else {
    input.cluster = launched->cluster;
  }
  input.created_at = single_task ? Now() : created_before;
  input.spec = std::move(spec);

  Prepared prepared;
  prepared.name_held = std::move(name_held);
  prepared.model = CreateExecutionModel(input);
  if (!single_task) prepared.tags = CreateExecutionTags(input.spec);
  return prepared;
}

Status ExecutionLauncher::Store(const Prepared& prepared,
                                admin::ExecutionCreateResponse& response) {
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  if (auto s = repos.value()->Executions().Create(prepared.model, prepared.tags); !s.ok()) return s;
  auto* id = response.mutable_id();
  id->set_project(prepared.model.key.project);
  id->set_domain(prepared.model.key.domain);
  id->set_name(prepared.model.key.name);
  return Status::Ok();
}

Status ExecutionLauncher::CreateExecution(plugin::CallContext& call,
                                          const admin::ExecutionCreateRequest& request,
                                          admin::ExecutionCreateResponse& response) {
  const db::Time requested_at = Now();
  admin::ExecutionCreateRequest effective = request;
  // Clients before flyteidl 0.15 put the inputs in the spec.
  if (effective.inputs().literals().empty())
    *effective.mutable_inputs() = effective.spec().inputs();
  auto prepared = LaunchAndPrepare(call, std::move(effective), requested_at);
  if (!prepared.ok()) return prepared.status();
  return Store(prepared.value(), response);
}

plugin::StatusOr<ExecutionLauncher::Source> ExecutionLauncher::LoadSource(
    const core::WorkflowExecutionIdentifier& id) {
  auto repos = context_.services().Db();
  if (!repos.ok()) return repos.status();
  auto row = repos.value()->Executions().Get({id.project(), id.domain(), id.name()});
  if (!row.ok()) {
    if (row.status().code() != plugin::StatusCode::kNotFound) return row.status();
    return plugin::NotFound("missing entity of type execution with identifier " +
                            ExecutionIdentifierText(id));
  }
  Source source;
  if (!source.spec.ParseFromString(row->spec)) return plugin::Internal("failed to unmarshal spec");
  // Read as upstream reads the whole execution first: a stored closure that does not parse
  // stops a relaunch or recovery as it stops GetExecution.
  if (admin::ExecutionClosure closure; !closure.ParseFromString(row->closure)) {
    return plugin::Internal("failed to unmarshal closure");
  }
  source.id.set_project(row->key.project);
  source.id.set_domain(row->key.domain);
  source.id.set_name(row->key.name);
  source.model = std::move(row.value());
  return source;
}

plugin::StatusOr<admin::ExecutionCreateRequest> ExecutionLauncher::RequestFromSource(
    const Source& source, const std::string& name, bool legacy_spec_inputs) {
  admin::ExecutionCreateRequest create;
  create.set_project(source.id.project());
  create.set_domain(source.id.domain());
  create.set_name(name);
  if (!source.model.user_inputs_uri.empty()) {
    auto store = context_.services().Storage();
    if (!store.ok()) return store.status();
    if (auto s = ReadMessageWithinLimit(*store.value(), context_.settings().data, source.model.user_inputs_uri,
                                        *create.mutable_inputs());
        !s.ok()) {
      // A storage failure, not a missing execution: upstream answers INTERNAL (retryable), and
      // propeller reads a NOT_FOUND from RecoverExecution as "nothing to recover" and would
      // launch a fresh child execution instead.
      return plugin::Internal("failed to read the inputs of execution " + source.id.name() + " at " +
                              source.model.user_inputs_uri + ": " + s.message());
    }
  } else if (legacy_spec_inputs) {
    // Rows of old admins kept the inputs in the spec.
    *create.mutable_inputs() = source.spec.inputs();
  }
  *create.mutable_spec() = source.spec;
  return create;
}

Status ExecutionLauncher::RelaunchExecution(plugin::CallContext& call,
                                            const admin::ExecutionRelaunchRequest& request,
                                            admin::ExecutionCreateResponse& response) {
  const db::Time requested_at = Now();
  auto source = LoadSource(request.id());
  if (!source.ok()) return source.status();
  auto request_from_source = RequestFromSource(source.value(), request.name(), true);
  if (!request_from_source.ok()) return request_from_source.status();
  admin::ExecutionCreateRequest create = std::move(request_from_source.value());
  admin::ExecutionSpec& spec = *create.mutable_spec();
  spec.mutable_metadata()->set_mode(admin::ExecutionMetadata::RELAUNCH);
  *spec.mutable_metadata()->mutable_reference_execution() = source->id;
  spec.set_overwrite_cache(request.overwrite_cache());
  auto prepared = LaunchAndPrepare(call, std::move(create), requested_at);
  if (!prepared.ok()) return prepared.status();
  prepared->model.source_execution_id = source->model.id;
  return Store(prepared.value(), response);
}

Status ExecutionLauncher::RecoverExecution(plugin::CallContext& call,
                                           const admin::ExecutionRecoverRequest& request,
                                           admin::ExecutionCreateResponse& response) {
  const db::Time requested_at = Now();
  auto source = LoadSource(request.id());
  if (!source.ok()) return source.status();
  auto request_from_source = RequestFromSource(source.value(), request.name(), false);
  if (!request_from_source.ok()) return request_from_source.status();
  admin::ExecutionCreateRequest create = std::move(request_from_source.value());
  admin::ExecutionSpec& spec = *create.mutable_spec();
  if (request.has_metadata()) {
    if (request.metadata().has_parent_node_execution()) {
      *spec.mutable_metadata()->mutable_parent_node_execution() =
          request.metadata().parent_node_execution();
    } else {
      spec.mutable_metadata()->clear_parent_node_execution();
    }
  }
  spec.mutable_metadata()->set_mode(admin::ExecutionMetadata::RECOVERED);
  *spec.mutable_metadata()->mutable_reference_execution() = source->id;
  auto prepared = LaunchAndPrepare(call, std::move(create), requested_at);
  if (!prepared.ok()) return prepared.status();
  prepared->model.source_execution_id = source->model.id;
  return Store(prepared.value(), response);
}

}  // namespace flyte::plugins::manager
