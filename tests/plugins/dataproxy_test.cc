// The local data proxy's logic: encodings, URL signing and expiry, the storage path layout, the
// refusal of escaping paths, and the object route's checks, on a real local store.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/xattr.h>

#include <catch2/catch.hpp>

#include "data_proxy.h"
#include "flyte/core/local_store.h"
#include "signed_url.h"
#include "test_support.h"

using namespace flyte::plugins::dataproxy;
using flyte::plugin::StatusCode;

namespace {

struct Fixture {
  explicit Fixture(std::function<void(DataProxySettings&)> tweak = nullptr) {
    auto dir = flyte::test::WriteTempFile("dp-" + std::to_string(std::rand()) + "/.keep", "");
    auto created = flyte::core::LocalObjectStore::Create(dir.substr(0, dir.rfind('/')), "bucket");
    REQUIRE(created.ok());
    store = created.value();
    DataProxySettings settings;
    settings.signing_key = "0123456789abcdef-test-key";
    settings.public_base_url = "http://localhost:8088";
    if (tweak) tweak(settings);
    space = std::make_shared<ObjectSpace>(
        settings,
        [s = store]() -> flyte::plugin::StatusOr<flyte::plugin::ObjectStore*> { return s.get(); },
        [this] { return now; });
    proxy = std::make_unique<LocalDataProxy>(space);
    route = std::make_unique<ObjectRoute>(space);
  }

  flyte::plugin::CallContext Call() {
    return {"/flyteidl.service.DataProxyService/X", {}, "", false};
  }

  flyteidl::service::CreateUploadLocationResponse Upload(
      const flyteidl::service::CreateUploadLocationRequest& req) {
    auto call = Call();
    flyteidl::service::CreateUploadLocationResponse resp;
    auto s = proxy->CreateUploadLocation(call, req, resp);
    INFO(s.message());
    REQUIRE(s.ok());
    return resp;
  }

  // The signed GET URL CreateDownloadLocation gives for `native` (the configured lifetime
  // unless `expires_in_seconds`).
  std::string DownloadUrl(const std::string& native, int64_t expires_in_seconds = 0) {
    auto call = Call();
    flyteidl::service::CreateDownloadLocationRequest req;
    req.set_native_url(native);
    if (expires_in_seconds > 0) req.mutable_expires_in()->set_seconds(expires_in_seconds);
    flyteidl::service::CreateDownloadLocationResponse resp;
    auto s = proxy->CreateDownloadLocation(call, req, resp);
    INFO(s.message());
    REQUIRE(s.ok());
    return resp.signed_url();
  }

  flyte::plugin::Status UploadError(const flyteidl::service::CreateUploadLocationRequest& req) {
    auto call = Call();
    flyteidl::service::CreateUploadLocationResponse resp;
    return proxy->CreateUploadLocation(call, req, resp);
  }

  // Sends a request for a signed URL to the route as the host would.
  flyte::plugin::HttpRouteResponse Send(const std::string& method, const std::string& url,
                                        const std::string& body,
                                        std::multimap<std::string, std::string> headers = {}) {
    std::string target = url.substr(url.find(kObjectRoutePrefix));
    auto q = target.find('?');
    std::string path = target.substr(0, q);
    std::string query = q == std::string::npos ? "" : target.substr(q + 1);
    flyte::plugin::HttpRouteRequest req{method, path, query, headers, body, "ipv4:127.0.0.1:1", {}};
    auto response = route->Handle(req);
    if (!response.body_file.empty()) {
      // What the host streams: the local store's files are served from disk.
      std::ifstream in(response.body_file, std::ios::binary);
      std::ostringstream bytes;
      bytes << in.rdbuf();
      response.body = bytes.str();
    }
    return response;
  }

  std::shared_ptr<flyte::core::LocalObjectStore> store;
  std::chrono::system_clock::time_point now =
      std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  std::shared_ptr<ObjectSpace> space;
  std::unique_ptr<LocalDataProxy> proxy;
  std::unique_ptr<ObjectRoute> route;
};

flyteidl::service::CreateUploadLocationRequest Request(const std::string& body,
                                                       const std::string& filename = "") {
  flyteidl::service::CreateUploadLocationRequest req;
  req.set_project("flytesnacks");
  req.set_domain("development");
  req.set_content_md5(Md5(body));
  if (!filename.empty()) req.set_filename(filename);
  return req;
}

}  // namespace

TEST_CASE("The encodings read as Go's base64, base32 and time.Duration", "[unit]") {
  CHECK(Base64(Md5("hello world")) == "XrY7u+Ae7tCTyyK7j1rNww==");
  CHECK(Base32(Md5("hello world")) == "L23DXO7AD3XNBE6LEK5Y6WWNYM======");
  CHECK(Hex(Md5("hello world")) == "5eb63bbbe01eeed093cb22bb8f5acdc3");
  CHECK(Base32("f") == "MY======");
  CHECK(Base32("foob") == "MZXW6YQ=");
  CHECK(Base32("fooba") == "MZXW6YTB");
  CHECK(Base32("foobar") == "MZXW6YTBOI======");
  CHECK(Base64Decode("XrY7u+Ae7tCTyyK7j1rNww==") == Md5("hello world"));
  CHECK_FALSE(Base64Decode("XrY7u+Ae7tCTyyK7j1rNww=").has_value());
  CHECK_FALSE(Base64Decode("not base64!").has_value());
  using namespace std::chrono;
  CHECK(GoDuration(hours(1)) == "1h0m0s");
  CHECK(GoDuration(hours(2) + seconds(1)) == "2h0m1s");
  CHECK(GoDuration(seconds(90)) == "1m30s");
  CHECK(GoDuration(milliseconds(1500)) == "1.5s");
  CHECK(GoDuration(milliseconds(300)) == "300ms");
  CHECK(GoDuration(seconds(-1)) == "-1s");
  CHECK(GoDuration(nanoseconds(0)) == "0s");
}

