// The local object store: file:// URIs, atomic writes, no path escaping the container.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "flyte/core/local_store.h"
#include "flyte/manager/data.h"
#include "test_support.h"

using flyte::core::LocalObjectStore;

namespace {

std::shared_ptr<LocalObjectStore> Store() {
  auto dir = flyte::test::WriteTempFile("store-" + std::to_string(std::rand()) + "/.keep", "");
  auto store = LocalObjectStore::Create(dir.substr(0, dir.rfind('/')), "bucket");
  REQUIRE(store.ok());
  return store.value();
}

}  // namespace

TEST_CASE("Objects written under the container read back by their file URI", "[unit]") {
  auto store = Store();
  CHECK(store->BaseUri().rfind("file:///", 0) == 0);
  auto uri = store->Join(store->BaseUri(), {"metadata", "admin", "p", "d", "wf", "v1"});
  REQUIRE(uri.ok());
  REQUIRE(store->Write(uri.value(), std::string("\0binary\xff", 8)).ok());
  auto read = store->Read(uri.value());
  REQUIRE(read.ok());
  CHECK(read.value() == std::string("\0binary\xff", 8));
  CHECK(store->Size(uri.value()).value() == 8);
  REQUIRE(store->Write(uri.value(), "replaced").ok());
  CHECK(store->Read(uri.value()).value() == "replaced");
  auto path = store->PathOf(uri.value());
  REQUIRE(path.ok());
  for (const auto& entry : std::filesystem::directory_iterator(path->parent_path())) {
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);  // no leftovers
  }
  REQUIRE(store->Delete(uri.value()).ok());
  CHECK(store->Read(uri.value()).status().code() == flyte::plugin::StatusCode::kNotFound);
}

TEST_CASE("An object's name may take the file system's 255 bytes", "[unit]") {
  // The temporary file beside it must not need more: its name is cut, not the object's.
  auto store = Store();
  const std::string name(255, 'n');
  auto uri = store->Join(store->BaseUri(), {"p", name});
  REQUIRE(uri.ok());
  auto written = store->Write(uri.value(), "bytes");
  INFO(written.message());
  REQUIRE(written.ok());
  CHECK(store->Read(uri.value()).value() == "bytes");
  auto spool = flyte::test::WriteTempFile("spool-" + std::to_string(std::rand()), "spooled");
  auto moved = store->Join(store->BaseUri(), {"q", name});
  REQUIRE(moved.ok());
  REQUIRE(store->WriteFile(moved.value(), spool).ok());
  CHECK(store->Read(moved.value()).value() == "spooled");
}

TEST_CASE("A spooled file becomes an object by rename; a directory is no object", "[unit]") {
  auto store = Store();
  namespace fs = std::filesystem;
  const fs::path spool = store->SpoolDirectory();
  CHECK(spool.filename() == ".spool-bucket");
  CHECK(spool.parent_path() == store->PathOf(store->BaseUri() + "/x")->parent_path().parent_path());
  fs::create_directories(spool);
  const fs::path file = spool / "body-1";
  { std::ofstream(file, std::ios::binary) << "spooled bytes"; }
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);  // as mkstemp leaves it
  auto uri = store->Join(store->BaseUri(), {"p", "d", "root", "file.bin"});
  REQUIRE(uri.ok());
  REQUIRE(store->WriteFile(uri.value(), file.string()).ok());
  CHECK_FALSE(fs::exists(file));  // moved, not copied
  CHECK(store->Read(uri.value()).value() == "spooled bytes");
  CHECK(fs::status(*store->PathOf(uri.value())).permissions() ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read));
  // Replacing an object the same way.
  { std::ofstream(file, std::ios::binary) << "again"; }
  REQUIRE(store->WriteFile(uri.value(), file.string()).ok());
  CHECK(store->Read(uri.value()).value() == "again");
  // A missing file, a URI outside the container.
  CHECK(store->WriteFile(uri.value(), (spool / "absent").string()).code() == flyte::plugin::StatusCode::kInternal);
  CHECK(store->Read(uri.value()).value() == "again");
  CHECK(store->WriteFile("file:///etc/passwd", file.string()).code() == flyte::plugin::StatusCode::kInvalidArgument);
  // Spooled bodies a dead process left behind are swept when a store opens, after a day.
  { std::ofstream(spool / "body-old", std::ios::binary) << "old"; }
  { std::ofstream(spool / "body-new", std::ios::binary) << "new"; }
  fs::last_write_time(spool / "body-old", fs::file_time_type::clock::now() - std::chrono::hours(25));
  auto root = store->PathOf(store->BaseUri() + "/x")->parent_path().parent_path();
  REQUIRE(LocalObjectStore::Create(root, "bucket").ok());
  CHECK_FALSE(fs::exists(spool / "body-old"));
  CHECK(fs::exists(spool / "body-new"));
  // The object's directory is no object.
  auto dir = store->Join(store->BaseUri(), {"p", "d", "root"});
  CHECK(store->Read(dir.value()).status().code() == flyte::plugin::StatusCode::kNotFound);
  CHECK(store->Size(dir.value()).status().code() == flyte::plugin::StatusCode::kNotFound);
}

