// DataProxyService RPCs and the object route that serves the URLs they sign.
#include "data_proxy.h"

#include <google/protobuf/util/time_util.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <variant>
#include <vector>

#include "flyte/plugin/go_compat.h"
#include "flyte/manager/quantity.h"

namespace flyte::plugins::dataproxy {

namespace {

using google::protobuf::Duration;
using google::protobuf::util::TimeUtil;
using plugin::GoProtoText;
using plugin::Status;
using plugin::StatusOr;

constexpr int64_t kMaxDurationSeconds = 315576000000LL;

// durationpb's IsValid: within ±10000 years and seconds and nanos of one sign.
bool ValidDuration(const Duration& d) {
  if (d.seconds() < -kMaxDurationSeconds || d.seconds() > kMaxDurationSeconds) return false;
  if (d.nanos() <= -1000000000 || d.nanos() >= 1000000000) return false;
  return !((d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0));
}

// durationpb's AsDuration: saturated at the int64 nanosecond range instead of wrapping.
std::chrono::nanoseconds ToNanos(const Duration& d) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  int64_t ns = 0;
  bool overflow = __builtin_mul_overflow(d.seconds(), int64_t{1000000000}, &ns) ||
                  __builtin_add_overflow(ns, int64_t{d.nanos()}, &ns);
  if (overflow && d.seconds() != 0) return std::chrono::nanoseconds(d.seconds() < 0 ? kMin : kMax);
  return std::chrono::nanoseconds(ns);
}

google::protobuf::Timestamp ToTimestamp(std::chrono::system_clock::time_point t) {
  return TimeUtil::NanosecondsToTimestamp(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// Upstream's validateDuration: absent -> the max; invalid, negative or above the max refused.
StatusOr<std::chrono::nanoseconds> ValidateDuration(const Duration* input,
                                                    std::chrono::nanoseconds max) {
  if (input == nullptr) return max;
  if (!ValidDuration(*input)) {
    return plugin::InvalidArgument("input duration [" + plugin::GoProtoText(*input) + "] is invalid");
  }
  auto d = ToNanos(*input);
  if (d.count() < 0) {
    return plugin::InvalidArgument("input duration [" + GoDuration(d) + "] should not less than 0");
  }
  if (d > max) {
    return plugin::InvalidArgument("input duration [" + GoDuration(d) +
                                   "] cannot exceed max allowed expiration [" + GoDuration(max) +
                                   "]");
  }
  return d;
}

// k8s.io/apimachinery rand.String: consonants and digits that cannot spell words.
std::string RandomName(int length) {
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, kAlphabet.size() - 1);
  std::string out;
  for (int i = 0; i < length; ++i) out += kAlphabet[pick(rng)];
  return out;
}

StatusOr<std::chrono::nanoseconds> DurationSetting(const nlohmann::json& value,
                                                   const std::string& key) {
  if (value.is_number_integer()) return std::chrono::nanoseconds(value.get<int64_t>());
  if (value.is_string()) {
    std::string error;
    if (auto ns = plugin::GoParseDuration(value.get<std::string>(), &error))
      return std::chrono::nanoseconds(*ns);
    return plugin::InvalidArgument(key + ": " + error);
  }
  return plugin::InvalidArgument(key + ": expected a duration such as \"1h\"");
}

const nlohmann::json* Find(const nlohmann::json& root, std::initializer_list<const char*> path) {
  const nlohmann::json* node = &root;
  for (const char* key : path) {
    if (!node->is_object()) return nullptr;
    auto it = node->find(key);
    if (it == node->end() || it->is_null()) return nullptr;
    node = &*it;
  }
  return node;
}

// The md5 of a file, read in pieces.
StatusOr<std::string> Md5OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return plugin::Internal("cannot read the received body");
  Md5Stream md5;
  std::vector<char> chunk(1 << 16);
  while (in) {
    in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    md5.Update(std::string_view(chunk.data(), static_cast<size_t>(in.gcount())));
  }
  if (in.bad()) return plugin::Internal("cannot read the received body");
  return md5.Digest();
}

// The file holding an object, when the store keeps objects as local files (it has a spool
// directory, and its file:// URIs name them).
std::optional<std::string> LocalFileOf(plugin::ObjectStore& store, const std::string& uri) {
  constexpr std::string_view kFile = "file://";
  if (store.SpoolDirectory().empty() || uri.rfind(kFile, 0) != 0) return std::nullopt;
  return uri.substr(kFile.size());
}

// The md5 of an uploaded object rides with its file as an extended attribute, so that neither
// a download nor an existence check has to read the whole object again: 16 bytes of md5, then
// the size and the modification time (nanoseconds) the file had, each 8 bytes little-endian.
// A file rewritten in place since no longer matches them, and its md5 counts as unknown.
constexpr char kMd5Attribute[] = "user.flyteadmin.content-md5";

struct FileStamp {
  uint64_t size = 0;
  uint64_t mtime_ns = 0;
};

std::optional<FileStamp> StampOf(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return FileStamp{static_cast<uint64_t>(st.st_size),
                   static_cast<uint64_t>(st.st_mtim.tv_sec) * 1000000000ULL +
                       static_cast<uint64_t>(st.st_mtim.tv_nsec)};
}

std::string AttributeValue(const std::string& md5, const FileStamp& stamp) {
  std::string value = md5;
  for (uint64_t field : {stamp.size, stamp.mtime_ns}) {
    for (int i = 0; i < 8; ++i) value += static_cast<char>((field >> (8 * i)) & 0xff);
  }
  return value;
}

// Best effort: a file system without user attributes only costs later reads of the object.
void RecordMd5(const std::string& file, const std::string& md5) {
  auto stamp = StampOf(file);
  if (!stamp || md5.size() != 16) return;
  std::string value = AttributeValue(md5, *stamp);
  ::setxattr(file.c_str(), kMd5Attribute, value.data(), value.size(), 0);
}

std::optional<std::string> RecordedMd5(const std::string& file, const FileStamp& stamp) {
  char value[32];
  ssize_t n = ::getxattr(file.c_str(), kMd5Attribute, value, sizeof(value));
  if (n != static_cast<ssize_t>(sizeof(value))) return std::nullopt;
  std::string md5(value, 16);
  if (AttributeValue(md5, stamp) != std::string_view(value, sizeof(value))) return std::nullopt;
  return md5;
}

// An object's md5: recorded with its file, else streamed from the file, else from its bytes.
// For an object the caller has just found through the store (ObjectStore::Size), which refuses
// paths that leave the container.
StatusOr<std::string> Md5OfObject(plugin::ObjectStore& store, const std::string& uri) {
  if (auto file = LocalFileOf(store, uri)) {
    auto stamp = StampOf(*file);
    if (!stamp) return plugin::NotFound("no object at " + uri);
    if (auto md5 = RecordedMd5(*file, *stamp)) return *md5;
    return Md5OfFile(*file);
  }
  auto bytes = store.Read(uri);
  if (!bytes.ok()) return bytes.status();
  return Md5(*bytes);
}

// The HTTP status of a store's refusal: a path the store will not follow (a symbolic link out
// of the container) is forbidden, a missing object is not found, a key the local store cannot
// hold beside the objects it has (one is a prefix of the other) conflicts, the rest is the
// server's.
int StatusOfStoreError(const Status& status) {
  switch (status.code()) {
    case plugin::StatusCode::kNotFound: return 404;
    case plugin::StatusCode::kInvalidArgument: return 403;
    case plugin::StatusCode::kFailedPrecondition: return 409;
    default: return 500;
  }
}

plugin::HttpRouteResponse Refuse(int status, std::string message) {
  return {status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(message) + "\n", ""};
}

}  // namespace

