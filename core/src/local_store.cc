// Local object store: atomic writes (temp file + rename), file:// URIs, no path escaping the
// container.
#include "flyte/core/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace flyte::core {

namespace fs = std::filesystem;
using plugin::Status;
using plugin::StatusOr;

namespace {

constexpr std::string_view kScheme = "file://";

bool BadSegment(const std::string& s) {
  return s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos ||
         s.find('\0') != std::string::npos;
}

// A new file beside `path` (created, exclusively, with mode 0644) that a write fills before
// renaming it over `path`; its name is random, so writers in other processes sharing the
// directory (replicas, which in containers often all run as pid 1) never share one.
StatusOr<std::pair<fs::path, int>> CreateTempFor(const fs::path& path) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  for (int attempt = 0; attempt < 8; ++attempt) {
    char suffix[17];
    std::snprintf(suffix, sizeof(suffix), "%016llx", static_cast<unsigned long long>(rng()));
    // At most 200 bytes of the object's name, so that the temporary name stays within the file
    // system's 255 whatever the object's name (a cut UTF-8 sequence only makes it less legible).
    fs::path tmp = path.parent_path() /
                   ("." + path.filename().string().substr(0, 200) + ".tmp-" + suffix);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::fchmod(fd, 0644);  // whatever the umask
      return std::make_pair(tmp, fd);
    }
    if (errno != EEXIST) return plugin::Internal("cannot write " + tmp.string() + ": " + std::strerror(errno));
  }
  return plugin::Internal("cannot create a temporary file beside " + path.string());
}

// fsync of a directory: makes the entries renamed or created in it durable.
Status SyncDirectory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return plugin::Internal("cannot open " + dir.string() + ": " + std::strerror(errno));
  const bool ok = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return plugin::Internal("cannot flush " + dir.string() + ": " + std::strerror(err));
  return Status::Ok();
}

}  // namespace