TEST_CASE("A signature covers method, key, expiry and md5 and nothing verifies under another key",
          "[unit]") {
  UrlSigner signer("secret-secret-secret", "http://h:1/", "/dataproxy/v1/objects/");
  SignedObject object{"PUT", "p/d/root/file name.tar.gz", 1700000100, Base64(Md5("x"))};
  std::string url = signer.Url(object);
  CHECK(url.rfind(
            "http://h:1/dataproxy/v1/objects/p/d/root/file%20name.tar.gz?expires=1700000100&md5=",
            0) == 0);
  std::string sig = signer.Signature(object);
  CHECK(sig.size() == 64);
  CHECK(signer.Verify(object, sig));

  auto parsed = ParseObjectRequest(
      url.substr(url.find("/objects/") + 9, url.find('?') - url.find("/objects/") - 9),
      url.substr(url.find('?') + 1));
  REQUIRE(parsed.ok());
  parsed->object.method = "PUT";
  CHECK(parsed->object.key == object.key);
  CHECK(parsed->object.content_md5 == object.content_md5);
  CHECK(signer.Verify(parsed->object, parsed->signature));

  for (auto change : std::vector<std::function<void(SignedObject&)>>{
           [](SignedObject& o) { o.method = "GET"; }, [](SignedObject& o) { o.key += "x"; },
           [](SignedObject& o) { o.expires += 1; },
           [](SignedObject& o) { o.content_md5 = Base64(Md5("y")); }}) {
    SignedObject altered = object;
    change(altered);
    CHECK_FALSE(signer.Verify(altered, sig));
  }
  CHECK_FALSE(UrlSigner("another-secret-value", "http://h:1", "/p/").Verify(object, sig));
  CHECK_FALSE(signer.Verify(object, sig.substr(1)));
}

TEST_CASE("No field of a signed URL can pass for another: a newline in a key forges nothing",
          "[unit]") {
  UrlSigner signer("secret-secret-secret", "http://h:1/", "/dataproxy/v1/objects/");
  // With fields only joined by newlines, these two were one signed text: a GET for a key that
  // ends in "\n<far expiry>" would have served its prefix until then.
  const int64_t issued = 1700000100;
  SignedObject real{"GET", "p/d/r/deck.html\n9999999999", issued, ""};
  SignedObject forged{"GET", "p/d/r/deck.html", 9999999999, std::to_string(issued) + "\n"};
  CHECK_FALSE(signer.Verify(forged, signer.Signature(real)));
  SignedObject shifted{"GET\np/d/r", "deck.html\n9999999999", issued, ""};
  CHECK_FALSE(signer.Verify(shifted, signer.Signature(real)));
  CHECK(signer.Verify(real, signer.Signature(real)));
}