TEST_CASE("Paths that would leave the container are refused", "[unit]") {
  auto store = Store();
  for (const std::string segment : {"..", ".", "", "a/b"}) {
    CHECK(store->Join(store->BaseUri(), {"x", segment}).status().code() ==
          flyte::plugin::StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(store->Write(store->BaseUri() + "/../escape", "x").ok());
  CHECK_FALSE(store->Read("file:///etc/passwd").ok());
  CHECK_FALSE(store->Read("s3://bucket/key").ok());
  CHECK(LocalObjectStore::Create("/tmp", "..").status().code() == flyte::plugin::StatusCode::kInvalidArgument);
}

TEST_CASE("A symbolic link in the store leads no read or write out of the container", "[unit]") {
  namespace fs = std::filesystem;
  auto store = Store();
  const fs::path base = store->BaseUri().substr(7);
  const fs::path outside = base.parent_path() / "outside";
  fs::create_directories(outside);
  { std::ofstream(outside / "secret") << "not for clients"; }
  fs::create_directories(base / "p" / "d");
  fs::create_directory_symlink(outside, base / "p" / "d" / "link");
  fs::create_symlink(outside / "secret", base / "p" / "d" / "file-link");
  fs::create_symlink(base / "p" / "d" / "nowhere", base / "p" / "d" / "dangling");
  const std::string dir = store->BaseUri() + "/p/d/";

  for (const std::string& uri : {dir + "link/secret", dir + "file-link", dir + "link/new/deeper"}) {
    INFO(uri);
    auto read = store->Read(uri);
    CHECK(read.status().code() == flyte::plugin::StatusCode::kInvalidArgument);
    CHECK_THAT(read.status().message(), Catch::Contains("leads outside the storage container"));
    CHECK(store->Size(uri).status().code() == flyte::plugin::StatusCode::kInvalidArgument);
    CHECK(store->Write(uri, "overwritten").code() == flyte::plugin::StatusCode::kInvalidArgument);
  }
  CHECK_FALSE(store->Read(dir + "dangling").ok());
  CHECK_FALSE(fs::exists(outside / "new"));
  std::ifstream in(outside / "secret");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "not for clients");

  // A link that stays inside the container is followed.
  REQUIRE(store->Write(dir + "real/object", "inside").ok());
  fs::create_directory_symlink(base / "p" / "d" / "real", base / "p" / "d" / "alias");
  auto aliased = store->Read(dir + "alias/object");
  REQUIRE(aliased.ok());
  CHECK(aliased.value() == "inside");
  CHECK(store->Write(dir + "alias/second", "also inside").ok());
  CHECK(store->Read(dir + "real/second").value() == "also inside");
}

TEST_CASE("A failed offload names upstream's keys, not the location", "[unit]") {
  auto store = Store();
  // A file where the "metadata" directory belongs: every write under it fails.
  auto base = store->PathOf(store->BaseUri());
  REQUIRE(base.ok());
  { std::ofstream(*base / "metadata") << "in the way"; }
  flyteidl::core::LiteralMap literals;
  auto offloaded = flyte::plugins::manager::OffloadLiteralMap(*store, literals, {"p", "d", "n", "offloaded_outputs"});
  REQUIRE_FALSE(offloaded.ok());
  CHECK(offloaded.status().code() == flyte::plugin::StatusCode::kInternal);
  CHECK(offloaded.status().message().rfind("Failed to write protobuf for [[p d n offloaded_outputs]] with err: ", 0) ==
        0);
}

TEST_CASE("Writers of one object never share a temporary file", "[unit]") {
  // Two stores over one directory stand for two server processes (in containers, often both
  // pid 1): each write goes through a temporary file of its own, so the object is always one
  // writer's whole bytes.
  auto first = Store();
  auto path = first->PathOf(first->BaseUri());
  REQUIRE(path.ok());
  auto second = LocalObjectStore::Create(path->parent_path().string(), "bucket");
  REQUIRE(second.ok());
  auto uri = first->Join(first->BaseUri(), {"p", "d", "shared"});
  REQUIRE(uri.ok());
  const std::string a(1 << 20, 'a'), b(1 << 20, 'b');
  // Catch's assertions are not thread-safe: the writers count failures, the test thread checks.
  std::atomic<int> failed_writes{0};
  std::vector<std::thread> writers;
  for (int i = 0; i < 8; ++i) {
    writers.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) {
        auto& store = i % 2 == 0 ? *first : *second.value();
        if (!store.Write(uri.value(), i % 2 == 0 ? a : b).ok()) ++failed_writes;
      }
    });
  }
  for (auto& w : writers) w.join();
  CHECK(failed_writes == 0);
  const std::string read = first->Read(uri.value()).value();
  CHECK((read == a || read == b));
  for (const auto& entry : std::filesystem::directory_iterator(first->PathOf(uri.value())->parent_path())) {
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);
  }
}