StatusOr<DataProxySettings> DataProxySettings::FromConfig(const nlohmann::json& root,
                                                          const nlohmann::json& plugin) {
  DataProxySettings s;
  try {
    if (auto* v = Find(root, {"server", "dataProxy", "upload", "maxSize"})) {
      if (v->is_number_integer()) {
        s.upload_max_size = v->get<int64_t>();
      } else if (v->is_string()) {
        std::string error;
        auto q = manager::Quantity::Parse(v->get<std::string>(), &error);
        if (!q) return plugin::InvalidArgument("server.dataProxy.upload.maxSize: " + error);
        s.upload_max_size = q->Value();
      } else {
        return plugin::InvalidArgument(
            "server.dataProxy.upload.maxSize: expected a quantity such as \"6Mi\"");
      }
      if (s.upload_max_size < 0)
        return plugin::InvalidArgument("server.dataProxy.upload.maxSize: must not be negative");
    }
    if (auto* v = Find(root, {"server", "dataProxy", "upload", "maxExpiresIn"})) {
      auto d = DurationSetting(*v, "server.dataProxy.upload.maxExpiresIn");
      if (!d.ok()) return d.status();
      s.upload_max_expires_in = *d;
    }
    if (auto* v = Find(root, {"server", "dataProxy", "upload", "defaultFileNameLength"})) {
      s.default_file_name_length = v->get<int>();
      if (s.default_file_name_length <= 0) {
        return plugin::InvalidArgument(
            "server.dataProxy.upload.defaultFileNameLength: must be positive");
      }
    }
    if (auto* v = Find(root, {"server", "dataProxy", "upload", "storagePrefix"})) {
      s.storage_prefix = v->get<std::string>();
      if (auto parts = KeySegments(s.storage_prefix); !parts.ok()) {
        return plugin::InvalidArgument("server.dataProxy.upload.storagePrefix: " +
                                       parts.status().message());
      }
    }
    if (auto* v = Find(root, {"server", "dataProxy", "download", "maxExpiresIn"})) {
      auto d = DurationSetting(*v, "server.dataProxy.download.maxExpiresIn");
      if (!d.ok()) return d.status();
      s.download_max_expires_in = *d;
    }
    if (auto* v = Find(plugin, {"publicBaseUrl"})) s.public_base_url = v->get<std::string>();
    if (auto* v = Find(plugin, {"signingKey"})) s.signing_key = v->get<std::string>();
    if (s.public_base_url.empty()) {
      std::string host = "localhost";
      if (auto* v = Find(root, {"server", "bindAddress"})) host = v->get<std::string>();
      // A wildcard bind is reachable on the loopback; other hosts need publicBaseUrl.
      if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]") host = "localhost";
      if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
      int port = 8088;
      if (auto* v = Find(root, {"server", "httpPort"})) port = v->get<int>();
      s.public_base_url = "http://" + host + ":" + std::to_string(port);
    }
  } catch (const nlohmann::json::exception& e) {
    return plugin::InvalidArgument(std::string("server.dataProxy / data proxy plugin config: ") +
                                   e.what());
  }
  if (s.signing_key.empty()) {
    auto secret = RandomSecret();
    if (!secret.ok()) return secret.status();
    s.signing_key = std::move(secret.value());
  } else if (s.signing_key.size() < 16) {
    return plugin::InvalidArgument("signingKey: must be at least 16 characters long");
  }
  return s;
}