TEST_CASE("Object paths that are empty, dot segments or hide a slash are refused", "[unit]") {
  for (std::string bad :
       {"p/../x", "p/./x", "p//x", "..", "p/%2e%2e/x", "p/a%2Fb", "p/%00", "p/%zz"}) {
    INFO(bad);
    auto r = ParseObjectRequest(bad, "expires=1&signature=00");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
  }
  CHECK(ParseObjectRequest("p/x", "expires=1").status().code() == StatusCode::kPermissionDenied);
  CHECK(ParseObjectRequest("p/x", "signature=ab").status().code() == StatusCode::kPermissionDenied);
  CHECK(ParseObjectRequest("p/x", "expires=soon&signature=ab").status().code() ==
        StatusCode::kPermissionDenied);

  auto ok = KeySegments("/a/b/");
  REQUIRE(ok.ok());
  CHECK(ok.value() == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(KeySegments("a/../b").ok());
  CHECK_FALSE(KeySegments("a//b").ok());
  // A file name holds 255 bytes: a longer segment is refused before a URL is signed for it.
  CHECK(KeySegments("a/" + std::string(255, 'x')).ok());
  auto too_long = KeySegments("a/" + std::string(256, 'x'));
  REQUIRE_FALSE(too_long.ok());
  CHECK(too_long.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(too_long.status().message(), Catch::Contains("is longer than 255 bytes"));
}

TEST_CASE("CreateUploadLocation lays out project/domain/base32(md5)/filename and signs a PUT",
          "[unit]") {
  Fixture f;
  auto resp = f.Upload(Request("hello world", "fast.tar.gz"));
  CHECK(resp.native_url() ==
        f.store->BaseUri() +
            "/flytesnacks/development/L23DXO7AD3XNBE6LEK5Y6WWNYM======/fast.tar.gz");
  CHECK(resp.native_url().rfind("file:///", 0) == 0);
  CHECK(resp.signed_url().rfind(
            "http://localhost:8088/dataproxy/v1/objects/flytesnacks/development/", 0) == 0);
  CHECK(resp.headers().at("Content-Md5") == "XrY7u+Ae7tCTyyK7j1rNww==");
  CHECK(resp.expires_at().seconds() == 1700000000 + 3600);

  auto put = f.Send("PUT", resp.signed_url(), "hello world",
                    {{"content-md5", "XrY7u+Ae7tCTyyK7j1rNww=="}});
  CHECK(put.status == 200);
  CHECK(f.store->Read(resp.native_url()).value() == "hello world");
}

TEST_CASE(
    "CreateUploadLocation uses filename_root, org and storagePrefix and a random name by default",
    "[unit]") {
  Fixture f([](DataProxySettings& s) {
    s.storage_prefix = "uploads";
    s.default_file_name_length = 7;
  });
  auto req = Request("abc");
  req.set_filename_root("my-root");
  req.set_org("acme");
  auto resp = f.Upload(req);
  std::string prefix = f.store->BaseUri() + "/uploads/acme/flytesnacks/development/my-root/";
  REQUIRE(resp.native_url().rfind(prefix, 0) == 0);
  std::string name = resp.native_url().substr(prefix.size());
  CHECK(name.size() == 7);
  CHECK(name.find_first_not_of("bcdfghjklmnpqrstvwxz2456789") == std::string::npos);
}

TEST_CASE("CreateUploadLocation refuses missing parameters, long expiries and escaping names",
          "[unit]") {
  Fixture f;
  auto req = Request("x", "f");
  req.clear_domain();
  CHECK(f.UploadError(req).message() == "project and domain are required parameters");
  req = Request("x", "f");
  req.clear_content_md5();
  CHECK(f.UploadError(req).message() == "content_md5 or filename_root is a required parameter");
  req = Request("x", "f");
  req.mutable_expires_in()->set_seconds(7200);
  auto s = f.UploadError(req);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "expiresIn [2h0m0s] cannot exceed max allowed expiration [1h0m0s]");
  req.mutable_expires_in()->set_seconds(1);
  req.mutable_expires_in()->set_nanos(-1);
  CHECK(f.UploadError(req).message() == "expiresIn [seconds:1 nanos:-1] is invalid");

  for (std::string name : {"../../etc/passwd", "a/../../b", ".", ".."}) {
    INFO(name);
    auto r = Request("x", name);
    auto st = f.UploadError(r);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(
        st.message(),
        Catch::StartsWith("failed to create shardedStorageLocation, Error: invalid path segment"));
    r = Request("x", "f");
    r.set_project("..");
    CHECK(f.UploadError(r).code() == StatusCode::kInvalidArgument);
  }
}

TEST_CASE("CreateUploadLocation refuses a '/' in org, project or domain and an md5 of another size",
          "[unit]") {
  Fixture f;
  // "victim/production" and "/" would have made the key of project victim's production domain.
  for (auto set : std::vector<std::function<void(flyteidl::service::CreateUploadLocationRequest&)>>{
           [](auto& r) { r.set_project("victim/production"); r.set_domain("/"); },
           [](auto& r) { r.set_domain("development/x"); },
           [](auto& r) { r.set_org("metadata/propeller"); }}) {
    auto req = Request("x", "f");
    set(req);
    auto s = f.UploadError(req);
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::EndsWith("must not contain '/'"));
  }
  auto req = Request("x", "f");
  req.set_content_md5(std::string(32, 'a'));  // a hex text where the 16 bytes belong
  auto s = f.UploadError(req);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(s.message() == "content_md5 must be the 16 bytes of an md5 digest, not 32");
  CHECK(f.Upload(Request("x", "f")).signed_url().find("/flytesnacks/development/") !=
        std::string::npos);
}

TEST_CASE("CreateUploadLocation at a known path rewrites only an object with the same md5",
          "[unit]") {
  Fixture f;
  auto req = Request("v1", "file.txt");
  req.set_filename_root("known");
  auto first = f.Upload(req);
  REQUIRE(f.store->Write(first.native_url(), "v1").ok());
  CHECK(f.Upload(req).native_url() == first.native_url());  // same content: allowed
  auto other = Request("v2", "file.txt");
  other.set_filename_root("known");
  auto s = f.UploadError(other);
  CHECK(s.code() == StatusCode::kAlreadyExists);
  CHECK(s.message() == "file already exists at location [" + first.native_url() +
                           "], specify a matching hash if you wish to rewrite");
  other.clear_content_md5();
  CHECK(f.UploadError(other).code() == StatusCode::kAlreadyExists);
}

TEST_CASE(
    "The object route refuses expired, tampered, oversized and mismatched uploads and writes "
    "nothing",
    "[unit]") {
  Fixture f([](DataProxySettings& s) { s.upload_max_size = 16; });
  std::string body = "0123456789";
  std::string md5 = Base64(Md5(body));
  auto req = Request(body, "f.bin");
  req.mutable_expires_in()->set_seconds(60);
  auto resp = f.Upload(req);
  std::multimap<std::string, std::string> headers{{"content-md5", md5}};

  SECTION("expired") {
    f.now += std::chrono::seconds(61);
    auto r = f.Send("PUT", resp.signed_url(), body, headers);
    CHECK(r.status == 403);
    CHECK_THAT(r.body, Catch::Contains("expired"));
  }
  SECTION("tampered signature") {
    std::string url = resp.signed_url();
    url.back() = url.back() == '0' ? '1' : '0';
    CHECK(f.Send("PUT", url, body, headers).status == 403);
  }
  SECTION("tampered path") {
    std::string url = resp.signed_url();
    url.replace(url.find("f.bin"), 5, "g.bin");
    CHECK(f.Send("PUT", url, body, headers).status == 403);
  }
  SECTION("used for GET") { CHECK(f.Send("GET", resp.signed_url(), "").status == 403); }
  SECTION("body not matching the signed md5") {
    auto r = f.Send("PUT", resp.signed_url(), "9876543210", headers);
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::Contains("did not match"));
  }
  SECTION("Content-MD5 header missing or not the signed one") {
    CHECK(f.Send("PUT", resp.signed_url(), body).status == 403);
    auto r = f.Send("PUT", resp.signed_url(), body, {{"content-md5", Base64(Md5("other"))}});
    CHECK(r.status == 403);
    CHECK_THAT(r.body, Catch::Contains("does not match the signed Content-MD5"));
  }
  SECTION("too large") {
    auto r = f.Send("PUT", resp.signed_url(), std::string(17, 'x'), headers);
    CHECK(r.status == 413);
    CHECK_THAT(r.body, Catch::Contains("maximum of 16 bytes"));
  }
  SECTION("escaping path") {
    std::string url = resp.signed_url();
    std::string escaped = url.substr(0, url.find("/objects/") + 9) +
                          "flytesnacks/development/%2e%2e/%2e%2e/x" + url.substr(url.find('?'));
    CHECK(f.Send("PUT", escaped, body, headers).status == 400);
  }
  CHECK(f.store->Size(resp.native_url()).status().code() == StatusCode::kNotFound);
  CHECK(f.route->MaxBodyBytes() == 17);
}

