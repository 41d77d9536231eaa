// Template rendering, propeller's attempt names and child processes for the local executor.
#include "task_runtime.h"

#include <fcntl.h>
#include <google/protobuf/util/time_util.h>
#include <signal.h>
#include <spawn.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <vector>

#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::executor {

namespace {

namespace core = flyteidl::core;
using plugin::Status;
using plugin::StatusOr;

// Propeller's template variables, `{{ .Name }}` (or `$Name`, any case, spaces inside the braces
// allowed), as its regexps `\{\{\s*[\.$]Name\s*\}\}` match them. Scanned by hand: std::regex
// recurses once per character a quantifier takes, so a long run of spaces (or a long input name)
// in a task's arguments would overflow the stack.
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

struct TemplateMatch {
  std::size_t begin = 0, end = 0;
  std::string_view capture;  // with `var`: the input's name
};

// The variable `name` at `at`; with `var`, `name` is followed by [^}\s]+, captured.
std::optional<TemplateMatch> MatchAt(std::string_view s, std::size_t at, std::string_view name, bool var) {
  if (s.substr(at, 2) != "{{") return std::nullopt;
  std::size_t i = at + 2;
  while (i < s.size() && IsSpace(s[i])) ++i;
  if (i >= s.size() || (s[i] != '.' && s[i] != '$')) return std::nullopt;
  ++i;
  if (!EqualsIgnoreCase(s.substr(i, name.size()), name)) return std::nullopt;
  i += name.size();
  TemplateMatch m;
  m.begin = at;
  if (var) {
    const std::size_t from = i;
    while (i < s.size() && s[i] != '}' && !IsSpace(s[i])) ++i;
    if (i == from) return std::nullopt;
    m.capture = s.substr(from, i - from);
  }
  while (i < s.size() && IsSpace(s[i])) ++i;
  if (s.substr(i, 2) != "}}") return std::nullopt;
  m.end = i + 2;
  return m;
}

// Every non-overlapping match of the variable, leftmost first.
std::vector<TemplateMatch> FindAll(std::string_view s, std::string_view name, bool var = false) {
  std::vector<TemplateMatch> out;
  for (std::size_t at = s.find("{{"); at != std::string_view::npos;) {
    if (auto m = MatchAt(s, at, name, var)) {
      out.push_back(*m);
      at = s.find("{{", m->end);
    } else {
      at = s.find("{{", at + 1);
    }
  }
  return out;
}

// Replaces every match of the variable by `value`, taken literally.
std::string ReplaceAll(const std::string& in, std::string_view name, const std::string& value) {
  std::string out;
  std::size_t last = 0;
  for (const auto& m : FindAll(in, name)) {
    out.append(in, last, m.begin - last);
    out += value;
    last = m.end;
  }
  out.append(in, last, std::string::npos);
  return out;
}

// Propeller's per-retry key: a leading run of characters other than letters and '_' becomes one
// 'a', then every run of characters other than letters, digits and '_' one '_'.
std::string RetryKey(const std::string& unique) {
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  auto word = [&](char c) { return letter(c) || (c >= '0' && c <= '9'); };
  std::size_t lead = 0;
  while (lead < unique.size() && !letter(unique[lead])) ++lead;
  const std::string start = (lead > 0 ? "a" : "") + unique.substr(lead);
  std::string out;
  for (std::size_t i = 0; i < start.size();) {
    if (word(start[i])) {
      out.push_back(start[i++]);
      continue;
    }
    out.push_back('_');
    while (i < start.size() && !word(start[i])) ++i;
  }
  return out;
}

// Go's ptypes.TimestampString: RFC 3339 with the fraction's trailing zeros dropped.
std::string TimestampString(const google::protobuf::Timestamp& ts) {
  std::string s = google::protobuf::util::TimeUtil::ToString(ts);
  auto dot = s.find('.');
  if (dot == std::string::npos) return s;
  auto z = s.find('Z', dot);
  std::string frac = s.substr(dot + 1, z - dot - 1);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return s.substr(0, dot) + (frac.empty() ? "" : "." + frac) + s.substr(z);
}

StatusOr<std::string> SerializePrimitive(const core::Primitive& p) {
  switch (p.value_case()) {
    case core::Primitive::kInteger:
      return std::to_string(p.integer());
    case core::Primitive::kBoolean:
      return std::string(p.boolean() ? "true" : "false");
    case core::Primitive::kDatetime:
      return TimestampString(p.datetime());
    case core::Primitive::kDuration:
      return plugin::GoProtoText(p.duration());
    case core::Primitive::kFloatValue:
      return plugin::GoFormatFloat(p.float_value());
    case core::Primitive::kStringValue:
      return p.string_value();
    default:
      return plugin::InvalidArgument("received an unexpected primitive type");
  }
}

uint32_t Fnv32a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

}  // namespace