ObjectSpace::ObjectSpace(DataProxySettings settings, StoreResolver store, Clock clock)
    : settings_(std::move(settings)),
      signer_(settings_.signing_key, settings_.public_base_url, kObjectRoutePrefix),
      store_(std::move(store)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })) {}

StatusOr<std::string> ObjectSpace::Location(const std::vector<std::string>& parts) const {
  std::vector<std::string> segments;
  auto add = [&segments](const std::string& part) -> Status {
    auto split = KeySegments(part);
    if (!split.ok()) return split.status();
    segments.insert(segments.end(), split->begin(), split->end());
    return Status::Ok();
  };
  if (auto s = add(settings_.storage_prefix); !s.ok()) return s;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (auto s = add(part); !s.ok()) return s;
  }
  return UriOf(segments);
}

StatusOr<std::string> ObjectSpace::UriOf(const std::vector<std::string>& segments) const {
  auto store = Store();
  if (!store.ok()) return store.status();
  return (*store)->Join((*store)->BaseUri(), segments);
}

StatusOr<std::string> ObjectSpace::KeyOf(const std::string& native_uri) const {
  auto store = Store();
  if (!store.ok()) return store.status();
  std::string base = (*store)->BaseUri();
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (native_uri.size() <= base.size() + 1 || native_uri.compare(0, base.size(), base) != 0 ||
      native_uri[base.size()] != '/') {
    return plugin::InvalidArgument("[" + native_uri +
                                   "] is not an object of the storage container " + base);
  }
  std::string_view rest = std::string_view(native_uri).substr(base.size() + 1);
  if (rest.empty() || rest.front() == '/' || rest.back() == '/') {
    return plugin::InvalidArgument("[" + native_uri + "] does not name an object");
  }
  auto segments = KeySegments(rest);
  if (!segments.ok()) return segments.status();
  return std::string(rest);
}

int64_t ObjectSpace::ExpiresAt(std::chrono::nanoseconds lifetime) const {
  auto at =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Now().time_since_epoch()) + lifetime;
  // Rounded up: a URL never stops working before the expires_at the response states.
  int64_t ns = at.count();
  return ns / 1000000000 + (ns % 1000000000 > 0 ? 1 : 0);
}

LocalDataProxy::LocalDataProxy(std::shared_ptr<const ObjectSpace> space, ExecutionManagers managers)
    : space_(std::move(space)), managers_(std::move(managers)) {}

