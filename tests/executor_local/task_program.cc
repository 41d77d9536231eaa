// A stand-in for a task's container command in the local executor's tests: reads the rendered
// inputs.pb, then writes outputs.pb or error.pb under the rendered output prefix, as flytekit's
// entrypoint does, or misbehaves on purpose.
//
//   task_program <op> <inputs.pb URI> <output prefix URI> [op arguments...]
//   add <a as rendered> <raw prefix> <checkpoint prefix> <previous checkpoint prefix> [task.pb]
//       outputs c = a + b and info = "a=<rendered
//       a>;raw=...;ckpt=...;prev=...;attempt=...;env=$LOCAL_TEST_ENV"
//   fail-until <attempt> <code> <message>   recoverable error.pb before that attempt, then add
//   fail <recoverable|nonrecoverable> <code> <message>  (after 300 ms)
//   fail-if-a <value> <code> <message>      non-recoverable error.pb when a is value, else add
//   exit <n>                                exits with n and writes nothing
//   sleep <seconds> <pid file>              writes its pid, sleeps, then adds
//   garbage                                 outputs.pb that is not a LiteralMap
//   sleep-first <seconds> <pid file>        attempt 0 writes its pid and sleeps; later attempts add
//   nothing                                 exits 0 and writes nothing
//   wrong-type                              outputs c as a string
//   big-output <bytes>                      a valid outputs.pb of about that size
//   big-error <bytes>                       an error.pb of about that size
//   spew <bytes>                            that much on stdout, a pause, a last line, then adds
//   dynamic <task.pb path> <n> [broken]     futures.pb (flytekit's @dynamic): n nodes dn<i> of
//       that task on a + i and b, outputs cs = [dn<i>.c...] and first = dn0.c (broken: first
//       bound to a node that does not exist)
//   dynamic-nested <task.pb path>           futures.pb with one node `inner` of that (dynamic)
//       task on a and b, its cs and first as outputs
//   dynamic-sub <task.pb path>              futures.pb with a sub-workflow `dsub` (one node s0 of
//       that task on its inputs a and b, output c) and one node `sw` of it on a and b; outputs
//       cs = [sw.c] and first = sw.c
//   bad-futures                             a futures.pb that is not a DynamicJobSpec
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "flyteidl/core/dynamic_job.pb.h"
#include "flyteidl/core/errors.pb.h"
#include "flyteidl/core/literals.pb.h"
#include "flyteidl/core/tasks.pb.h"

namespace core = flyteidl::core;

