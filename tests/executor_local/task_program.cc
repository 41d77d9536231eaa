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
//   exit <n>                                exits with n and writes nothing
//   sleep <seconds> <pid file>              writes its pid, sleeps, then adds
//   garbage                                 outputs.pb that is not a LiteralMap
//   sleep-first <seconds> <pid file>        attempt 0 writes its pid and sleeps; later attempts add
//   nothing                                 exits 0 and writes nothing
//   wrong-type                              outputs c as a string
//   big-output <bytes>                      a valid outputs.pb of about that size
//   big-error <bytes>                       an error.pb of about that size
//   spew <bytes>                            that much on stdout, a pause, a last line, then adds
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

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
  if (op == "garbage") {
    WriteFile(prefix + "/outputs.pb", "\xff\xff\xff\xff not a literal map");
    return 0;
  }
  std::cerr << "unknown op or missing arguments: " << op << "\n";
  return 2;
}
