// The built server's data proxy as flytectl's fast register uses it: CreateUploadLocation with
// the archive's md5, HTTP PUT to the signed URL, the object at native_url (file://); then every
// refusal leaves the store untouched; downloads and the REST bindings too.
#include <signal.h>

#include <utility>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <catch2/catch.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "flyteidl/service/dataproxy.grpc.pb.h"
#include "grpc_helpers.h"
#include "signed_url.h"
#include "served_server.h"
#include "test_support.h"

using namespace flyte;
using flyteidl::service::DataProxyService;
namespace dp = flyte::plugins::dataproxy;

namespace {

constexpr const char* kArchive =
    "/work/shared/fixtures/pyflyte-packages/flytesnacks-core/"
    "fasted4a62b5c4359e9aed745fa1197a9ea0.tar.gz";
constexpr int64_t kMaxSize = 64 * 1024;  // the server's upload.maxSize below: 64Ki

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FilePathOf(const std::string& file_url) {
  REQUIRE(file_url.rfind("file://", 0) == 0);
  return file_url.substr(7);
}

// The request target of a URL on this server ("http://127.0.0.1:port/x?y" -> "/x?y").
std::string TargetOf(const std::string& url, int http_port) {
  std::string origin = "http://127.0.0.1:" + std::to_string(http_port);
  REQUIRE(url.rfind(origin, 0) == 0);
  return url.substr(origin.size());
}

// Regular files under a directory, recursively (the store's temporary files included).
int CountFiles(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) ++n;
  }
  return n;
}

struct DataProxyServer {
  DataProxyServer()
      : served("    - name: flyte_dataproxy_local\n    - name: flyte_manager_node_execution\n",
               {R"({"server": {"dataProxy": {"upload": {"maxSize": "64Ki"}}}})"}),
        grpc_port(served.grpc_port),
        http_port(served.http_port),
        stub(DataProxyService::NewStub(served.channel())) {}

  grpc::Status Upload(const flyteidl::service::CreateUploadLocationRequest& req,
                      flyteidl::service::CreateUploadLocationResponse& resp) {
    grpc::ClientContext ctx;
    return stub->CreateUploadLocation(&ctx, req, &resp);
  }

  flyteidl::service::CreateUploadLocationResponse UploadOk(
      const flyteidl::service::CreateUploadLocationRequest& req) {
    flyteidl::service::CreateUploadLocationResponse resp;
    auto s = Upload(req, resp);
    INFO(s.error_message());
    REQUIRE(s.ok());
    return resp;
  }

  test::HttpResult Put(const std::string& url, const std::string& body,
                       const std::string& content_md5) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!content_md5.empty()) headers.emplace_back("Content-MD5", content_md5);
    return test::Http(http_port, "PUT", TargetOf(url, http_port), body, headers);
  }

  test::ServedServer served;
  int grpc_port, http_port;
  std::unique_ptr<DataProxyService::Stub> stub;
};

flyteidl::service::CreateUploadLocationRequest FastRegisterRequest(const std::string& filename,
                                                                   const std::string& body) {
  // What flytectl sends (registration.md §11.4 step 3).
  flyteidl::service::CreateUploadLocationRequest req;
  req.set_project("flytesnacks");
  req.set_domain("development");
  req.set_filename(filename);
  req.set_content_md5(dp::Md5(body));
  return req;
}

// GET through a signed download URL for `native_url` (CreateDownloadLocation); the URL too.
std::pair<test::HttpResult, std::string> Download(DataProxyService::Stub& stub, int http_port,
                                                  const std::string& native_url, int64_t expires_in = 0) {
  flyteidl::service::CreateDownloadLocationRequest req;
  req.set_native_url(native_url);
  if (expires_in > 0) req.mutable_expires_in()->set_seconds(expires_in);
  flyteidl::service::CreateDownloadLocationResponse resp;
  grpc::ClientContext ctx;
  auto st = stub.CreateDownloadLocation(&ctx, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return {test::Http(http_port, "GET", TargetOf(resp.signed_url(), http_port)), resp.signed_url()};
}

}  // namespace