Status LocalDataProxy::CreateUploadLocation(
    plugin::CallContext&, const flyteidl::service::CreateUploadLocationRequest& req,
    flyteidl::service::CreateUploadLocationResponse& resp) {
  const auto& cfg = space_->settings();
  if (req.project().empty() || req.domain().empty()) {
    return plugin::InvalidArgument("project and domain are required parameters");
  }
  if (req.filename_root().empty() && req.content_md5().empty()) {
    return plugin::InvalidArgument("content_md5 or filename_root is a required parameter");
  }
  // Each names one level of the key: with a '/' inside, one project's uploads could land in
  // another's (project "a/b" and domain "/" make "a/b/..."), which no project id can need.
  for (const auto& [field, value] :
       {std::pair<const char*, const std::string&>{"org", req.org()}, {"project", req.project()},
        {"domain", req.domain()}}) {
    if (value.find('/') != std::string::npos) {
      return plugin::InvalidArgument(std::string(field) + " [" + value + "] must not contain '/'");
    }
  }
  // The URL would be signed for a Content-MD5 that no upload can match.
  if (!req.content_md5().empty() && req.content_md5().size() != 16) {
    return plugin::InvalidArgument("content_md5 must be the 16 bytes of an md5 digest, not " +
                                   std::to_string(req.content_md5().size()));
  }
  auto store = space_->Store();
  if (!store.ok())
    return plugin::Internal("failed to create storage location, Error: " +
                            store.status().message());

  // A client-chosen full path may already hold an object: only the same content may replace it.
  if (!req.filename().empty() && !req.filename_root().empty()) {
    auto known = space_->Location(
        {req.org(), req.project(), req.domain(), req.filename_root(), req.filename()});
    if (!known.ok()) {
      return Status(known.status().code() == plugin::StatusCode::kInvalidArgument
                        ? plugin::StatusCode::kInvalidArgument
                        : plugin::StatusCode::kInternal,
                    "failed to create storage location, Error: " + known.status().message());
    }
    // Existence by size (a HEAD); the bytes are read only to compare a given md5.
    auto existing = (*store)->Size(*known);
    if (existing.ok()) {
      auto already = plugin::AlreadyExists("file already exists at location [" + *known +
                                           "], specify a matching hash if you wish to rewrite");
      if (req.content_md5().empty()) return already;
      // Compared with the md5 recorded at upload, else the content's (Md5OfObject).
      auto md5 = Md5OfObject(**store, *known);
      if (!md5.ok() && md5.status().code() != plugin::StatusCode::kNotFound) {
        return plugin::Internal("failed to check if file exists at location [" + *known +
                                "], Error: " + md5.status().message());
      }
      if (md5.ok() && *md5 != req.content_md5()) return already;
    } else if (existing.status().code() == plugin::StatusCode::kInvalidArgument) {
      return plugin::InvalidArgument("failed to check if file exists at location [" + *known +
                                     "], Error: " + existing.status().message());
    } else if (existing.status().code() != plugin::StatusCode::kNotFound) {
      return plugin::Internal("failed to check if file exists at location [" + *known +
                              "], Error: " + existing.status().message());
    }
  }

  std::chrono::nanoseconds expires_in = cfg.upload_max_expires_in;
  if (req.has_expires_in()) {
    if (!ValidDuration(req.expires_in())) {
      return plugin::InvalidArgument("expiresIn [" + plugin::GoProtoText(req.expires_in()) +
                                     "] is invalid");
    }
    expires_in = ToNanos(req.expires_in());
    // A URL that expired before it was handed out: refused as downloads refuse it.
    if (expires_in.count() < 0) {
      return plugin::InvalidArgument("expiresIn [" + GoDuration(expires_in) + "] should not less than 0");
    }
    if (expires_in > cfg.upload_max_expires_in) {
      return plugin::InvalidArgument("expiresIn [" + GoDuration(expires_in) +
                                     "] cannot exceed max allowed expiration [" +
                                     GoDuration(cfg.upload_max_expires_in) + "]");
    }
  }

  std::string filename =
      req.filename().empty() ? RandomName(cfg.default_file_name_length) : req.filename();
  std::string md5_base64 = Base64(req.content_md5());
  std::string root = !req.filename_root().empty() ? req.filename_root() : Base32(req.content_md5());
  auto location = space_->Location({req.org(), req.project(), req.domain(), root, filename});
  if (!location.ok()) {
    return Status(location.status().code() == plugin::StatusCode::kInvalidArgument
                      ? plugin::StatusCode::kInvalidArgument
                      : plugin::StatusCode::kInternal,
                  "failed to create shardedStorageLocation, Error: " + location.status().message());
  }
  auto key = space_->KeyOf(*location);
  if (!key.ok())
    return plugin::Internal("failed to create a signed url. Error: " + key.status().message());

  SignedObject object{"PUT", *key, space_->ExpiresAt(expires_in),
                      req.content_md5().empty() ? "" : md5_base64};
  resp.set_signed_url(space_->signer().Url(object));
  resp.set_native_url(*location);
  *resp.mutable_expires_at() = ToTimestamp(
      space_->Now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(expires_in));
  if (!object.content_md5.empty()) (*resp.mutable_headers())["Content-Md5"] = object.content_md5;
  return Status::Ok();
}

Status LocalDataProxy::CreateDownloadLocation(
    plugin::CallContext&, const flyteidl::service::CreateDownloadLocationRequest& req,
    flyteidl::service::CreateDownloadLocationResponse& resp) {
  auto expires_in = ValidateDuration(req.has_expires_in() ? &req.expires_in() : nullptr,
                                     space_->settings().download_max_expires_in);
  if (!expires_in.ok()) {
    return plugin::InvalidArgument("error while validating request: expiresIn is invalid. Error: " +
                                   expires_in.status().message());
  }
  if (!plugin::GoUrlParses(req.native_url())) {
    return plugin::InvalidArgument("error while validating request: failed to parse native_url [" +
                                   req.native_url() + "]");
  }
  auto key = space_->KeyOf(req.native_url());
  if (!key.ok())
    return plugin::Internal("failed to create a signed url. Error: " + key.status().message());
  SignedObject object{"GET", *key, space_->ExpiresAt(*expires_in), ""};
  resp.set_signed_url(space_->signer().Url(object));
  *resp.mutable_expires_at() = ToTimestamp(
      space_->Now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(*expires_in));
  return Status::Ok();
}