namespace {

std::string PathOf(const std::string& uri) {
  const std::string scheme = "file://";
  return uri.rfind(scheme, 0) == 0 ? uri.substr(scheme.size()) : uri;
}

void WriteFile(const std::string& uri, const std::string& bytes) {
  auto path = std::filesystem::path(PathOf(uri));
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

int64_t IntInput(const core::LiteralMap& inputs, const std::string& name) {
  auto it = inputs.literals().find(name);
  return it == inputs.literals().end() ? 0 : it->second.scalar().primitive().integer();
}

int Add(const core::LiteralMap& inputs, const std::string& prefix, const std::string& info) {
  core::LiteralMap out;
  (*out.mutable_literals())["c"].mutable_scalar()->mutable_primitive()->set_integer(
      IntInput(inputs, "a") + IntInput(inputs, "b"));
  (*out.mutable_literals())["info"].mutable_scalar()->mutable_primitive()->set_string_value(info);
  WriteFile(prefix + "/outputs.pb", out.SerializeAsString());
  return 0;
}

void WriteError(const std::string& prefix, bool recoverable, const std::string& code,
                const std::string& message) {
  core::ErrorDocument doc;
  doc.mutable_error()->set_code(code);
  doc.mutable_error()->set_message(message);
  doc.mutable_error()->set_kind(recoverable ? core::ContainerError::RECOVERABLE
                                            : core::ContainerError::NON_RECOVERABLE);
  doc.mutable_error()->set_origin(core::ExecutionError::USER);
  WriteFile(prefix + "/error.pb", doc.SerializeAsString());
}

bool ReadTemplate(const std::string& path, core::TaskTemplate& task) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return in && task.ParseFromString(buffer.str());
}

core::BindingData IntBinding(int64_t v) {
  core::BindingData b;
  b.mutable_scalar()->mutable_primitive()->set_integer(v);
  return b;
}

core::BindingData PromiseBinding(const std::string& node, const std::string& var) {
  core::BindingData b;
  b.mutable_promise()->set_node_id(node);
  b.mutable_promise()->set_var(var);
  return b;
}

core::Node TaskNode(const std::string& id, const core::TaskTemplate& task, int64_t a, int64_t b) {
  core::Node node;
  node.set_id(id);
  node.mutable_metadata()->set_name(id + "-name");
  *node.mutable_task_node()->mutable_reference_id() = task.id();
  auto* ia = node.add_inputs();
  ia->set_var("a");
  *ia->mutable_binding() = IntBinding(a);
  auto* ib = node.add_inputs();
  ib->set_var("b");
  *ib->mutable_binding() = IntBinding(b);
  return node;
}

void AddOutput(core::DynamicJobSpec& spec, const std::string& var, const core::BindingData& b) {
  auto* o = spec.add_outputs();
  o->set_var(var);
  *o->mutable_binding() = b;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: task_program <op> <inputs.pb> <output prefix> [args...]\n";
    return 2;
  }
  const std::string op = argv[1], prefix = argv[3];
  core::LiteralMap inputs;
  {
    std::ifstream in(PathOf(argv[2]), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in || !inputs.ParseFromString(buffer.str())) {
      std::cerr << "cannot read inputs from " << argv[2] << "\n";
      return 3;
    }
  }
  // An array node's sub-task reads the array's inputs and takes its element of each collection,
  // at the index named by the variable BATCH_JOB_ARRAY_INDEX_VAR_NAME names (as flytekit's map
  // tasks do).
  if (const char* index_var = std::getenv("BATCH_JOB_ARRAY_INDEX_VAR_NAME")) {
    const char* index_env = std::getenv(index_var);
    const int index = index_env ? std::atoi(index_env) : 0;
    for (auto& [name, literal] : *inputs.mutable_literals()) {
      if (literal.has_collection() && index < literal.collection().literals_size()) {
        core::Literal element = literal.collection().literals(index);
        literal = element;
      }
    }
  }
  const char* attempt_env = std::getenv("FLYTE_ATTEMPT_NUMBER");
  const int attempt = attempt_env ? std::atoi(attempt_env) : -1;
  if (op == "add" && argc >= 8) {
    const char* env = std::getenv("LOCAL_TEST_ENV");
    std::string info = std::string("a=") + argv[4] + ";raw=" + argv[5] + ";ckpt=" + argv[6] +
                       ";prev=" + argv[7] + ";attempt=" + std::to_string(attempt) +
                       ";env=" + (env ? env : "");
    if (argc >= 9) {  // {{.TaskTemplatePath}}: the task's own template
      std::ifstream in(PathOf(argv[8]), std::ios::binary);
      std::stringstream buffer;
      buffer << in.rdbuf();
      core::TaskTemplate task;
      info += ";task=" + (task.ParseFromString(buffer.str()) ? task.id().name() : "unreadable");
    }
    return Add(inputs, prefix, info);
  }
  if (op == "fail-until" && argc >= 7) {
    if (attempt < std::atoi(argv[4])) {
      WriteError(prefix, true, argv[5], argv[6]);
      return 1;
    }
    return Add(inputs, prefix, "attempt=" + std::to_string(attempt));
  }
  if (op == "fail" && argc >= 7) {
    // Late enough that the tasks started beside it run by then.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    WriteError(prefix, std::string(argv[4]) == "recoverable", argv[5], argv[6]);
    return 0;
  }
  if (op == "fail-if-a" && argc >= 7) {
    if (IntInput(inputs, "a") == std::atoll(argv[4])) {
      WriteError(prefix, false, argv[5], argv[6]);
      return 0;
    }
    return Add(inputs, prefix, "a=" + std::to_string(IntInput(inputs, "a")));
  }
  if (op == "exit" && argc >= 5) {
    std::cerr << "exiting with " << argv[4] << "\n";
    return std::atoi(argv[4]);
  }
  if (op == "sleep" && argc >= 6) {
    std::ofstream(argv[5]) << getpid();
    std::this_thread::sleep_for(std::chrono::seconds(std::atoi(argv[4])));
    return Add(inputs, prefix, "slept");
  }
  if (op == "sleep-first" && argc >= 6) {
    if (attempt == 0) {
      std::ofstream(argv[5]) << getpid();
      std::this_thread::sleep_for(std::chrono::seconds(std::atoi(argv[4])));
    }
    return Add(inputs, prefix, "attempt=" + std::to_string(attempt));
  }
  if (op == "nothing") return 0;
  if (op == "wrong-type") {
    core::LiteralMap out;
    (*out.mutable_literals())["c"].mutable_scalar()->mutable_primitive()->set_string_value("7");
    (*out.mutable_literals())["info"].mutable_scalar()->mutable_primitive()->set_string_value("x");
    WriteFile(prefix + "/outputs.pb", out.SerializeAsString());
    return 0;
  }
  if (op == "big-output" && argc >= 5) {
    return Add(inputs, prefix, std::string(std::strtoull(argv[4], nullptr, 10), 'x'));
  }
  if (op == "big-error" && argc >= 5) {
    WriteError(prefix, false, "Big", std::string(std::strtoull(argv[4], nullptr, 10), 'e'));
    return 1;
  }
  if (op == "spew" && argc >= 5) {
    const std::string chunk(64 * 1024, 'z');
    for (unsigned long long left = std::strtoull(argv[4], nullptr, 10); left > 0;) {
      const std::size_t n = left < chunk.size() ? static_cast<std::size_t>(left) : chunk.size();
      std::cout.write(chunk.data(), static_cast<std::streamsize>(n));
      left -= n;
    }
    std::cout.flush();
    // The executor cuts the log while it grows; what is written during a cut can be lost, so the
    // last line comes once the flood is over.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::cout << "\nspew done" << std::endl;
    return Add(inputs, prefix, "spewed");
  }
  if (op == "dynamic" && argc >= 6) {
    core::TaskTemplate task;
    if (!ReadTemplate(argv[4], task)) {
      std::cerr << "cannot read the task template " << argv[4] << "\n";
      return 3;
    }
    const int n = std::atoi(argv[5]);
    core::DynamicJobSpec spec;
    *spec.add_tasks() = task;
    spec.set_min_successes(n);
    core::BindingData cs;
    cs.mutable_collection();
    for (int i = 0; i < n; ++i) {
      const std::string id = "dn" + std::to_string(i);
      *spec.add_nodes() =
          TaskNode(id, task, IntInput(inputs, "a") + i, IntInput(inputs, "b"));
      *cs.mutable_collection()->add_bindings() = PromiseBinding(id, "c");
    }
    AddOutput(spec, "cs", cs);
    const bool broken = argc >= 7 && std::string(argv[6]) == "broken";
    AddOutput(spec, "first", PromiseBinding(broken ? "nope" : "dn0", "c"));
    WriteFile(prefix + "/futures.pb", spec.SerializeAsString());
    return 0;
  }
  if (op == "dynamic-nested" && argc >= 5) {
    core::TaskTemplate task;
    if (!ReadTemplate(argv[4], task)) {
      std::cerr << "cannot read the task template " << argv[4] << "\n";
      return 3;
    }
    core::DynamicJobSpec spec;
    *spec.add_tasks() = task;
    spec.set_min_successes(1);
    *spec.add_nodes() = TaskNode("inner", task, IntInput(inputs, "a"), IntInput(inputs, "b"));
    AddOutput(spec, "cs", PromiseBinding("inner", "cs"));
    AddOutput(spec, "first", PromiseBinding("inner", "first"));
    WriteFile(prefix + "/futures.pb", spec.SerializeAsString());
    return 0;
  }
  if (op == "dynamic-sub" && argc >= 5) {
    core::TaskTemplate task;
    if (!ReadTemplate(argv[4], task)) {
      std::cerr << "cannot read the task template " << argv[4] << "\n";
      return 3;
    }
    core::DynamicJobSpec spec;
    *spec.add_tasks() = task;
    spec.set_min_successes(1);
    auto* sub = spec.add_subworkflows();
    *sub->mutable_id() = task.id();
    sub->mutable_id()->set_resource_type(core::WORKFLOW);
    sub->mutable_id()->set_name("dsub");
    *sub->mutable_interface()->mutable_inputs() = task.interface().inputs();
    (*sub->mutable_interface()->mutable_outputs()->mutable_variables())["c"] =
        task.interface().outputs().variables().at("c");
    core::Node s0 = TaskNode("s0", task, 0, 0);
    for (auto& input : *s0.mutable_inputs()) {
      *input.mutable_binding() = PromiseBinding("start-node", input.var());
    }
    *sub->add_nodes() = s0;
    auto* out = sub->add_outputs();
    out->set_var("c");
    *out->mutable_binding() = PromiseBinding("s0", "c");
    core::Node sw = TaskNode("sw", task, IntInput(inputs, "a"), IntInput(inputs, "b"));
    sw.clear_task_node();
    *sw.mutable_workflow_node()->mutable_sub_workflow_ref() = sub->id();
    *spec.add_nodes() = sw;
    core::BindingData cs;
    *cs.mutable_collection()->add_bindings() = PromiseBinding("sw", "c");
    AddOutput(spec, "cs", cs);
    AddOutput(spec, "first", PromiseBinding("sw", "c"));
    WriteFile(prefix + "/futures.pb", spec.SerializeAsString());
    return 0;
  }
  if (op == "bad-futures") {
    WriteFile(prefix + "/futures.pb", "\xff\xff\xff\xff not a dynamic job spec");
    return 0;
  }
  if (op == "garbage") {
    WriteFile(prefix + "/outputs.pb", "\xff\xff\xff\xff not a literal map");
    return 0;
  }
  std::cerr << "unknown op or missing arguments: " << op << "\n";
  return 2;
}