TEST_CASE(
    "A fast-register archive uploads through a signed URL and reads back at its file:// native_url",
    "[e2e]") {
  DataProxyServer server;
  std::string archive = ReadFile(kArchive);
  REQUIRE(archive.size() > 1000);
  std::string filename = std::filesystem::path(kArchive).filename().string();
  std::string md5 = dp::Base64(dp::Md5(archive));

  auto loc = server.UploadOk(FastRegisterRequest(filename, archive));
  CHECK(loc.native_url().rfind("file:///", 0) == 0);
  CHECK_THAT(loc.native_url(), Catch::EndsWith("/bucket/flytesnacks/development/" +
                                               dp::Base32(dp::Md5(archive)) + "/" + filename));
  CHECK(loc.signed_url().rfind("http://127.0.0.1:" + std::to_string(server.http_port) + "/", 0) ==
        0);
  CHECK(loc.headers().at("Content-Md5") == md5);
  CHECK(loc.expires_at().seconds() > std::time(nullptr) + 3500);

  auto put = server.Put(loc.signed_url(), archive, md5);
  INFO(put.body);
  REQUIRE(put.status == 200);
  CHECK(put.Header("etag") == "\"" + dp::Hex(dp::Md5(archive)) + "\"");
  CHECK(ReadFile(FilePathOf(loc.native_url())) == archive);

  // The same declared content may be uploaded again to the same URL.
  CHECK(server.Put(loc.signed_url(), archive, md5).status == 200);

  std::string container = loc.native_url().substr(0, loc.native_url().find("/flytesnacks/"));
  int files = CountFiles(FilePathOf(container));
  CHECK(files == 1);

  SECTION("refusals are 4xx and write nothing") {
    std::string small = "print('hello')\n";
    std::string small_md5 = dp::Base64(dp::Md5(small));

    // A body other than the one whose md5 was declared.
    auto wrong_body = server.UploadOk(FastRegisterRequest("wrong-body.tar.gz", small));
    auto r = server.Put(wrong_body.signed_url(), "print('tampered')\n", small_md5);
    CHECK(r.status == 400);
    CHECK_THAT(r.body, Catch::Contains("did not match"));

    // A Content-MD5 header other than the signed one, even if it matches the body.
    std::string other = "other content";
    auto wrong_header = server.UploadOk(FastRegisterRequest("wrong-header.tar.gz", small));
    r = server.Put(wrong_header.signed_url(), other, dp::Base64(dp::Md5(other)));
    CHECK(r.status == 403);
    CHECK_THAT(r.body, Catch::Contains("does not match the signed Content-MD5"));
    CHECK(server.Put(wrong_header.signed_url(), small, "").status == 403);  // header missing

    // A tampered signature, and a URL re-pointed at another file.
    auto tampered = server.UploadOk(FastRegisterRequest("tampered.tar.gz", small));
    std::string url = tampered.signed_url();
    url.back() = url.back() == 'a' ? 'b' : 'a';
    r = server.Put(url, small, small_md5);
    CHECK(r.status == 403);
    CHECK_THAT(r.body, Catch::Contains("signature does not match"));
    url = tampered.signed_url();
    url.replace(url.find("tampered.tar.gz"), 15, "elsewhere.tgz00");
    CHECK(server.Put(url, small, small_md5).status == 403);

    // Too large: the body is over upload.maxSize.
    std::string big(kMaxSize + 100, 'x');
    auto too_large = server.UploadOk(FastRegisterRequest("big.tar.gz", big));
    r = server.Put(too_large.signed_url(), big, dp::Base64(dp::Md5(big)));
    CHECK(r.status == 413);

    // Paths escaping the project prefix: in the request, and in the URL path.
    flyteidl::service::CreateUploadLocationResponse ignored;
    auto escaping = FastRegisterRequest("../../../../escape.tar.gz", small);
    auto s = server.Upload(escaping, ignored);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(), Catch::Contains("invalid path segment"));
    escaping = FastRegisterRequest("x.tar.gz", small);
    escaping.set_project("..");
    CHECK(server.Upload(escaping, ignored).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    std::string query = tampered.signed_url().substr(tampered.signed_url().find('?'));
    for (std::string path :
         {"/dataproxy/v1/objects/flytesnacks/development/../../../../escape",
          "/dataproxy/v1/objects/flytesnacks/development/%2e%2e/%2E%2E/escape",
          "/dataproxy/v1/objects/flytesnacks/development/a%2F..%2F..%2Fescape"}) {
      INFO(path);
      r = test::Http(server.http_port, "PUT", path + query, small, {{"Content-MD5", small_md5}});
      CHECK(r.status == 400);
    }

    // Expired: a one-second URL used after it lapsed.
    auto short_lived = FastRegisterRequest("short.tar.gz", small);
    short_lived.mutable_expires_in()->set_seconds(1);
    auto expiring = server.UploadOk(short_lived);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    r = server.Put(expiring.signed_url(), small, small_md5);
    CHECK(r.status == 403);
    CHECK_THAT(r.body, Catch::Contains("expired"));

    // A longer expiry than allowed is refused when asked for.
    short_lived.mutable_expires_in()->set_seconds(7200);
    s = server.Upload(short_lived, ignored);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "expiresIn [2h0m0s] cannot exceed max allowed expiration [1h0m0s]");
    // Beyond what nanoseconds hold, it saturates as durationpb's AsDuration (no wrap to a
    // negative, already expired URL).
    short_lived.mutable_expires_in()->set_seconds(10000000000);
    s = server.Upload(short_lived, ignored);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() ==
          "expiresIn [2562047h47m16.854775807s] cannot exceed max allowed expiration [1h0m0s]");
    // A negative expiry would hand out a URL that expired already.
    short_lived.mutable_expires_in()->set_seconds(-5);
    s = server.Upload(short_lived, ignored);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "expiresIn [-5s] should not less than 0");

    CHECK(CountFiles(FilePathOf(container)) == files);
  }

  SECTION("a key that is a prefix of another object's key, or the reverse, conflicts (409)") {
    // An object store holds "root/sub" and "root/sub/x" side by side; the local store cannot.
    std::string small = "print('hello')\n";
    std::string small_md5 = dp::Base64(dp::Md5(small));
    auto at = [&](const std::string& filename) {
      auto req = FastRegisterRequest(filename, small);
      req.set_filename_root("conflicts");
      return server.UploadOk(req);
    };
    auto nested = at("sub/x.py");
    REQUIRE(server.Put(nested.signed_url(), small, small_md5).status == 200);
    // "sub" is a prefix of an object here: a directory on the file system.
    auto prefix = at("sub");
    auto r = server.Put(prefix.signed_url(), small, small_md5);
    CHECK(r.status == 409);
    CHECK_THAT(r.body, Catch::Contains("under that key used as a prefix"));
    // "sub/x.py" is an object: nothing can be stored under it.
    auto under = at("sub/x.py/y.py");
    r = server.Put(under.signed_url(), small, small_md5);
    CHECK(r.status == 409);
    // What was stored is intact.
    auto [got, signed_url] = Download(*server.stub, server.http_port, nested.native_url(), 600);
    CHECK(got.status == 200);
    CHECK(got.body == small);
  }

  SECTION("downloads of the uploaded object") {
    auto [got, signed_url] = Download(*server.stub, server.http_port, loc.native_url(), 600);
    CHECK(got.status == 200);
    CHECK(got.body == archive);
    CHECK(got.Header("content-type") == "application/octet-stream");
    CHECK(got.Header("content-security-policy") == "sandbox allow-scripts");
    // The download URL grants no write.
    CHECK(server.Put(signed_url, "x", dp::Base64(dp::Md5("x"))).status == 403);

    // CreateDownloadLink for a node execution that does not exist.
    flyteidl::service::CreateDownloadLinkRequest link;
    link.set_artifact_type(flyteidl::service::ARTIFACT_TYPE_DECK);
    link.mutable_node_execution_id()->set_node_id("n0");
    link.mutable_node_execution_id()->mutable_execution_id()->set_project("flytesnacks");
    link.mutable_node_execution_id()->mutable_execution_id()->set_domain("development");
    link.mutable_node_execution_id()->mutable_execution_id()->set_name("e1");
    flyteidl::service::CreateDownloadLinkResponse link_resp;
    grpc::ClientContext link_ctx;
    auto s = server.stub->CreateDownloadLink(&link_ctx, link, &link_resp);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(s.error_message(),
               Catch::StartsWith("failed to find node execution [node_id:\"n0\""));
  }

  SECTION("a deck's HTML is served as HTML, in a sandbox") {
    std::string page = "<html><body>deck</body></html>";
    auto req = FastRegisterRequest("deck.HTML", page);
    req.set_filename_root("decks");
    auto html = server.UploadOk(req);
    REQUIRE(server.Put(html.signed_url(), page, dp::Base64(dp::Md5(page))).status == 200);
    auto got = Download(*server.stub, server.http_port, html.native_url()).first;
    CHECK(got.status == 200);
    CHECK(got.body == page);
    CHECK(got.Header("content-type") == "text/html; charset=utf-8");
    CHECK(got.Header("content-security-policy") == "sandbox allow-scripts");

    // A directory is no object: a file named as one may be asked for, with or without an md5.
    auto nested = FastRegisterRequest("sub/x.txt", "nested");
    nested.set_filename_root("dirs");
    auto placed = server.UploadOk(nested);
    REQUIRE(server.Put(placed.signed_url(), "nested", dp::Base64(dp::Md5("nested"))).status == 200);
    auto as_dir = FastRegisterRequest("sub", "other");
    as_dir.set_filename_root("dirs");
    flyteidl::service::CreateUploadLocationResponse dir_loc;
    auto st = server.Upload(as_dir, dir_loc);
    INFO(st.error_message());
    CHECK(st.ok());
    as_dir.clear_content_md5();
    CHECK(server.Upload(as_dir, dir_loc).ok());
    // A file that exists is still refused without its md5.
    auto again = FastRegisterRequest("sub/x.txt", "other");
    again.set_filename_root("dirs");
    CHECK(server.Upload(again, dir_loc).error_code() == grpc::StatusCode::ALREADY_EXISTS);
  }

  SECTION("the REST bindings") {
    std::string body = "rest upload\n";
    nlohmann::json create = {{"project", "flytesnacks"},
                             {"domain", "development"},
                             {"filename", "rest.txt"},
                             {"content_md5", dp::Base64(dp::Md5(body))}};
    auto r = test::Http(server.http_port, "POST", "/api/v1/dataproxy/artifact_urn", create.dump(),
                        {{"Content-Type", "application/json"}, {"Accept", "application/json"}});
    INFO(r.body);
    REQUIRE(r.status == 200);
    auto created = nlohmann::json::parse(r.body);
    std::string native = created["native_url"];
    CHECK(native.rfind("file:///", 0) == 0);
    CHECK(created["headers"]["Content-Md5"] == dp::Base64(dp::Md5(body)));
    CHECK(server.Put(created["signed_url"], body, dp::Base64(dp::Md5(body))).status == 200);
    CHECK(ReadFile(FilePathOf(native)) == body);

    r = test::Http(server.http_port, "GET",
                   "/api/v1/dataproxy/artifact_urn?native_url=" + dp::PercentEncode(native), "",
                   {{"Accept", "application/json"}});
    REQUIRE(r.status == 200);
    auto download = nlohmann::json::parse(r.body);
    auto got =
        test::Http(server.http_port, "GET", TargetOf(download["signed_url"], server.http_port));
    CHECK(got.status == 200);
    CHECK(got.body == body);

    create.erase("content_md5");
    r = test::Http(server.http_port, "POST", "/api/v1/dataproxy/artifact_urn", create.dump(),
                   {{"Content-Type", "application/json"}});
    CHECK(r.status == 400);
    CHECK(nlohmann::json::parse(r.body)["message"] ==
          "content_md5 or filename_root is a required parameter");

    r = test::Http(server.http_port, "POST", "/api/v1/dataproxy/artifact_link",
                   R"({"artifact_type": "ARTIFACT_TYPE_DECK"})",
                   {{"Content-Type", "application/json"}});
    CHECK(r.status == 400);
    CHECK(nlohmann::json::parse(r.body)["message"] ==
          "error while validating request. Error: source is required. Provided nil");

    r = test::Http(server.http_port, "GET",
                   "/api/v1/data?flyte_url=" +
                       dp::PercentEncode("flyte://v1/flytesnacks/development/e1/n0/o"));
    // Read through the node execution manager: there is no such node execution.
    CHECK(r.status == 404);
    CHECK_THAT(r.body, Catch::Contains("missing entity of type node execution"));
    r = test::Http(server.http_port, "GET",
                   "/api/v1/data?flyte_url=" + dp::PercentEncode("s3://bucket/key"));
    CHECK(r.status == 400);
  }
}