Status LocalDataProxy::CreateDownloadLink(plugin::CallContext& call,
                                          const flyteidl::service::CreateDownloadLinkRequest& req,
                                          flyteidl::service::CreateDownloadLinkResponse& resp) {
  auto expires_in = ValidateDuration(req.has_expires_in() ? &req.expires_in() : nullptr,
                                     space_->settings().download_max_expires_in);
  if (!expires_in.ok()) {
    return plugin::InvalidArgument(
        "error while validating request. Error: expiresIn is invalid. Error: " +
        expires_in.status().message());
  }
  if (req.artifact_type() == flyteidl::service::ARTIFACT_TYPE_UNDEFINED) {
    return plugin::InvalidArgument(
        "error while validating request. Error: invalid artifact type [" +
        flyteidl::service::ArtifactType_Name(req.artifact_type()) + "]");
  }
  if (!req.has_node_execution_id()) {
    return plugin::InvalidArgument(
        "error while validating request. Error: source is required. Provided nil");
  }
  auto manager = NodeManager();
  if (!manager.ok()) {
    return plugin::InvalidArgument("failed to find node execution [" + plugin::GoProtoText(req.node_execution_id()) +
                                   "]. Error: " + manager.status().message());
  }
  flyteidl::admin::NodeExecutionGetRequest get;
  *get.mutable_id() = req.node_execution_id();
  flyteidl::admin::NodeExecution node;
  if (auto s = (*manager)->GetNodeExecution(call, get, node); !s.ok()) {
    return plugin::InvalidArgument("failed to find node execution [" + plugin::GoProtoText(req.node_execution_id()) +
                                   "]. Error: " + s.message());
  }
  std::string native_url;
  if (req.artifact_type() == flyteidl::service::ARTIFACT_TYPE_DECK) native_url = node.closure().deck_uri();
  if (native_url.empty()) {
    // Printed as upstream holds it by then: with the expiry it defaulted.
    flyteidl::service::CreateDownloadLinkRequest shown = req;
    if (!shown.has_expires_in()) {
      *shown.mutable_expires_in() = TimeUtil::NanosecondsToDuration(expires_in->count());
    }
    return plugin::NotFound("no deckUrl found for request [" + plugin::GoProtoText(shown) + "]");
  }
  auto store = space_->Store();
  if (!store.ok()) {
    return plugin::Internal("failed to head object before signing url. Error: " + store.status().message());
  }
  auto size = (*store)->Size(native_url);
  if (!size.ok()) {
    if (size.status().code() == plugin::StatusCode::kNotFound) return plugin::NotFound("object not found");
    return plugin::Internal("failed to head object before signing url. Error: " + size.status().message());
  }
  auto key = space_->KeyOf(native_url);
  if (!key.ok()) return plugin::Internal("failed to create a signed url. Error: " + key.status().message());
  SignedObject object{"GET", *key, space_->ExpiresAt(*expires_in), ""};
  std::string url = space_->signer().Url(object);
  auto expires_at = ToTimestamp(space_->Now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(*expires_in));
  resp.add_signed_url(url);
  *resp.mutable_expires_at() = expires_at;
  resp.mutable_pre_signed_urls()->add_signed_url(url);
  *resp.mutable_pre_signed_urls()->mutable_expires_at() = expires_at;
  return Status::Ok();
}

plugin::StatusOr<std::shared_ptr<plugin::NodeExecutionManager>> LocalDataProxy::NodeManager() const {
  auto m = managers_.node ? managers_.node() : nullptr;
  if (!m) return plugin::Unavailable("no NodeExecutionManager plugin is loaded");
  return m;
}

plugin::StatusOr<std::shared_ptr<plugin::TaskExecutionManager>> LocalDataProxy::TaskManager() const {
  auto m = managers_.task ? managers_.task() : nullptr;
  if (!m) return plugin::Unavailable("no TaskExecutionManager plugin is loaded");
  return m;
}

namespace {

// The answer for one LiteralMap of a node or task execution: the whole map, or one literal.
Status AnswerWith(const flyteidl::core::LiteralMap& map, const std::string& name, const std::string& missing,
                  flyteidl::service::GetDataResponse& response) {
  if (name.empty()) {
    *response.mutable_literal_map() = map;
    return Status::Ok();
  }
  auto it = map.literals().find(name);
  if (it == map.literals().end()) return plugin::InvalidArgument(missing);
  *response.mutable_literal() = it->second;
  return Status::Ok();
}

}  // namespace

Status LocalDataProxy::DataFromNode(plugin::CallContext& call, const flyteidl::core::NodeExecutionIdentifier& id,
                                    char io, const std::string& name, flyteidl::service::GetDataResponse& response) {
  auto manager = NodeManager();
  if (!manager.ok()) return manager.status();
  flyteidl::admin::NodeExecutionGetDataRequest request;
  *request.mutable_id() = id;
  flyteidl::admin::NodeExecutionGetDataResponse data;
  if (auto s = (*manager)->GetNodeExecutionData(call, request, data); !s.ok()) return s;
  if (io == 'd') {
    flyteidl::service::CreateDownloadLinkRequest link;
    link.set_artifact_type(flyteidl::service::ARTIFACT_TYPE_DECK);
    *link.mutable_node_execution_id() = id;
    flyteidl::service::CreateDownloadLinkResponse link_response;
    if (auto s = CreateDownloadLink(call, link, link_response); !s.ok()) return s;
    *response.mutable_pre_signed_urls() = link_response.pre_signed_urls();
    return Status::Ok();
  }
  return AnswerWith(io == 'i' ? data.full_inputs() : data.full_outputs(), name,
                    "name [" + name + "] not found in node execution [" + plugin::GoProtoText(id) + "]", response);
}