StatusOr<std::shared_ptr<LocalObjectStore>> LocalObjectStore::Create(const fs::path& root,
                                                                     const std::string& container) {
  if (container.empty() || BadSegment(container)) {
    return plugin::InvalidArgument("storage.container: '" + container + "' is not a valid container name");
  }
  std::error_code ec;
  fs::path base = fs::absolute(root, ec);
  if (ec) return plugin::InvalidArgument("storage root '" + root.string() + "': " + ec.message());
  base = (base / container).lexically_normal();
  fs::create_directories(base, ec);
  if (ec) return plugin::Unavailable("cannot create storage directory " + base.string() + ": " + ec.message());
  fs::path real_base = fs::canonical(base, ec);
  if (ec) return plugin::Unavailable("cannot resolve storage directory " + base.string() + ": " + ec.message());
  auto store = std::shared_ptr<LocalObjectStore>(new LocalObjectStore(base, real_base));
  // Bodies spooled by a process that died mid-upload: gone after a day (a younger one may be
  // another server's upload in progress on the same storage).
  const auto stale = fs::file_time_type::clock::now() - std::chrono::hours(24);
  for (fs::directory_iterator it(store->SpoolDirectory(), ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code fec;
    if (it->is_regular_file(fec) && it->last_write_time(fec) < stale && !fec) fs::remove(it->path(), fec);
  }
  return store;
}

std::string LocalObjectStore::BaseUri() const { return std::string(kScheme) + base_.string(); }

StatusOr<std::string> LocalObjectStore::Join(std::string_view base,
                                             const std::vector<std::string>& segments) const {
  std::string out(base);
  while (!out.empty() && out.back() == '/') out.pop_back();
  for (const auto& s : segments) {
    if (BadSegment(s)) return plugin::InvalidArgument("invalid storage path segment '" + s + "'");
    out += "/" + s;
  }
  return out;
}

StatusOr<fs::path> LocalObjectStore::PathOf(const std::string& uri) const {
  if (uri.rfind(kScheme, 0) != 0) {
    return plugin::InvalidArgument("'" + uri + "' is not a file:// URI of the local store");
  }
  fs::path path = fs::path(uri.substr(kScheme.size())).lexically_normal();
  auto rel = path.lexically_relative(base_);
  if (rel.empty() || *rel.begin() == "..") {
    return plugin::InvalidArgument("'" + uri + "' is outside the storage container " + BaseUri());
  }
  // Lexically inside is not enough: a symbolic link in the store (a task of the local executor
  // runs as this user and may leave one) must not lead a read or a write out of it. What exists
  // of the path, its links resolved, has to stay under the container.
  fs::path existing = path;
  std::error_code ec;
  while (!fs::exists(fs::symlink_status(existing, ec)) && existing != base_) {
    existing = existing.parent_path();
  }
  fs::path real = fs::canonical(existing, ec);
  if (ec) {
    // A dangling link, a loop or a component that is no directory: nothing can be read there.
    return plugin::InvalidArgument("'" + uri + "' cannot be resolved in the storage container: " +
                                   ec.message());
  }
  auto real_rel = real.lexically_relative(real_base_);
  if (real_rel.empty() || *real_rel.begin() == "..") {
    return plugin::InvalidArgument("'" + uri + "' leads outside the storage container " +
                                   BaseUri() + " through a symbolic link");
  }
  return path;
}

namespace {

// Object stores keep "a/b" and "a/b/c" side by side; a file system cannot, as "a/b" is either a
// file or a directory. Writing one where the other is answers FAILED_PRECONDITION, which says
// what the caller can change (the key), rather than INTERNAL.
bool IsKeyConflict(const std::error_code& ec) {
  return ec == std::errc::is_a_directory || ec == std::errc::not_a_directory ||
         ec == std::errc::file_exists || ec == std::errc::directory_not_empty;
}

Status KeyConflict(const std::string& uri) {
  return plugin::FailedPrecondition("cannot write '" + uri +
                                    "': the local store holds an object under a prefix of that key, or "
                                    "objects under that key used as a prefix");
}

// A temporary file that could not be renamed to `uri`'s path (`ec`): removed, and the reason.
Status FailedMove(const fs::path& tmp, const std::string& uri, const std::error_code& ec) {
  std::error_code ignored;
  fs::remove(tmp, ignored);
  if (IsKeyConflict(ec)) return KeyConflict(uri);
  return plugin::Internal("cannot move " + tmp.string() + " into place: " + ec.message());
}

}  // namespace

Status LocalObjectStore::Write(const std::string& uri, std::string_view bytes) {
  auto path = PathOf(uri);
  if (!path.ok()) return path.status();
  std::error_code ec;
  const bool made_directories = fs::create_directories(path->parent_path(), ec);
  if (ec && IsKeyConflict(ec)) return KeyConflict(uri);
  if (ec) return plugin::Internal("cannot create " + path->parent_path().string() + ": " + ec.message());
  auto created = CreateTempFor(*path);
  if (!created.ok()) return created.status();
  const auto [tmp, fd] = created.value();
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      fs::remove(tmp, ec);
      return plugin::Internal("cannot write " + tmp.string() + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    fs::remove(tmp, ec);
    return plugin::Internal("cannot flush " + tmp.string());
  }
  fs::rename(tmp, *path, ec);
  if (ec) return FailedMove(tmp, uri, ec);
  return SettleEntry(*path, made_directories);
}

std::string LocalObjectStore::SpoolDirectory() const {
  // Beside the container, on the file system of its root: a spooled file moves in by rename.
  return (base_.parent_path() / (".spool-" + base_.filename().string())).string();
}

Status LocalObjectStore::WriteFile(const std::string& uri, const std::string& file) {
  auto path = PathOf(uri);
  if (!path.ok()) return path.status();
  std::error_code ec;
  const bool made_directories = fs::create_directories(path->parent_path(), ec);
  if (ec && IsKeyConflict(ec)) return KeyConflict(uri);
  if (ec) return plugin::Internal("cannot create " + path->parent_path().string() + ": " + ec.message());
  // Durable and readable as Write leaves its objects, then renamed into place (atomic).
  auto settle = [](const fs::path& p) -> Status {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return plugin::Internal("cannot read " + p.string() + ": " + std::strerror(errno));
    bool ok = ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
    int err = errno;
    ::close(fd);
    if (!ok) return plugin::Internal("cannot flush " + p.string() + ": " + std::strerror(err));
    return Status::Ok();
  };
  if (Status s = settle(file); !s.ok()) return s;
  fs::rename(file, *path, ec);
  if (!ec) return SettleEntry(*path, made_directories);
  if (IsKeyConflict(ec)) return KeyConflict(uri);
  if (ec != std::errc::cross_device_link) {
    return plugin::Internal("cannot move " + file + " into place: " + ec.message());
  }
  // Another file system: copied next to the object first.
  auto created = CreateTempFor(*path);
  if (!created.ok()) return created.status();
  const auto [tmp, fd] = created.value();
  ::close(fd);
  fs::copy_file(file, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return plugin::Internal("cannot copy " + file + ": " + ec.message());
  }
  if (Status s = settle(tmp); !s.ok()) {
    fs::remove(tmp, ec);
    return s;
  }
  fs::rename(tmp, *path, ec);
  if (ec) return FailedMove(tmp, uri, ec);
  return SettleEntry(*path, made_directories);
}

Status LocalObjectStore::SettleEntry(const fs::path& path, bool made_directories) const {
  // The rename is durable once its directory is synced; directories just created need their
  // own entries synced too, up to the container (which exists from the start).
  if (Status s = SyncDirectory(path.parent_path()); !s.ok()) return s;
  if (!made_directories) return Status::Ok();
  // Up to and including the container; PathOf keeps every object under it.
  for (fs::path dir = path.parent_path(); dir != base_ && dir != dir.parent_path();) {
    dir = dir.parent_path();
    if (Status s = SyncDirectory(dir); !s.ok()) return s;
  }
  return Status::Ok();
}

StatusOr<std::string> LocalObjectStore::Read(const std::string& uri) {
  auto path = PathOf(uri);
  if (!path.ok()) return path.status();
  // A directory is no object, as a key prefix is none in a bucket.
  std::error_code ec;
  if (fs::is_directory(*path, ec)) return plugin::NotFound("no object at " + uri);
  std::ifstream in(*path, std::ios::binary);
  if (!in) return plugin::NotFound("no object at " + uri);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

StatusOr<int64_t> LocalObjectStore::Size(const std::string& uri) {
  auto path = PathOf(uri);
  if (!path.ok()) return path.status();
  std::error_code ec;
  auto size = fs::file_size(*path, ec);
  if (ec) return plugin::NotFound("no object at " + uri);
  return static_cast<int64_t>(size);
}

Status LocalObjectStore::Delete(const std::string& uri) {
  auto path = PathOf(uri);
  if (!path.ok()) return path.status();
  std::error_code ec;
  fs::remove(*path, ec);
  if (ec) return plugin::Internal("cannot delete " + uri + ": " + ec.message());
  return Status::Ok();
}

Status CheckObjectStoreConfig(const Config& config) {
  const std::string type = config.Get<std::string>("storage.type", "local");
  if (type == "local" || type == "mem") return Status::Ok();
  return plugin::Unimplemented("storage.type '" + type + "' is not supported by this build (supported: local, mem)");
}

StatusOr<std::shared_ptr<plugin::ObjectStore>> OpenObjectStore(const Config& config) {
  if (auto s = CheckObjectStoreConfig(config); !s.ok()) return s;
  const std::string container = config.Get<std::string>("storage.container", "flyteadmin");
  // "local", or "mem": a directory of this process's own under the temporary directory.
  const fs::path root = config.Get<std::string>("storage.type", "local") == "mem"
                            ? fs::temp_directory_path() / ("flyteadmin-mem-" + std::to_string(::getpid()))
                            : fs::path(config.Get<std::string>("storage.stow.config.path", "flyteadmin-data/storage"));
  auto store = LocalObjectStore::Create(root, container);
  if (!store.ok()) return store.status();
  return std::shared_ptr<plugin::ObjectStore>(store.value());
}

}  // namespace flyte::core