namespace {

// A PUT of a head and `raw` after it (nothing: the server must answer before any body).
test::HttpResult HeadOnlyPut(int port, const std::string& target,
                             const std::vector<std::pair<std::string, std::string>>& headers,
                             const std::string& raw = "") {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  std::string head = "PUT " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  for (const auto& [k, v] : headers) head += k + ": " + v + "\r\n";
  head += "\r\n" + raw;
  asio::write(stream, asio::buffer(head));
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  test::HttpResult out;
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace(name, std::string(f.value()));
  }
  return out;
}

}  // namespace

TEST_CASE("Uploads stream to the store's disk: above any in-memory limit, judged before the body",
          "[e2e]") {
  // The default upload.maxSize (5Gi, S3's single-PUT bound; upstream declares 6Mi and never
  // enforces it).
  test::ServedServer served("    - name: flyte_dataproxy_local\n");
  auto stub = DataProxyService::NewStub(served.channel());
  const std::string spool = served.data_dir() + "/storage/.spool-bucket";

  // 80 MiB: more than the HTTP server reads into memory (64 MiB), so only a streamed body fits.
  std::string big(80u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 2654435761u) >> 13);
  const std::string md5 = dp::Base64(dp::Md5(big));
  flyteidl::service::CreateUploadLocationResponse loc;
  {
    grpc::ClientContext ctx;
    REQUIRE(stub->CreateUploadLocation(&ctx, FastRegisterRequest("big.tar.gz", big), &loc).ok());
  }
  auto put = test::Http(served.http_port, "PUT", TargetOf(loc.signed_url(), served.http_port), big,
                        {{"Content-MD5", md5}});
  INFO(put.body);
  REQUIRE(put.status == 200);
  CHECK(put.Header("etag") == "\"" + dp::Hex(dp::Md5(big)) + "\"");
  CHECK(ReadFile(FilePathOf(loc.native_url())) == big);
  CHECK(std::filesystem::status(FilePathOf(loc.native_url())).permissions() ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
         std::filesystem::perms::group_read | std::filesystem::perms::others_read));
  // Downloaded back from the file, whole.
  {
    auto got = Download(*stub, served.http_port, loc.native_url()).first;
    CHECK(got.status == 200);
    CHECK(got.body.size() == big.size());
    CHECK(got.body == big);
    CHECK(got.Header("etag") == "\"" + dp::Hex(dp::Md5(big)) + "\"");
  }

  // curl uploads a file as flytekit's clients do, and asks to continue first
  // ("Expect: 100-continue"): the body streams only after the server's interim answer.
  {
    std::string again(3u << 20, 'c');
    flyteidl::service::CreateUploadLocationResponse curl_loc;
    grpc::ClientContext ctx;
    REQUIRE(stub->CreateUploadLocation(&ctx, FastRegisterRequest("curl.bin", again), &curl_loc).ok());
    const std::string file = test::WriteTempFile("curl-upload.bin", again);
    auto curl = test::Run({"/usr/bin/curl", "-sS", "-v", "-o", "/dev/null", "-w", "%{http_code}", "-T", file, "-H",
                           "Content-MD5: " + dp::Base64(dp::Md5(again)), curl_loc.signed_url()});
    INFO(curl.err);
    CHECK(curl.exit_code == 0);
    CHECK(curl.out == "200");
    CHECK_THAT(curl.err, Catch::Contains("HTTP/1.1 100 Continue"));
    CHECK(ReadFile(FilePathOf(curl_loc.native_url())) == again);
  }

  // A body that does not match its md5 is refused, and its spooled file goes with it.
  std::string other = big;
  other[12345] ^= 1;
  auto wrong = test::Http(served.http_port, "PUT", TargetOf(loc.signed_url(), served.http_port), other,
                          {{"Content-MD5", md5}});
  CHECK(wrong.status == 400);
  CHECK(ReadFile(FilePathOf(loc.native_url())) == big);

  // Refused on its head alone: the server answers without waiting for a body never sent.
  std::string target = TargetOf(loc.signed_url(), served.http_port);
  std::string tampered = target;
  tampered.back() = tampered.back() == 'a' ? 'b' : 'a';
  auto early = HeadOnlyPut(served.http_port, tampered, {{"Content-Length", "1000000000"}, {"Content-MD5", md5}});
  CHECK(early.status == 403);
  CHECK_THAT(early.body, Catch::Contains("signature does not match"));
  early = HeadOnlyPut(served.http_port, target, {{"Content-Length", "1000000000"}});
  CHECK(early.status == 403);
  CHECK_THAT(early.body, Catch::Contains("missing Content-MD5 header"));
  // A client that sends its whole body before reading still gets the answer (the server reads
  // and drops the body it refused, instead of resetting the connection under it).
  auto late = test::Http(served.http_port, "PUT", tampered, big.substr(0, 16u << 20), {{"Content-MD5", md5}});
  CHECK(late.status == 403);
  CHECK_THAT(late.body, Catch::Contains("signature does not match"));

  // Nothing is left in the spool.
  CHECK(CountFiles(spool) == 0);

  // The route's 5 GiB bound is not the in-memory limit of everything else (64 MiB).
  auto rest = HeadOnlyPut(served.http_port, "/api/v1/projects/p", {{"Content-Length", std::to_string(100u << 20)}});
  CHECK(rest.status == 413);
}