Status LocalDataProxy::DataFromTask(plugin::CallContext& call, const flyteidl::core::TaskExecutionIdentifier& partial,
                                    char io, const std::string& name, flyteidl::service::GetDataResponse& response) {
  auto manager = TaskManager();
  if (!manager.ok()) return manager.status();
  // The URL names the node and attempt only: the task id comes from the listed attempt.
  flyteidl::admin::TaskExecutionListRequest list;
  *list.mutable_node_execution_id() = partial.node_execution_id();
  list.set_limit(1);
  list.set_filters("eq(retry_attempt," + std::to_string(partial.retry_attempt()) + ")");
  flyteidl::admin::TaskExecutionList listed;
  if (auto s = (*manager)->ListTaskExecutions(call, list, listed); !s.ok()) {
    return plugin::InvalidArgument("failed to list task executions [" + plugin::GoProtoText(partial) + "]. Error: " + s.message());
  }
  if (listed.task_executions_size() == 0) {
    return plugin::InvalidArgument("no task executions were listed [" + plugin::GoProtoText(partial) + "]. Error: <nil>");
  }
  const auto& id = listed.task_executions(0).id();
  flyteidl::admin::TaskExecutionGetDataRequest request;
  *request.mutable_id() = id;
  flyteidl::admin::TaskExecutionGetDataResponse data;
  if (auto s = (*manager)->GetTaskExecutionData(call, request, data); !s.ok()) return s;
  if (io == 'd') {
    return plugin::InvalidArgument("deck type cannot be specified with a retry attempt, just use the node instead");
  }
  return AnswerWith(io == 'i' ? data.full_inputs() : data.full_outputs(), name,
                    "name [" + name + "] not found in task execution [" + plugin::GoProtoText(id) + "]", response);
}

std::optional<FlyteUrlParts> ParseFlyteUrl(std::string_view url, bool named) {
  // Go's regexps, searched (anchored at the end only):
  //   flyte://v1/<seg>/<seg>/<seg>/<seg>(/<digits>)?/[iod]$          (whole)
  //   flyte://v1/<seg>/<seg>/<seg>/<seg>(/<digits>)?/[io]/<seg>$     (named)
  // with <seg> = [a-zA-Z0-9_-]+. Nothing after a match's "flyte://v1/" may hold ':', so only
  // the last "flyte://v1/" can start one: a linear scan instead of std::regex, whose recursion
  // per matched character overflows the stack on a long URL.
  constexpr std::string_view kPrefix = "flyte://v1/";
  const size_t start = url.rfind(kPrefix);
  if (start == std::string_view::npos) return std::nullopt;
  std::vector<std::string_view> p;
  std::string_view rest = url.substr(start + kPrefix.size());
  for (;;) {
    if (p.size() > 7) return std::nullopt;
    const size_t slash = rest.find('/');
    p.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  auto seg = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
             c == '-';
    });
  };
  auto digits = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  auto io = [&](std::string_view s) {
    return s.size() == 1 && (s[0] == 'i' || s[0] == 'o' || (!named && s[0] == 'd'));
  };
  const size_t base = named ? 6 : 5;  // parts without an attempt
  if (p.size() != base && p.size() != base + 1) return std::nullopt;
  const bool with_attempt = p.size() == base + 1;
  for (size_t i = 0; i < 4; ++i) {
    if (!seg(p[i])) return std::nullopt;
  }
  if (with_attempt && !digits(p[4])) return std::nullopt;
  const size_t io_at = with_attempt ? 5 : 4;
  if (!io(p[io_at])) return std::nullopt;
  if (named && !seg(p[io_at + 1])) return std::nullopt;
  FlyteUrlParts out;
  out.project = p[0];
  out.domain = p[1];
  out.execution = p[2];
  out.node = p[3];
  if (with_attempt) out.attempt = p[4];
  out.io = p[io_at][0];
  if (named) out.name = p[io_at + 1];
  return out;
}

Status LocalDataProxy::GetData(plugin::CallContext& call, const flyteidl::service::GetDataRequest& req,
                               flyteidl::service::GetDataResponse& response) {
  const std::string& url = req.flyte_url();
  if (url.empty()) {
    return plugin::InvalidArgument(
        "failed to validate resolve artifact request. Error: source is required. Provided empty "
        "string");
  }
  if (url.rfind("flyte://", 0) != 0) {
    return plugin::InvalidArgument(
        "failed to validate resolve artifact request. Error: request does not start with the "
        "correct prefix");
  }
  // pkg/common/flyte_url.go's two forms, the whole-literal one tried first.
  auto parts = ParseFlyteUrl(url, false);
  bool named = false;
  if (!parts) {
    parts = ParseFlyteUrl(url, true);
    if (!parts) {
      return plugin::InvalidArgument("failed to parse artifact url Error: failed to parse [" + url + "]");
    }
    named = true;
  }
  flyteidl::core::NodeExecutionIdentifier node;
  node.set_node_id(std::string(parts->node));
  node.mutable_execution_id()->set_project(std::string(parts->project));
  node.mutable_execution_id()->set_domain(std::string(parts->domain));
  node.mutable_execution_id()->set_name(std::string(parts->execution));
  char io = parts->io;
  std::string name = named ? std::string(parts->name) : "";
  if (!parts->attempt.empty()) {
    flyteidl::core::TaskExecutionIdentifier task;
    *task.mutable_node_execution_id() = node;
    std::string error;
    const std::string attempt_text(parts->attempt);
    auto attempt = plugin::GoAtoi(attempt_text, &error);
    if (!attempt) {
      return plugin::InvalidArgument(
          "failed to parse artifact url Error: failed to parse attempt [" + attempt_text + "], " +
          error);
    }
    task.set_retry_attempt(static_cast<uint32_t>(*attempt));
    return DataFromTask(call, task, io, name, response);
  }
  return DataFromNode(call, node, io, name, response);
}

