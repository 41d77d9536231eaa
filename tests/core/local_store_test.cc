// The local object store: file:// URIs, atomic writes, no path escaping the container.
#include <filesystem>
#include <fstream>

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
  CHECK(offloaded.status().message().rfind("Failed to write protobuf for [metadata p d n offloaded_outputs] with err: ", 0) ==
        0);
}