StatusOr<std::string> SerializeLiteral(const core::Literal& literal) {
  if (literal.has_collection()) {
    std::string out = "[";
    bool first = true;
    for (const auto& sub : literal.collection().literals()) {
      auto s = SerializeLiteral(sub);
      if (!s.ok()) return s;
      if (!first) out += ",";
      first = false;
      out += s.value();
    }
    return out + "]";
  }
  if (literal.has_scalar()) {
    const auto& scalar = literal.scalar();
    switch (scalar.value_case()) {
      case core::Scalar::kPrimitive:
        return SerializePrimitive(scalar.primitive());
      case core::Scalar::kBlob:
        return scalar.blob().uri();
      case core::Scalar::kSchema:
        return scalar.schema().uri();
      case core::Scalar::kBinary:
        return plugin::InvalidArgument("unsupported binary tag [" + scalar.binary().tag() + "]");
      default:
        return plugin::InvalidArgument("received an unexpected scalar type");
    }
  }
  return plugin::InvalidArgument("received an unexpected primitive type");
}

StatusOr<std::vector<std::string>> RenderTemplate(const std::vector<std::string>& items,
                                                  const TemplateValues& values) {
  const std::string key = RetryKey(values.per_retry_unique_key);
  std::vector<std::string> out;
  for (const auto& item : items) {
    std::string v = ReplaceAll(item, "Input", values.input_file);
    v = ReplaceAll(v, "OutputPrefix", values.output_prefix);
    v = ReplaceAll(v, "InputPrefix", values.input_prefix);
    v = ReplaceAll(v, "RawOutputDataPrefix", values.raw_output_prefix);
    v = ReplaceAll(v, "PrevCheckpointPrefix",
                   values.prev_checkpoint_prefix.empty() ? "\"\"" : values.prev_checkpoint_prefix);
    v = ReplaceAll(v, "CheckpointOutputPrefix", values.checkpoint_prefix);
    v = ReplaceAll(v, "PerRetryUniqueKey", key);
    // As propeller, the template is offloaded only when a command asks for it.
    if (!FindAll(v, "TaskTemplatePath").empty()) {
      if (!values.task_template_path) {
        return plugin::InvalidArgument("input template [" + item +
                                       "]: no task template path to substitute");
      }
      auto path = values.task_template_path();
      if (!path.ok()) return path.status();
      v = ReplaceAll(v, "TaskTemplatePath", path.value());
    }
    v = ReplaceAll(v, "Namespace", values.ns);
    if (values.inputs != nullptr) {
      std::string rendered;
      std::size_t last = 0;
      std::vector<std::string> errors;
      for (const auto& m : FindAll(v, "Inputs.", /*var=*/true)) {
        rendered.append(v, last, m.begin - last);
        last = m.end;
        const std::string name(m.capture);
        const std::string text = v.substr(m.begin, m.end - m.begin);
        auto found = values.inputs->literals().find(name);
        if (found == values.inputs->literals().end()) {
          errors.push_back("input template [" + text + "]: requested input is not found [" +
                           name + "]");
          continue;
        }
        auto s = SerializeLiteral(found->second);
        if (!s.ok()) {
          errors.push_back("input template [" + text +
                           "]: failed to bind a value to inputName [" + name +
                           "]: " + s.status().message());
          continue;
        }
        rendered += s.value();
      }
      rendered.append(v, last, std::string::npos);
      if (!errors.empty()) {
        std::string msg;
        for (std::size_t i = 0; i < errors.size(); ++i)
          msg += std::to_string(i) + ": " + errors[i] + "\r\n";
        return plugin::InvalidArgument(msg);
      }
      v = std::move(rendered);
    }
    out.push_back(std::move(v));
  }
  return out;
}