namespace {
// The Content-Type a download is served with, by the key's extension as Go's mime package
// knows it without a system table (what a Go server on the bucket would answer): the console
// shows a deck's HTML in an iframe, which a download type would not render.
std::string ContentTypeOf(std::string_view key) {
  static const std::map<std::string, std::string, std::less<>> kTypes = {
      {".avif", "image/avif"},
      {".css", "text/css; charset=utf-8"},
      {".gif", "image/gif"},
      {".htm", "text/html; charset=utf-8"},
      {".html", "text/html; charset=utf-8"},
      {".jpeg", "image/jpeg"},
      {".jpg", "image/jpeg"},
      {".js", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".pdf", "application/pdf"},
      {".png", "image/png"},
      {".svg", "image/svg+xml"},
      {".wasm", "application/wasm"},
      {".webp", "image/webp"},
      {".xml", "text/xml; charset=utf-8"},
  };
  const size_t slash = key.rfind('/');
  const size_t dot = key.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string ext(key.substr(dot));
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

std::string TooLarge(uint64_t size, int64_t max) {
  return "upload of " + std::to_string(size) + " bytes exceeds the maximum of " + std::to_string(max) +
         " bytes (server.dataProxy.upload.maxSize)";
}
}  // namespace

ObjectRoute::ObjectRoute(std::shared_ptr<const ObjectSpace> space) : space_(std::move(space)) {}

std::size_t ObjectRoute::MaxBodyBytes() const {
  // One byte over the limit reaches the route, which then answers with the configured size.
  const int64_t max = space_->settings().upload_max_size;
  return max > 0 ? static_cast<std::size_t>(max) + 1 : 0;
}

std::string ObjectRoute::SpoolDirectory() const {
  auto store = space_->Store();
  return store.ok() ? (*store)->SpoolDirectory() : "";
}

std::variant<ObjectRoute::Target, plugin::HttpRouteResponse> ObjectRoute::Check(
    const plugin::HttpRouteRequest& request, bool check_expiry) const {
  const std::string_view prefix = kObjectRoutePrefix;
  if (request.method != "PUT" && request.method != "GET") {
    auto r = Refuse(405, "method " + std::string(request.method) + " not allowed: use PUT or GET");
    r.headers.emplace_back("Allow", "GET, PUT");
    return r;
  }
  auto parsed = ParseObjectRequest(
      request.path.substr(std::min(prefix.size(), request.path.size())), request.query);
  if (!parsed.ok()) {
    bool denied = parsed.status().code() == plugin::StatusCode::kPermissionDenied;
    return Refuse(denied ? 403 : 400, parsed.status().message());
  }
  parsed->object.method = std::string(request.method);
  if (!space_->signer().Verify(parsed->object, parsed->signature)) {
    return Refuse(403,
                  "signature does not match: the URL was altered or was not issued by this server");
  }
  auto now =
      std::chrono::duration_cast<std::chrono::seconds>(space_->Now().time_since_epoch()).count();
  if (check_expiry && now >= parsed->object.expires) {
    return Refuse(403, "the URL expired at " + TimeUtil::ToString(TimeUtil::SecondsToTimestamp(
                                                   parsed->object.expires)));
  }
  if (request.method == "PUT") {
    // Uploads only ever go to <storagePrefix>/[org/]project/domain/root/filename; checked besides
    // the signature so that no change of storagePrefix lets an older URL write elsewhere.
    auto upload_prefix = KeySegments(space_->settings().storage_prefix);
    bool inside =
        upload_prefix.ok() && parsed->segments.size() >= upload_prefix->size() + 4 &&
        std::equal(upload_prefix->begin(), upload_prefix->end(), parsed->segments.begin());
    if (!inside) {
      return Refuse(403, "uploads are only accepted under the project upload prefix; '" +
                             parsed->object.key + "' is outside it");
    }
    std::string_view header_md5 = request.Header("content-md5");
    if (!parsed->object.content_md5.empty() && header_md5 != parsed->object.content_md5) {
      return Refuse(403, header_md5.empty()
                             ? "missing Content-MD5 header: this URL was signed for Content-MD5 " +
                                   parsed->object.content_md5
                             : "Content-MD5 header " + std::string(header_md5) +
                                   " does not match the signed Content-MD5 " +
                                   parsed->object.content_md5);
    }
    if (!header_md5.empty()) {
      auto declared = Base64Decode(header_md5);
      if (!declared || declared->size() != 16) {
        return Refuse(
            400, "Content-MD5 header " + std::string(header_md5) + " is not a base64 md5 digest");
      }
    }
  }
  auto uri = space_->UriOf(parsed->segments);
  if (!uri.ok()) {
    return Refuse(uri.status().code() == plugin::StatusCode::kInvalidArgument ? 400 : 503,
                  uri.status().message());
  }
  auto store = space_->Store();
  if (!store.ok()) return Refuse(503, store.status().message());
  return Target{parsed->object.key, *uri, *store};
}

std::optional<plugin::HttpRouteResponse> ObjectRoute::Admit(const plugin::HttpRouteRequest& head) {
  auto checked = Check(head);
  if (auto* refusal = std::get_if<plugin::HttpRouteResponse>(&checked)) return std::move(*refusal);
  // A declared length over the limit is refused before a byte of the body is read.
  const int64_t max = space_->settings().upload_max_size;
  std::string_view length = head.Header("content-length");
  uint64_t declared = 0;
  if (max > 0 && !length.empty() &&
      std::from_chars(length.data(), length.data() + length.size(), declared).ec == std::errc() &&
      declared > static_cast<uint64_t>(max)) {
    return Refuse(413, TooLarge(declared, max));
  }
  return std::nullopt;
}

plugin::HttpRouteResponse ObjectRoute::Handle(const plugin::HttpRouteRequest& request) {
  // A spooled upload was admitted on its head (Admit), when the URL was checked in time: a long
  // upload that started before the URL expired is not refused once its last byte is in. A GET
  // serves what is there when it is answered, so its URL must still be valid then, whatever
  // body it was sent with.
  auto checked =
      Check(request, /*check_expiry=*/request.body_file.empty() || request.method == "GET");
  if (auto* refusal = std::get_if<plugin::HttpRouteResponse>(&checked)) return std::move(*refusal);
  const Target& target = std::get<Target>(checked);

  if (request.method == "GET") {
    auto size = target.store->Size(target.uri);
    if (!size.ok()) return Refuse(StatusOfStoreError(size.status()), size.status().message());
    plugin::HttpRouteResponse response{
        200,
        {{"Content-Type", ContentTypeOf(target.key)},
         // Served from the API's own origin: a page (a deck's HTML) runs in an opaque origin
         // of its own, scripts allowed, with no access to the API's cookies or storage.
         {"Content-Security-Policy", "sandbox allow-scripts"}},
        "",
        ""};
    // A file of the local store is streamed from disk, not held in memory, and never read
    // before the first byte goes out: its ETag is the md5 recorded at upload, else a weak one
    // made of its size and modification time.
    if (auto file = LocalFileOf(*target.store, target.uri)) {
      auto stamp = StampOf(*file);
      if (!stamp) return Refuse(404, "no object at " + target.uri);
      if (auto md5 = RecordedMd5(*file, *stamp)) {
        response.headers.emplace_back("ETag", "\"" + Hex(*md5) + "\"");
      } else {
        char weak[48];
        std::snprintf(weak, sizeof(weak), "W/\"%llx-%llx\"",
                      static_cast<unsigned long long>(stamp->size),
                      static_cast<unsigned long long>(stamp->mtime_ns));
        response.headers.emplace_back("ETag", weak);
      }
      response.body_file = *file;
      return response;
    }
    auto bytes = target.store->Read(target.uri);
    if (!bytes.ok()) {
      return Refuse(StatusOfStoreError(bytes.status()), bytes.status().message());
    }
    response.headers.emplace_back("ETag", "\"" + Hex(Md5(*bytes)) + "\"");
    response.body = std::move(bytes.value());
    return response;
  }

  // The body: spooled to a file (the host streamed it there) or in memory.
  const bool spooled = !request.body_file.empty();
  const std::string body_file(request.body_file);
  uint64_t size = request.body.size();
  if (spooled) {
    std::error_code ec;
    size = std::filesystem::file_size(body_file, ec);
    if (ec) return Refuse(500, "cannot read the received body");
  }
  const int64_t max = space_->settings().upload_max_size;
  if (max > 0 && size > static_cast<uint64_t>(max)) return Refuse(413, TooLarge(size, max));
  std::string digest;
  if (spooled) {
    auto md5 = Md5OfFile(body_file);
    if (!md5.ok()) return Refuse(500, md5.status().message());
    digest = *md5;
  } else {
    digest = Md5(request.body);
  }
  std::string_view header_md5 = request.Header("content-md5");
  if (!header_md5.empty() && *Base64Decode(header_md5) != digest) {
    return Refuse(400,
                  "the Content-MD5 you specified did not match what was received (body md5 " +
                      Base64(digest) + ")");
  }
  // Recorded on the spooled file before it moves into place, so that the attribute can only
  // ever sit on the bytes it describes.
  if (spooled) RecordMd5(body_file, digest);
  Status written = spooled ? target.store->WriteFile(target.uri, body_file)
                           : target.store->Write(target.uri, request.body);
  if (!written.ok()) return Refuse(StatusOfStoreError(written), written.message());
  return {200, {{"ETag", "\"" + Hex(digest) + "\""}}, "", ""};
}


}  // namespace flyte::plugins::dataproxy