TEST_CASE("flyte:// data URLs parse as upstream's regexps match them, in linear time", "[unit]") {
  auto whole = ParseFlyteUrl("flyte://v1/p/d/e/n0/i", false);
  REQUIRE(whole);
  CHECK(whole->project == "p");
  CHECK(whole->domain == "d");
  CHECK(whole->execution == "e");
  CHECK(whole->node == "n0");
  CHECK(whole->attempt.empty());
  CHECK(whole->io == 'i');
  auto attempt = ParseFlyteUrl("flyte://v1/p/d/e/n0/12/d", false);
  REQUIRE(attempt);
  CHECK(attempt->attempt == "12");
  CHECK(attempt->io == 'd');
  auto named = ParseFlyteUrl("flyte://v1/p/d/e/n0/3/o/o_0-x", true);
  REQUIRE(named);
  CHECK(named->attempt == "3");
  CHECK(named->io == 'o');
  CHECK(named->name == "o_0-x");
  CHECK(ParseFlyteUrl("flyte://v1/p/d/e/n0/o/out", true)->name == "out");
  // Searched, not anchored at the start: the last flyte://v1/ counts.
  CHECK(ParseFlyteUrl("flyte://junk/flyte://v1/p/d/e/n/o", false)->node == "n");
  for (const char* bad :
       {"flyte://v1/p/d/e/n0/x", "flyte://v1/p/d/e/n0/d/name", "flyte://v1/p/d/e/n0/1x/i",
        "flyte://v1/p/d/e/n0/i/", "flyte://v1/p//e/n0/i", "flyte://v1/p/d/e/n.0/i",
        "flyte://v1/p/d/e/n0/1/2/i", "flyte://v1/p/d/e/n0", "flyte://v2/p/d/e/n0/i"}) {
    INFO(bad);
    CHECK_FALSE(ParseFlyteUrl(bad, false));
    CHECK_FALSE(ParseFlyteUrl(bad, true));
  }
  CHECK_FALSE(ParseFlyteUrl("flyte://v1/p/d/e/n0/i", true));
  CHECK_FALSE(ParseFlyteUrl("flyte://v1/p/d/e/n0/o/out", false));
  // A megabyte-long segment (std::regex recursed once per character of it).
  const std::string long_url = "flyte://v1/" + std::string(1 << 20, 'a') + "/d/e/n/i";
  auto long_parts = ParseFlyteUrl(long_url, false);
  REQUIRE(long_parts);
  CHECK(long_parts->project.size() == (1u << 20));
  CHECK_FALSE(ParseFlyteUrl("flyte://v1/" + std::string(1 << 20, 'a') + "/d/e/n/q", true));
}

TEST_CASE("A spooled upload admitted before its URL expired is stored even if it ends after",
          "[unit]") {
  Fixture f;
  std::string body = "a body that takes long to arrive";
  auto req = Request(body, "slow.bin");
  req.mutable_expires_in()->set_seconds(60);
  auto resp = f.Upload(req);
  std::multimap<std::string, std::string> headers{{"content-md5", Base64(Md5(body))},
                                                  {"content-length", std::to_string(body.size())}};
  std::string url = resp.signed_url();
  std::string target = url.substr(url.find(kObjectRoutePrefix));
  std::string path = target.substr(0, target.find('?'));
  std::string query = target.substr(target.find('?') + 1);
  auto request = [&](std::string_view body_file) {
    return flyte::plugin::HttpRouteRequest{"PUT", path, query, headers, "", "ipv4:127.0.0.1:1",
                                           body_file};
  };
  REQUIRE(!f.route->SpoolDirectory().empty());
  // The head arrives in time.
  f.now += std::chrono::seconds(59);
  CHECK_FALSE(f.route->Admit(request("")).has_value());
  // The body is spooled while the URL expires.
  f.now += std::chrono::seconds(30);
  std::filesystem::create_directories(f.route->SpoolDirectory());  // the host creates it
  std::string spooled = f.route->SpoolDirectory() + "/upload-slow";
  std::ofstream(spooled, std::ios::binary) << body;
  auto r = f.route->Handle(request(spooled));
  INFO(r.body);
  CHECK(r.status == 200);
  auto stored = f.store->Read(resp.native_url());
  REQUIRE(stored.ok());
  CHECK(stored.value() == body);
  // A new request on the expired URL is refused on its head, and so is an in-memory one.
  auto late = f.route->Admit(request(""));
  REQUIRE(late.has_value());
  CHECK(late->status == 403);
  CHECK(f.Send("PUT", url, body, headers).status == 403);
}