std::string PropellerBase32(const unsigned char* bytes, std::size_t n) {
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz123456";
  std::string out;
  uint64_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < n; ++i) {
    buffer = (buffer << 8) | bytes[i];
    bits += 8;
    while (bits >= 5) {
      out += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += kAlphabet[(buffer << (5 - bits)) & 31];
  return out;
}

std::string FixedLengthUniqueIdForParts(int max_length, const std::vector<std::string>& parts) {
  std::string joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0 && !joined.empty()) joined += '-';
    joined += parts[i];
  }
  if (static_cast<int>(joined.size()) <= max_length) return joined;
  const uint32_t h = Fnv32a(joined);
  const unsigned char bytes[4] = {
      static_cast<unsigned char>(h >> 24), static_cast<unsigned char>(h >> 16),
      static_cast<unsigned char>(h >> 8), static_cast<unsigned char>(h)};
  return "f" + PropellerBase32(bytes, sizeof(bytes));
}

std::string Base36ShardPrefix(const std::string& key) {
  static const char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  const uint32_t idx = Fnv32a(key) % (36 * 36);
  return {kChars[idx / 36], kChars[idx % 36]};
}

StatusOr<ChildProcess> ChildProcess::Spawn(const std::vector<std::string>& argv,
                                           const std::vector<std::string>& env,
                                           const std::string& cwd, const std::string& log_file) {
  if (argv.empty() || argv[0].empty())
    return plugin::InvalidArgument("the task has no command to run");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  if (!cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  // The server's descriptors (sockets, database files) stay with the server.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGTERM, SIGINT, SIGPIPE, SIGHUP, SIGCHLD}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return plugin::InvalidArgument("failed to start [" + argv[0] + "]: " + std::strerror(rc));
  }
  return ChildProcess(pid);
}

std::optional<int> ChildProcess::Poll() {
  // Once the task's own process has exited, what it left running in its group goes too, as a
  // container's processes end with its main one: they would otherwise run on unwatched, append
  // to a log nobody caps, and be no orphans a restarted server knows to stop. Looked at before
  // it is reaped, while its pid (the group's id) cannot have been given to another process.
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
      info.si_pid == pid_) {
    ::kill(-pid_, SIGKILL);
  }
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) return status;
  if (r < 0 && errno != EINTR) return 0;  // already reaped elsewhere: nothing left to wait for
  return std::nullopt;
}

void ChildProcess::WaitExit(std::chrono::milliseconds timeout) {
#ifdef SYS_pidfd_open
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    while (::poll(&p, 1, static_cast<int>(timeout.count())) < 0 && errno == EINTR) {
    }
    ::close(fd);
    return;
  }
#endif
  std::this_thread::sleep_for(timeout);
}