TEST_CASE("A configured upload.maxSize refuses a declared larger body before reading it", "[e2e]") {
  test::ServedServer served("    - name: flyte_dataproxy_local\n",
                            {R"({"server": {"dataProxy": {"upload": {"maxSize": "1Ki"}}}})"});
  auto stub = DataProxyService::NewStub(served.channel());
  std::string body(4096, 'x');
  const std::string md5 = dp::Base64(dp::Md5(body));
  flyteidl::service::CreateUploadLocationResponse loc;
  grpc::ClientContext ctx;
  REQUIRE(stub->CreateUploadLocation(&ctx, FastRegisterRequest("over.bin", body), &loc).ok());
  auto early = HeadOnlyPut(served.http_port, TargetOf(loc.signed_url(), served.http_port),
                           {{"Content-Length", "4096"}, {"Content-MD5", md5}});
  CHECK(early.status == 413);
  CHECK_THAT(early.body, Catch::Contains("upload of 4096 bytes exceeds the maximum of 1024 bytes"));
  // Sent chunked, without a length: the spooled body is cut at the limit.
  std::ostringstream chunks;
  chunks << std::hex << body.size() << "\r\n" << body << "\r\n0\r\n\r\n";
  auto chunked = HeadOnlyPut(served.http_port, TargetOf(loc.signed_url(), served.http_port),
                             {{"Transfer-Encoding", "chunked"}, {"Content-MD5", md5}}, chunks.str());
  CHECK(chunked.status == 413);
  CHECK_FALSE(std::filesystem::exists(FilePathOf(loc.native_url())));
  CHECK(CountFiles(served.data_dir() + "/storage/.spool-bucket") == 0);
}