TEST_CASE("An uploaded object keeps its md5 beside it; others get a weak ETag and no full read",
          "[unit]") {
  namespace fs = std::filesystem;
  Fixture f;
  std::string body = "uploaded once";
  auto req = Request(body, "obj.bin");
  req.set_filename_root("root");
  auto resp = f.Upload(req);
  std::multimap<std::string, std::string> headers{{"content-md5", Base64(Md5(body))},
                                                  {"content-length", std::to_string(body.size())}};
  std::string url = resp.signed_url();
  std::string target = url.substr(url.find(kObjectRoutePrefix));
  fs::create_directories(f.route->SpoolDirectory());
  std::string spooled = f.route->SpoolDirectory() + "/upload-md5";
  std::ofstream(spooled, std::ios::binary) << body;
  auto put = f.route->Handle({"PUT", target.substr(0, target.find('?')),
                              target.substr(target.find('?') + 1), headers, "",
                              "ipv4:127.0.0.1:1", spooled});
  REQUIRE(put.status == 200);
  const std::string file = resp.native_url().substr(7);
  // Whether this file system keeps user attributes decides which ETag a download gets.
  const bool attributes = ::getxattr(file.c_str(), "user.flyteadmin.content-md5", nullptr, 0) > 0;
  WARN("user extended attributes kept by the store's file system: " << attributes);

  auto got = f.Send("GET", f.DownloadUrl(resp.native_url()), "");
  CHECK(got.status == 200);
  CHECK(got.body == body);
  auto etag = [](const flyte::plugin::HttpRouteResponse& r) {
    for (const auto& [k, v] : r.headers)
      if (k == "ETag") return v;
    return std::string();
  };
  if (attributes) CHECK(etag(got) == "\"" + Hex(Md5(body)) + "\"");
  else CHECK(etag(got).rfind("W/\"", 0) == 0);

  // An object the store wrote (no upload) has a weak ETag of size and time.
  auto other = f.store->Join(f.store->BaseUri(), {"flytesnacks", "development", "written"});
  REQUIRE(f.store->Write(other.value(), "by admin").ok());
  auto weak = f.Send("GET", f.DownloadUrl(other.value()), "");
  CHECK(weak.status == 200);
  CHECK(etag(weak).rfind("W/\"8-", 0) == 0);

  // The same md5 may rewrite the uploaded object; once the file changed in place, its recorded
  // md5 no longer counts and the content decides.
  CHECK(f.Upload(req).native_url() == resp.native_url());
  { std::ofstream(file, std::ios::binary | std::ios::app) << " and changed"; }
  fs::last_write_time(file, fs::last_write_time(file) + std::chrono::seconds(2));
  CHECK(f.UploadError(req).code() == StatusCode::kAlreadyExists);
  auto changed = Request(body + " and changed", "obj.bin");
  changed.set_filename_root("root");
  CHECK(f.Upload(changed).native_url() == resp.native_url());
  CHECK(etag(f.Send("GET", f.DownloadUrl(resp.native_url()), "")).rfind("W/\"", 0) == 0);
}

TEST_CASE("A GET is answered only while its URL is valid, even with a spooled body", "[unit]") {
  Fixture f;
  auto uri = f.store->Join(f.store->BaseUri(), {"flytesnacks", "development", "obj"});
  REQUIRE(f.store->Write(uri.value(), "payload").ok());
  const std::string url = f.DownloadUrl(uri.value(), 60);
  const std::string target = url.substr(url.find(kObjectRoutePrefix));
  const std::string path = target.substr(0, target.find('?'));
  const std::string query = target.substr(target.find('?') + 1);
  const std::multimap<std::string, std::string> headers;
  flyte::plugin::HttpRouteRequest head{"GET", path, query, headers, "", "ipv4:127.0.0.1:1", {}};
  CHECK_FALSE(f.route->Admit(head).has_value());
  // A trickled body kept the request open past the expiry.
  f.now += std::chrono::seconds(3600);
  std::filesystem::create_directories(f.route->SpoolDirectory());
  std::string spooled = f.route->SpoolDirectory() + "/get-body";
  std::ofstream(spooled) << "x";
  head.body_file = spooled;
  auto r = f.route->Handle(head);
  CHECK(r.status == 403);
  CHECK_THAT(r.body, Catch::Contains("expired"));
}

