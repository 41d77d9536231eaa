// The registry: explicit beats default, duplicates refused unless preferred, typed lookup.
#include <catch2/catch.hpp>

#include "flyte/plugin/managers.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/unary.h"

using namespace flyte::plugin;

namespace {

class NamedVersion : public VersionManager {
 public:
  explicit NamedVersion(std::string n) : name(std::move(n)) {}
  Status GetVersion(CallContext&, const flyteidl::admin::GetVersionRequest&,
                    flyteidl::admin::GetVersionResponse& r) override {
    r.mutable_control_plane_version()->set_version(name);
    return Status::Ok();
  }
  void GetVersionAsync(CallContext& call, const flyteidl::admin::GetVersionRequest& request,
                       flyteidl::admin::GetVersionResponse& r, std::function<void(Status)> done) override {
    done(GetVersion(call, request, r));
  }
  std::string name;
};

class OtherKind : public PluginBase {};

std::string NameOf(const Registry& r) {
  auto v = r.Get<NamedVersion>(plugin_id::kVersionManager);
  return v ? v->name : "";
}

}  // namespace

TEST_CASE("An explicit registration beats the default whatever the order", "[unit]") {
  Registry r;
  r.RegisterDefault(plugin_id::kVersionManager, std::make_shared<NamedVersion>("default"), "host");
  CHECK(NameOf(r) == "default");
  REQUIRE(r.Register(plugin_id::kVersionManager, std::make_shared<NamedVersion>("explicit"), "p1").ok());
  CHECK(NameOf(r) == "explicit");
  r.RegisterDefault(plugin_id::kVersionManager, std::make_shared<NamedVersion>("late-default"), "host");
  CHECK(NameOf(r) == "explicit");
}

TEST_CASE("A second explicit registration is refused naming both plugins", "[unit]") {
  Registry r;
  REQUIRE(r.Register(plugin_id::kVersionManager, std::make_shared<NamedVersion>("a"), "plugin-a").ok());
  Status s = r.Register(plugin_id::kVersionManager, std::make_shared<NamedVersion>("b"), "plugin-b");
  CHECK(s.code() == StatusCode::kAlreadyExists);
  CHECK_THAT(s.message(), Catch::Contains("plugin-a") && Catch::Contains("plugin-b") &&
                              Catch::Contains("VersionManager"));
  CHECK(NameOf(r) == "a");
}

TEST_CASE("The preferred plugin wins a contested slot in either order", "[unit]") {
  SECTION("preferred registers second") {
    Registry r;
    r.Prefer(plugin_id::kVersionManager, "plugin-b");
    REQUIRE(r.Register(plugin_id::kVersionManager, std::make_shared<NamedVersion>("a"), "plugin-a").ok());
    REQUIRE(r.Register(plugin_id::kVersionManager, std::make_shared<NamedVersion>("b"), "plugin-b").ok());
    CHECK(NameOf(r) == "b");
  }
  SECTION("preferred registers first") {
    Registry r;
    r.Prefer(plugin_id::kVersionManager, "plugin-b");
    REQUIRE(r.Register(plugin_id::kVersionManager, std::make_shared<NamedVersion>("b"), "plugin-b").ok());
    REQUIRE(r.Register(plugin_id::kVersionManager, std::make_shared<NamedVersion>("a"), "plugin-a").ok());
    CHECK(NameOf(r) == "b");
    auto entries = r.Entries();
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].owner == "plugin-b");
  }
}

TEST_CASE("A wrongly typed registration reads as absent", "[unit]") {
  Registry r;
  REQUIRE(r.Register(plugin_id::kVersionManager, std::make_shared<OtherKind>(), "p").ok());
  CHECK(r.Get<VersionManager>(plugin_id::kVersionManager) == nullptr);
  CHECK(r.GetBase(plugin_id::kVersionManager) != nullptr);
  CHECK(r.Get<VersionManager>(plugin_id::kTaskManager) == nullptr);
}

TEST_CASE("Collections keep order and refuse a duplicate member name", "[unit]") {
  Registry r;
  REQUIRE(r.Add(plugin_id::kInterceptor, "one", std::make_shared<OtherKind>(), "p").ok());
  REQUIRE(r.Add(plugin_id::kInterceptor, "two", std::make_shared<OtherKind>(), "p").ok());
  CHECK(r.Add(plugin_id::kInterceptor, "one", std::make_shared<OtherKind>(), "q").code() ==
        StatusCode::kAlreadyExists);
  CHECK(r.GetAllBase(plugin_id::kInterceptor).size() == 2);
  CHECK(r.GetAll<UnaryInterceptor>(plugin_id::kInterceptor).empty());
}

TEST_CASE("Clear releases objects newest first", "[unit]") {
  static std::vector<std::string> destroyed;
  struct Tracked : PluginBase {
    explicit Tracked(std::string n) : n(std::move(n)) {}
    ~Tracked() override { destroyed.push_back(n); }
    std::string n;
  };
  destroyed.clear();
  {
    Registry r;
    r.RegisterDefault(plugin_id::kDataProxy, std::make_shared<Tracked>("first"), "p");
    REQUIRE(r.Register(plugin_id::kWorkflowExecutor, std::make_shared<Tracked>("second"), "p").ok());
    REQUIRE(r.Add(plugin_id::kInterceptor, "x", std::make_shared<Tracked>("third"), "p").ok());
    r.Clear();
    CHECK(destroyed == std::vector<std::string>{"third", "second", "first"});
    CHECK(r.GetBase(plugin_id::kDataProxy) == nullptr);
  }
}

TEST_CASE("StatusOr holds a value or an error, never an OK without a value", "[unit]") {
  StatusOr<int> v = 3;
  CHECK(v.ok());
  CHECK(*v == 3);
  StatusOr<int> e = NotFound("nope");
  CHECK_FALSE(e.ok());
  CHECK(e.status().ToString() == "NOT_FOUND: nope");
  StatusOr<int> bad = Status::Ok();
  CHECK_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInternal);
}