int ChildProcess::Terminate(std::chrono::milliseconds grace) {
  kill(-pid_, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto st = Poll()) {
      kill(-pid_, SIGKILL);  // the group's stragglers
      return *st;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(-pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

core::ExecutionError OutputTooLarge(const std::string& uri, int64_t size, int64_t max_size) {
  core::ExecutionError e;
  e.set_code("OutputSizeExceeded");
  e.set_message("Remote output size exceeds max, err: [output file @[" + uri + "] is too large [" +
                std::to_string(size) + "] bytes, max allowed [" + std::to_string(max_size) +
                "] bytes: remote file exceeds max size]");
  return e;
}

std::optional<core::ExecutionError> CheckOutputs(const std::string& bytes, const std::string& uri,
                                                 const core::VariableMap& declared,
                                                 plugin::WorkflowCompiler* compiler) {
  auto error = [](const std::string& code, const std::string& message) {
    core::ExecutionError e;
    e.set_kind(core::ExecutionError::USER);
    e.set_code(code);
    e.set_message(message);
    return e;
  };
  core::LiteralMap outputs;
  if (!outputs.ParseFromString(bytes)) {
    return error("OutputsBadFormat", "failed to read outputs @[" + uri +
                                         "]: the file is not a flyteidl.core.LiteralMap");
  }
  std::vector<std::string> problems;
  for (const auto& [name, variable] : declared.variables()) {
    auto it = outputs.literals().find(name);
    if (it == outputs.literals().end()) {
      problems.push_back("output [" + name + "] is missing");
      continue;
    }
    if (compiler == nullptr) continue;
    auto type = compiler->LiteralTypeForLiteral(it->second);
    if (!type.ok()) {
      problems.push_back("output [" + name + "] has no type: " + type.status().message());
    } else if (!compiler->AreTypesCastable(type.value(), variable.type())) {
      problems.push_back("output [" + name + "] has type [" + type->ShortDebugString() +
                         "], the interface declares [" + variable.type().ShortDebugString() +
                         "]");
    }
  }
  if (problems.empty()) return std::nullopt;
  std::string message = "outputs @[" + uri + "] do not match the task's interface: ";
  for (std::size_t i = 0; i < problems.size(); ++i) message += (i ? "; " : "") + problems[i];
  return error("OutputsMismatch", message);
}

bool CapLog(const std::string& path, int64_t max_bytes) {
  if (max_bytes <= 0) return false;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || st.st_size <= max_bytes) return false;
  const std::size_t keep = static_cast<std::size_t>(max_bytes / 4);
  std::string tail = FileTail(path, keep);
  if (::truncate(path.c_str(), 0) != 0) return false;
  const std::string note = "[flyte local executor: the log exceeded " +
                           std::to_string(max_bytes) + " bytes; " +
                           std::to_string(static_cast<int64_t>(st.st_size) -
                                          static_cast<int64_t>(tail.size())) +
                           " earlier bytes were dropped]\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND);
  if (fd < 0) return true;
  auto write_all = [fd](const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  };
  write_all(note);
  write_all(tail);
  ::close(fd);
  return true;
}

std::string FileTail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const auto size = static_cast<std::size_t>(in.tellg());
  const std::size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string out(size - start, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

std::string GoDurationString(std::chrono::nanoseconds d) {
  int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-ns) : static_cast<uint64_t>(ns);
  auto frac = [](uint64_t value, uint64_t unit) {
    std::string s = std::to_string(value / unit);
    uint64_t rest = value % unit;
    if (rest == 0) return s;
    std::string digits = std::to_string(rest);
    std::string width = std::to_string(unit);
    digits = std::string(width.size() - 1 - digits.size(), '0') + digits;
    while (!digits.empty() && digits.back() == '0') digits.pop_back();
    return s + "." + digits;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + frac(u, 1000) + "µs";
  if (u < 1000000000) return sign + frac(u, 1000000) + "ms";
  const uint64_t hours = u / 3600000000000ull;
  u %= 3600000000000ull;
  const uint64_t minutes = u / 60000000000ull;
  u %= 60000000000ull;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  return out + frac(u, 1000000000) + "s";
}

std::string LocalPath(const std::string& uri) {
  constexpr std::string_view kScheme = "file://";
  if (uri.compare(0, kScheme.size(), kScheme) != 0) return "";
  return uri.substr(kScheme.size());
}

}  // namespace flyte::plugins::executor