TEST_CASE("The object route follows no symbolic link out of the store", "[unit]") {
  namespace fs = std::filesystem;
  Fixture f;
  const fs::path base = f.store->BaseUri().substr(7);
  const fs::path outside = base.parent_path() / "outside-dp";
  fs::create_directories(outside);
  { std::ofstream(outside / "secret") << "secret"; }
  fs::create_directories(base / "flytesnacks" / "development");
  fs::create_directory_symlink(outside, base / "flytesnacks" / "development" / "link");
  const std::string native = f.store->BaseUri() + "/flytesnacks/development/link/secret";
  auto got = f.Send("GET", f.DownloadUrl(native), "");  // signing reads nothing
  CHECK(got.status == 403);
  CHECK(got.body.find("secret\n") == std::string::npos);
  CHECK_THAT(got.body, Catch::Contains("symbolic link"));

  // No upload URL at a known path through the link, and no write through one.
  auto known = Request("x", "f");
  known.set_filename_root("link/sub");
  auto refused = f.UploadError(known);
  CHECK(refused.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(refused.message(), Catch::Contains("symbolic link"));
  fs::create_directory_symlink(outside,
                               base / "flytesnacks" / "development" / Base32(Md5("x")));
  auto through = f.Upload(Request("x", "f"));  // a content-addressed path: nothing is looked up
  auto put = f.Send("PUT", through.signed_url(), "x", {{"content-md5", Base64(Md5("x"))}});
  CHECK(put.status == 403);
  CHECK_FALSE(fs::exists(outside / "f"));
}

TEST_CASE("CreateDownloadLocation signs a GET the route serves, within the download limits",
          "[unit]") {
  Fixture f;
  auto uri = f.store->Join(f.store->BaseUri(), {"flytesnacks", "development", "obj"});
  REQUIRE(f.store->Write(uri.value(), "payload").ok());
  auto call = f.Call();
  flyteidl::service::CreateDownloadLocationRequest req;
  req.set_native_url(uri.value());
  flyteidl::service::CreateDownloadLocationResponse resp;
  REQUIRE(f.proxy->CreateDownloadLocation(call, req, resp).ok());
  CHECK(resp.expires_at().seconds() == 1700000000 + 3600);
  auto got = f.Send("GET", resp.signed_url(), "");
  CHECK(got.status == 200);
  CHECK(got.body == "payload");
  CHECK(f.Send("PUT", resp.signed_url(), "x").status == 403);

  req.mutable_expires_in()->set_seconds(-5);
  CHECK(f.proxy->CreateDownloadLocation(call, req, resp).message() ==
        "error while validating request: expiresIn is invalid. Error: input duration [-5s] should "
        "not less than 0");
  req.mutable_expires_in()->set_seconds(3601);
  CHECK(f.proxy->CreateDownloadLocation(call, req, resp).message() ==
        "error while validating request: expiresIn is invalid. Error: input duration [1h0m1s] "
        "cannot exceed max "
        "allowed expiration [1h0m0s]");
  req.clear_expires_in();
  req.set_native_url("file:///etc/passwd");
  auto outside = f.proxy->CreateDownloadLocation(call, req, resp);
  CHECK(outside.code() == StatusCode::kInternal);
  CHECK_THAT(
      outside.message(),
      Catch::StartsWith("failed to create a signed url. Error: [file:///etc/passwd] is not"));
  // What Go's url.Parse refuses is the caller's error; a query it does not look at is no error.
  for (const std::string bad : {":foo", "file:///x/%zz", "s3://bad host/k", "file:///x#%zz"}) {
    req.set_native_url(bad);
    auto refused = f.proxy->CreateDownloadLocation(call, req, resp);
    CHECK(refused.code() == StatusCode::kInvalidArgument);
    CHECK(refused.message() == "error while validating request: failed to parse native_url [" + bad + "]");
  }
  req.set_native_url(uri.value() + "?q=%zz");
  CHECK(f.proxy->CreateDownloadLocation(call, req, resp).code() != StatusCode::kInvalidArgument);
}

TEST_CASE("CreateDownloadLink and GetData validate as upstream and name a missing manager", "[unit]") {
  Fixture f;
  auto call = f.Call();
  flyteidl::service::CreateDownloadLinkRequest link;
  flyteidl::service::CreateDownloadLinkResponse link_resp;
  CHECK(f.proxy->CreateDownloadLink(call, link, link_resp).message() ==
        "error while validating request. Error: invalid artifact type [ARTIFACT_TYPE_UNDEFINED]");
  link.set_artifact_type(flyteidl::service::ARTIFACT_TYPE_DECK);
  CHECK(f.proxy->CreateDownloadLink(call, link, link_resp).message() ==
        "error while validating request. Error: source is required. Provided nil");
  link.mutable_node_execution_id()->set_node_id("n0");
  auto missing = f.proxy->CreateDownloadLink(call, link, link_resp);
  CHECK(missing.code() == StatusCode::kInvalidArgument);
  CHECK(missing.message() ==
        "failed to find node execution [node_id:\"n0\"]. Error: no NodeExecutionManager plugin is loaded");

  flyteidl::service::GetDataRequest get;
  flyteidl::service::GetDataResponse data;
  CHECK(f.proxy->GetData(call, get, data).message() ==
        "failed to validate resolve artifact request. Error: source is required. Provided empty "
        "string");
  get.set_flyte_url("s3://bucket/x");
  CHECK(f.proxy->GetData(call, get, data).message() ==
        "failed to validate resolve artifact request. Error: request does not start with the "
        "correct prefix");
  get.set_flyte_url("flyte://v1/p/d/e/n0/x");
  CHECK(f.proxy->GetData(call, get, data).message() ==
        "failed to parse artifact url Error: failed to parse [flyte://v1/p/d/e/n0/x]");
  get.set_flyte_url("flyte://v1/p/d/e/n0/o/out");
  auto node = f.proxy->GetData(call, get, data);
  CHECK(node.code() == StatusCode::kUnavailable);
  CHECK(node.message() == "no NodeExecutionManager plugin is loaded");
  get.set_flyte_url("flyte://v1/p/d/e/n0/2/i");
  auto task = f.proxy->GetData(call, get, data);
  CHECK(task.code() == StatusCode::kUnavailable);
  CHECK(task.message() == "no TaskExecutionManager plugin is loaded");
}

namespace {

flyteidl::core::Literal IntLiteral(int64_t v) {
  flyteidl::core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_integer(v);
  return l;
}

// Hand-written managers answering for one node ("n0" of p/d/e) and its attempt 1 ("t" v1).
class FakeNodeManager final : public flyte::plugin::NodeExecutionManager {
 public:
  std::string deck_uri;
  flyte::plugin::Status CreateNodeEvent(flyte::plugin::CallContext&, const flyteidl::admin::NodeExecutionEventRequest&,
                                        flyteidl::admin::NodeExecutionEventResponse&) override {
    return flyte::plugin::Unimplemented("CreateNodeEvent");
  }
  void CreateNodeEventAsync(flyte::plugin::CallContext&, const flyteidl::admin::NodeExecutionEventRequest&,
                            flyteidl::admin::NodeExecutionEventResponse&,
                            std::function<void(flyte::plugin::Status)> done) override {
    done(flyte::plugin::Unimplemented("CreateNodeEvent"));
  }
  flyte::plugin::Status GetNodeExecution(flyte::plugin::CallContext&, const flyteidl::admin::NodeExecutionGetRequest& r,
                                         flyteidl::admin::NodeExecution& out) override {
    if (r.id().node_id() != "n0") return flyte::plugin::NotFound("missing entity of type node execution");
    *out.mutable_id() = r.id();
    out.mutable_closure()->set_deck_uri(deck_uri);
    return flyte::plugin::Status::Ok();
  }
  flyte::plugin::Status GetDynamicNodeWorkflow(flyte::plugin::CallContext&, const flyteidl::admin::GetDynamicNodeWorkflowRequest&,
                                               flyteidl::admin::DynamicNodeWorkflowResponse&) override {
    return flyte::plugin::Unimplemented("GetDynamicNodeWorkflow");
  }
  flyte::plugin::Status ListNodeExecutions(flyte::plugin::CallContext&, const flyteidl::admin::NodeExecutionListRequest&,
                                           flyteidl::admin::NodeExecutionList&) override {
    return flyte::plugin::Unimplemented("ListNodeExecutions");
  }
  flyte::plugin::Status ListNodeExecutionsForTask(flyte::plugin::CallContext&,
                                                  const flyteidl::admin::NodeExecutionForTaskListRequest&,
                                                  flyteidl::admin::NodeExecutionList&) override {
    return flyte::plugin::Unimplemented("ListNodeExecutionsForTask");
  }
  flyte::plugin::Status GetNodeExecutionData(flyte::plugin::CallContext&, const flyteidl::admin::NodeExecutionGetDataRequest& r,
                                             flyteidl::admin::NodeExecutionGetDataResponse& out) override {
    if (r.id().node_id() != "n0") return flyte::plugin::NotFound("missing entity of type node execution");
    (*out.mutable_full_inputs()->mutable_literals())["x"] = IntLiteral(1);
    (*out.mutable_full_outputs()->mutable_literals())["o0"] = IntLiteral(2);
    return flyte::plugin::Status::Ok();
  }
};

class FakeTaskManager final : public flyte::plugin::TaskExecutionManager {
 public:
  std::string last_filters;
  flyte::plugin::Status CreateTaskEvent(flyte::plugin::CallContext&, const flyteidl::admin::TaskExecutionEventRequest&,
                                        flyteidl::admin::TaskExecutionEventResponse&) override {
    return flyte::plugin::Unimplemented("CreateTaskEvent");
  }
  void CreateTaskEventAsync(flyte::plugin::CallContext&, const flyteidl::admin::TaskExecutionEventRequest&,
                            flyteidl::admin::TaskExecutionEventResponse&,
                            std::function<void(flyte::plugin::Status)> done) override {
    done(flyte::plugin::Unimplemented("CreateTaskEvent"));
  }
  flyte::plugin::Status GetTaskExecution(flyte::plugin::CallContext&, const flyteidl::admin::TaskExecutionGetRequest&,
                                         flyteidl::admin::TaskExecution&) override {
    return flyte::plugin::Unimplemented("GetTaskExecution");
  }
  flyte::plugin::Status ListTaskExecutions(flyte::plugin::CallContext&, const flyteidl::admin::TaskExecutionListRequest& r,
                                           flyteidl::admin::TaskExecutionList& out) override {
    last_filters = r.filters();
    if (r.limit() != 1) return flyte::plugin::InvalidArgument("limit");
    if (r.filters() != "eq(retry_attempt,1)") return flyte::plugin::Status::Ok();
    auto* id = out.add_task_executions()->mutable_id();
    *id->mutable_node_execution_id() = r.node_execution_id();
    id->mutable_task_id()->set_name("t");
    id->mutable_task_id()->set_version("v1");
    id->set_retry_attempt(1);
    return flyte::plugin::Status::Ok();
  }
  flyte::plugin::Status GetTaskExecutionData(flyte::plugin::CallContext&, const flyteidl::admin::TaskExecutionGetDataRequest& r,
                                             flyteidl::admin::TaskExecutionGetDataResponse& out) override {
    if (r.id().task_id().name() != "t") return flyte::plugin::NotFound("task id not completed from the listing");
    (*out.mutable_full_inputs()->mutable_literals())["x"] = IntLiteral(10);
    (*out.mutable_full_outputs()->mutable_literals())["o0"] = IntLiteral(20);
    return flyte::plugin::Status::Ok();
  }
};

}  // namespace

TEST_CASE("GetData serves node and task attempt data through the execution managers", "[unit]") {
  Fixture f;
  auto node_manager = std::make_shared<FakeNodeManager>();
  auto task_manager = std::make_shared<FakeTaskManager>();
  LocalDataProxy proxy(f.space, {[node_manager] { return node_manager; }, [task_manager] { return task_manager; }});
  auto call = f.Call();
  flyteidl::service::GetDataRequest get;
  flyteidl::service::GetDataResponse data;

  get.set_flyte_url("flyte://v1/p/d/e/n0/i");
  REQUIRE(proxy.GetData(call, get, data).ok());
  CHECK(data.literal_map().literals().at("x").scalar().primitive().integer() == 1);
  data.Clear();
  get.set_flyte_url("flyte://v1/p/d/e/n0/o/o0");
  REQUIRE(proxy.GetData(call, get, data).ok());
  CHECK(data.literal().scalar().primitive().integer() == 2);
  get.set_flyte_url("flyte://v1/p/d/e/n0/o/nope");
  auto absent = proxy.GetData(call, get, data);
  CHECK(absent.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(absent.message(), Catch::StartsWith("name [nope] not found in node execution ["));
  get.set_flyte_url("flyte://v1/p/d/e/n9/i");
  CHECK(proxy.GetData(call, get, data).code() == StatusCode::kNotFound);

  data.Clear();
  get.set_flyte_url("flyte://v1/p/d/e/n0/1/o");
  REQUIRE(proxy.GetData(call, get, data).ok());
  CHECK(task_manager->last_filters == "eq(retry_attempt,1)");
  CHECK(data.literal_map().literals().at("o0").scalar().primitive().integer() == 20);
  get.set_flyte_url("flyte://v1/p/d/e/n0/1/i/x");
  REQUIRE(proxy.GetData(call, get, data).ok());
  CHECK(data.literal().scalar().primitive().integer() == 10);
  get.set_flyte_url("flyte://v1/p/d/e/n0/3/i");
  auto no_attempt = proxy.GetData(call, get, data);
  CHECK(no_attempt.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(no_attempt.message(), Catch::StartsWith("no task executions were listed ["));
  get.set_flyte_url("flyte://v1/p/d/e/n0/1/d");
  CHECK(proxy.GetData(call, get, data).message() ==
        "deck type cannot be specified with a retry attempt, just use the node instead");

  // The deck: a download link to the node's deck_uri, once the object exists.
  get.set_flyte_url("flyte://v1/p/d/e/n0/d");
  auto no_deck = proxy.GetData(call, get, data);
  CHECK(no_deck.code() == StatusCode::kNotFound);
  CHECK_THAT(no_deck.message(), Catch::StartsWith("no deckUrl found for request ["));
  CHECK_THAT(no_deck.message(), Catch::Contains("expires_in:{seconds:3600}"));
  // Asked for directly without an expiry: printed with the one it defaulted to.
  flyteidl::service::CreateDownloadLinkRequest link;
  link.set_artifact_type(flyteidl::service::ARTIFACT_TYPE_DECK);
  link.mutable_node_execution_id()->set_node_id("n0");
  link.mutable_node_execution_id()->mutable_execution_id()->set_project("p");
  link.mutable_node_execution_id()->mutable_execution_id()->set_domain("d");
  link.mutable_node_execution_id()->mutable_execution_id()->set_name("e");
  flyteidl::service::CreateDownloadLinkResponse link_resp;
  auto no_deck_link = proxy.CreateDownloadLink(call, link, link_resp);
  CHECK(no_deck_link.code() == StatusCode::kNotFound);
  CHECK_THAT(no_deck_link.message(), Catch::Contains("expires_in:{seconds:3600}"));
  auto deck = f.store->Join(f.store->BaseUri(), {"p", "d", "deck.html"});
  REQUIRE(deck.ok());
  node_manager->deck_uri = *deck;
  auto not_written = proxy.GetData(call, get, data);
  CHECK(not_written.code() == StatusCode::kNotFound);
  CHECK(not_written.message() == "object not found");
  REQUIRE(f.store->Write(*deck, "<html>deck</html>").ok());
  data.Clear();
  REQUIRE(proxy.GetData(call, get, data).ok());
  REQUIRE(data.pre_signed_urls().signed_url_size() == 1);
  // The signed URL is one the object route serves.
  auto url = data.pre_signed_urls().signed_url(0);
  CHECK_THAT(url, Catch::StartsWith(std::string("http://localhost:8088") + kObjectRoutePrefix));
  CHECK(data.pre_signed_urls().expires_at().seconds() > 0);
  auto served = f.Send("GET", url, "");
  CHECK(served.status == 200);
  CHECK(served.body == "<html>deck</html>");
}

TEST_CASE("Settings read upstream's keys and derive the base URL from the HTTP address", "[unit]") {
  auto root = nlohmann::json::parse(R"({"server": {"httpPort": 9000, "bindAddress": "0.0.0.0",
      "dataProxy": {"upload": {"maxSize": "1Mi", "maxExpiresIn": "30m", "defaultFileNameLength": 8,
                               "storagePrefix": "up"}, "download": {"maxExpiresIn": "2h"}}}})");
  auto s = DataProxySettings::FromConfig(root, nlohmann::json::object());
  REQUIRE(s.ok());
  CHECK(s->upload_max_size == 1024 * 1024);
  CHECK(s->upload_max_expires_in == std::chrono::minutes(30));
  CHECK(s->default_file_name_length == 8);
  CHECK(s->storage_prefix == "up");
  CHECK(s->download_max_expires_in == std::chrono::hours(2));
  CHECK(s->public_base_url == "http://localhost:9000");
  CHECK(s->signing_key.size() == 32);  // generated

  auto defaults = DataProxySettings::FromConfig(
      nlohmann::json::object(),
      {{"publicBaseUrl", "https://flyte.example.com"}, {"signingKey", "a-configured-signing-key"}});
  REQUIRE(defaults.ok());
  CHECK(defaults->upload_max_size == int64_t{5} << 30);  // S3's single-PUT bound
  CHECK(defaults->upload_max_expires_in == std::chrono::hours(1));
  CHECK(defaults->default_file_name_length == 20);
  CHECK(defaults->public_base_url == "https://flyte.example.com");
  CHECK(defaults->signing_key == "a-configured-signing-key");

  root["server"]["dataProxy"]["upload"]["maxExpiresIn"] = "soon";
  CHECK_THAT(DataProxySettings::FromConfig(root, nlohmann::json::object()).status().message(),
             Catch::StartsWith("server.dataProxy.upload.maxExpiresIn: time: invalid duration"));
  CHECK_FALSE(
      DataProxySettings::FromConfig(nlohmann::json::object(), {{"signingKey", "short"}}).ok());
}
