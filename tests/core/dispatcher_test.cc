// The dispatcher: declared methods, handler binding, chain order, last-resort recovery.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "flyte/core/dispatcher.h"
#include "flyteidl/admin/version.pb.h"
#include "google/rpc/status.pb.h"

using namespace flyte;

namespace {

std::shared_ptr<spdlog::logger> NullLogger() {
  return std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

class Log {
 public:
  void Add(std::string line) {
    std::lock_guard lock(mu_);
    lines_.push_back(std::move(line));
  }
  std::vector<std::string> Lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

// A synchronous-only link (the default InterceptAsync waits for the rest of the chain): "name>"
// before the rest of the chain, "<name" after it.
class Recording : public plugin::UnaryInterceptor {
 public:
  Recording(std::string name, int order, Log& log) : name_(std::move(name)), order_(order), log_(log) {}
  Recording(std::string name, Log& log) : Recording(std::move(name), 0, log) {}
  int Order() const override { return order_; }
  plugin::Status Intercept(plugin::CallContext& call, const google::protobuf::Message& req,
                           google::protobuf::Message& resp, const plugin::UnaryNext& next) override {
    log_.Add(name_ + ">");
    auto s = next(call, req, resp);
    log_.Add("<" + name_);
    return s;
  }

 private:
  std::string name_;
  int order_;
  Log& log_;
};

const char* kGetVersion = "/flyteidl.service.AdminService/GetVersion";

// A log shared by threads.

// A link with an asynchronous form: "name>" as the call starts, "<name" as it completes, on
// whichever thread completes it.
class AsyncRecording : public plugin::UnaryInterceptor {
 public:
  AsyncRecording(std::string name, Log& log) : name_(std::move(name)), log_(log) {}
  int Order() const override { return 0; }
  plugin::Status Intercept(plugin::CallContext&, const google::protobuf::Message&,
                           google::protobuf::Message&, const plugin::UnaryNext&) override {
    FAIL("the synchronous form of an asynchronous link ran");
    return plugin::Internal("unreachable");
  }
  bool SupportsAsync() const override { return true; }
  void InterceptAsync(plugin::CallContext& call, const google::protobuf::Message& req,
                      google::protobuf::Message& resp, const plugin::UnaryNextAsync& next,
                      plugin::UnaryCallback done) override {
    log_.Add(name_ + ">");
    next(call, req, resp, [this, done = std::move(done)](plugin::Status s) {
      log_.Add("<" + name_);
      done(std::move(s));
    });
  }

 private:
  std::string name_;
  Log& log_;
};


// Answers from a thread of its own, after the test releases it.
class LaterThread {
 public:
  ~LaterThread() {
    for (auto& t : threads_) t.join();
  }
  // Runs `f` on a new thread once Release() is called.
  void Run(std::function<void()> f) {
    threads_.emplace_back([this, f = std::move(f)] {
      released_.wait();
      f();
    });
  }
  void Release() { release_.set_value(); }

 private:
  std::promise<void> release_;
  std::shared_future<void> released_ = release_.get_future().share();
  std::vector<std::thread> threads_;
};

void SetVersion(google::protobuf::Message& r, const std::string& v) {
  static_cast<flyteidl::admin::GetVersionResponse&>(r).mutable_control_plane_version()->set_version(v);
}

// What a call's `done` received, waited for.
struct Outcome {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<plugin::Status> answers;
  std::thread::id thread;
  plugin::UnaryCallback Callback() {
    return [this](plugin::Status s) {
      std::lock_guard lock(mu);
      answers.push_back(std::move(s));
      thread = std::this_thread::get_id();
      cv.notify_all();
    };
  }
  plugin::Status Wait() {
    std::unique_lock lock(mu);
    REQUIRE(cv.wait_for(lock, std::chrono::seconds(10), [this] { return !answers.empty(); }));
    return answers.front();
  }
  std::size_t Count() {
    std::lock_guard lock(mu);
    return answers.size();
  }
};

}  // namespace

TEST_CASE("A declared method without a handler answers UNIMPLEMENTED naming it", "[unit]") {
  core::Dispatcher d(NullLogger());
  REQUIRE(d.DeclareService("flyteidl.service.AdminService").ok());
  const auto* entry = d.Find("/flyteidl.service.AdminService/CreateTask");
  REQUIRE(entry != nullptr);
  plugin::CallContext call(entry->grpc_path, {}, "", false);
  std::unique_ptr<google::protobuf::Message> req(entry->request_prototype->New());
  std::unique_ptr<google::protobuf::Message> resp(entry->response_prototype->New());
  auto s = d.Invoke(*entry, call, *req, *resp);
  CHECK(s.code() == plugin::StatusCode::kUnimplemented);
  CHECK_THAT(s.message(), Catch::Contains("flyteidl.service.AdminService/CreateTask"));
  CHECK(d.methods().size() >= 56);
}

TEST_CASE("Unknown services and methods are refused with the name", "[unit]") {
  core::Dispatcher d(NullLogger());
  CHECK(d.DeclareService("no.such.Service").code() == plugin::StatusCode::kInvalidArgument);
  auto s = d.AddUnary("flyteidl.service.AdminService/NoSuchMethod", {});
  CHECK(s.code() == plugin::StatusCode::kInvalidArgument);
  CHECK_THAT(s.message(), Catch::Contains("NoSuchMethod"));
  CHECK(d.AddUnary("NotQualified", {}).code() == plugin::StatusCode::kInvalidArgument);
}

TEST_CASE("A method served twice is refused", "[unit]") {
  core::Dispatcher d(NullLogger());
  auto ok = [](plugin::CallContext&, const google::protobuf::Message&, google::protobuf::Message&) {
    return plugin::Status::Ok();
  };
  REQUIRE(d.AddUnaryFor(kGetVersion, ok, "first").ok());
  auto s = d.AddUnaryFor(kGetVersion, ok, "second");
  CHECK(s.code() == plugin::StatusCode::kAlreadyExists);
  CHECK_THAT(s.message(), Catch::Contains("first"));
}

TEST_CASE("Interceptors run outermost first around the handler", "[unit]") {
  core::Dispatcher d(NullLogger());
  Log log;
  REQUIRE(d.AddUnaryFor(kGetVersion,
                        [&](plugin::CallContext&, const google::protobuf::Message&, google::protobuf::Message& r) {
                          log.Add("handler");
                          static_cast<flyteidl::admin::GetVersionResponse&>(r)
                              .mutable_control_plane_version()->set_version("v");
                          return plugin::Status::Ok();
                        },
                        "t").ok());
  d.SetChain({std::make_shared<Recording>("a", 1, log), std::make_shared<Recording>("b", 2, log)});
  const auto* entry = d.Find(kGetVersion);
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  REQUIRE(d.Invoke(*entry, call, req, resp).ok());
  CHECK(resp.control_plane_version().version() == "v");
  CHECK(log.Lines() == std::vector<std::string>{"a>", "b>", "handler", "<b", "<a"});
}

TEST_CASE("An exception no interceptor catches becomes INTERNAL", "[unit]") {
  core::Dispatcher d(NullLogger());
  REQUIRE(d.AddUnaryFor(kGetVersion,
                        [](plugin::CallContext&, const google::protobuf::Message&,
                           google::protobuf::Message&) -> plugin::Status { throw std::logic_error("x"); },
                        "t").ok());
  const auto* entry = d.Find(kGetVersion);
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  CHECK(d.Invoke(*entry, call, req, resp).code() == plugin::StatusCode::kInternal);
}

TEST_CASE("Status details travel as a google.rpc.Status", "[unit]") {
  plugin::Status s(plugin::StatusCode::kFailedPrecondition, "terminal");
  s.AddDetail({"type.googleapis.com/flyteidl.admin.EventFailureReason", "\x0a\x02\x08\x04"});
  std::string bytes = core::StatusDetailsToRpcStatusBytes(s);
  google::rpc::Status rpc;
  REQUIRE(rpc.ParseFromString(bytes));
  CHECK(rpc.code() == 9);
  CHECK(rpc.message() == "terminal");
  REQUIRE(rpc.details_size() == 1);
  CHECK(rpc.details(0).type_url() == "type.googleapis.com/flyteidl.admin.EventFailureReason");
  CHECK(core::StatusDetailsToRpcStatusBytes(plugin::NotFound("x")).empty());
}

TEST_CASE("An asynchronous chain starts outermost first and completes innermost first on the answering thread", "[unit]") {
  core::Dispatcher d(NullLogger());
  Log log;
  LaterThread later;
  REQUIRE(d.AddAsyncUnaryFor(kGetVersion,
                             [&](plugin::CallContext&, const google::protobuf::Message&,
                                 google::protobuf::Message& r, plugin::UnaryCallback done) {
                               log.Add("handler");
                               later.Run([&r, &log, done = std::move(done)] {
                                 SetVersion(r, "later");
                                 log.Add("answer");
                                 done(plugin::Status::Ok());
                               });
                             },
                             "t").ok());
  d.SetChain({std::make_shared<AsyncRecording>("a", log), std::make_shared<AsyncRecording>("b", log)});
  CHECK(d.ChainIsAsync());
  const auto* entry = d.Find(kGetVersion);
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  Outcome outcome;
  d.InvokeAsync(*entry, call, req, resp, outcome.Callback());
  // Returned with the handler's answer still pending: no thread waited for it.
  log.Add("returned");
  CHECK(outcome.Count() == 0);
  later.Release();
  REQUIRE(outcome.Wait().ok());
  CHECK(outcome.thread != std::this_thread::get_id());
  CHECK(resp.control_plane_version().version() == "later");
  CHECK(log.Lines() == std::vector<std::string>{"a>", "b>", "handler", "returned", "answer", "<b", "<a"});
  CHECK(outcome.Count() == 1);
}

TEST_CASE("An asynchronous link short-circuits the rest of the chain by answering itself", "[unit]") {
  class Deny : public plugin::UnaryInterceptor {
   public:
    int Order() const override { return 0; }
    plugin::Status Intercept(plugin::CallContext&, const google::protobuf::Message&,
                             google::protobuf::Message&, const plugin::UnaryNext&) override {
      return plugin::Status(plugin::StatusCode::kPermissionDenied, "no");
    }
    bool SupportsAsync() const override { return true; }
    void InterceptAsync(plugin::CallContext&, const google::protobuf::Message&, google::protobuf::Message&,
                        const plugin::UnaryNextAsync&, plugin::UnaryCallback done) override {
      done(plugin::Status(plugin::StatusCode::kPermissionDenied, "no"));
    }
  };
  core::Dispatcher d(NullLogger());
  Log log;
  bool handled = false;
  REQUIRE(d.AddAsyncUnaryFor(kGetVersion,
                             [&](plugin::CallContext&, const google::protobuf::Message&,
                                 google::protobuf::Message&, plugin::UnaryCallback done) {
                               handled = true;
                               done(plugin::Status::Ok());
                             },
                             "t").ok());
  d.SetChain({std::make_shared<AsyncRecording>("a", log), std::make_shared<Deny>(),
              std::make_shared<AsyncRecording>("c", log)});
  const auto* entry = d.Find(kGetVersion);
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  Outcome outcome;
  d.InvokeAsync(*entry, call, req, resp, outcome.Callback());
  CHECK(outcome.Count() == 1);
  CHECK(outcome.Wait().code() == plugin::StatusCode::kPermissionDenied);
  CHECK_FALSE(handled);
  CHECK(log.Lines() == std::vector<std::string>{"a>", "<a"});
}

TEST_CASE("A link without an asynchronous form makes the chain wait for the rest of it", "[unit]") {
  Log log;
  std::thread answering;
  core::Dispatcher d(NullLogger());
  REQUIRE(d.AddAsyncUnaryFor(kGetVersion,
                             [&](plugin::CallContext&, const google::protobuf::Message&,
                                 google::protobuf::Message& r, plugin::UnaryCallback done) {
                               log.Add("handler");
                               // Answers from another thread while the chain waits for it.
                               answering = std::thread([&r, &log, done = std::move(done)] {
                                 std::this_thread::sleep_for(std::chrono::milliseconds(20));
                                 SetVersion(r, "v");
                                 log.Add("answer");
                                 done(plugin::Status::Ok());
                               });
                             },
                             "t").ok());
  d.SetChain({std::make_shared<AsyncRecording>("a", log), std::make_shared<Recording>("b", log),
              std::make_shared<AsyncRecording>("c", log)});
  CHECK_FALSE(d.ChainIsAsync());
  const auto* entry = d.Find(kGetVersion);
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  Outcome outcome;
  d.InvokeAsync(*entry, call, req, resp, outcome.Callback());
  // The synchronous link held this thread until the answer came, and completed on it.
  log.Add("returned");
  REQUIRE(outcome.Count() == 1);
  CHECK(outcome.Wait().ok());
  CHECK(outcome.thread == std::this_thread::get_id());
  CHECK(resp.control_plane_version().version() == "v");
  CHECK(log.Lines() ==
        std::vector<std::string>{"a>", "b>", "c>", "handler", "answer", "<c", "<b", "<a", "returned"});
  answering.join();
}

TEST_CASE("Invoke on an asynchronous method waits for the answer from another thread", "[unit]") {
  Log log;
  std::thread answering;
  core::Dispatcher d(NullLogger());
  REQUIRE(d.AddAsyncUnaryFor(kGetVersion,
                             [&answering](plugin::CallContext& call, const google::protobuf::Message&,
                                          google::protobuf::Message& r, plugin::UnaryCallback done) {
                               answering = std::thread([&call, &r, done = std::move(done)] {
                                 std::this_thread::sleep_for(std::chrono::milliseconds(50));
                                 SetVersion(r, "waited");
                                 call.AddResponseHeader("x-answered-by", "thread");
                                 plugin::Status s(plugin::StatusCode::kAborted, "retry");
                                 s.AddDetail({"type.googleapis.com/x", "y"});
                                 done(std::move(s));
                               });
                             },
                             "t").ok());
  d.SetChain({std::make_shared<AsyncRecording>("a", log), std::make_shared<Recording>("b", log)});
  const auto* entry = d.Find(kGetVersion);
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  auto s = d.Invoke(*entry, call, req, resp);
  CHECK(s.code() == plugin::StatusCode::kAborted);
  CHECK(s.message() == "retry");
  REQUIRE(s.details().size() == 1);
  CHECK(resp.control_plane_version().version() == "waited");
  REQUIRE(call.outgoing().size() == 1);
  CHECK(call.outgoing()[0].first == "x-answered-by");
  CHECK(log.Lines() == std::vector<std::string>{"a>", "b>", "<b", "<a"});
  answering.join();
}

TEST_CASE("InvokeAsync answers a synchronous handler at once and an unserved method UNIMPLEMENTED", "[unit]") {
  core::Dispatcher d(NullLogger());
  REQUIRE(d.DeclareService("flyteidl.service.AdminService").ok());
  Log log;
  REQUIRE(d.AddUnaryFor(kGetVersion,
                        [](plugin::CallContext&, const google::protobuf::Message&, google::protobuf::Message& r) {
                          SetVersion(r, "sync");
                          return plugin::Status::Ok();
                        },
                        "t").ok());
  d.SetChain({std::make_shared<AsyncRecording>("a", log)});
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  Outcome synchronous;
  d.InvokeAsync(*d.Find(kGetVersion), call, req, resp, synchronous.Callback());
  REQUIRE(synchronous.Count() == 1);
  CHECK(synchronous.Wait().ok());
  CHECK(resp.control_plane_version().version() == "sync");

  const auto* unserved = d.Find("/flyteidl.service.AdminService/CreateTask");
  REQUIRE(unserved != nullptr);
  std::unique_ptr<google::protobuf::Message> ureq(unserved->request_prototype->New());
  std::unique_ptr<google::protobuf::Message> uresp(unserved->response_prototype->New());
  plugin::CallContext ucall(unserved->grpc_path, {}, "", false);
  Outcome unimplemented;
  d.InvokeAsync(*unserved, ucall, *ureq, *uresp, unimplemented.Callback());
  REQUIRE(unimplemented.Count() == 1);
  auto s = unimplemented.Wait();
  CHECK(s.code() == plugin::StatusCode::kUnimplemented);
  // The message Invoke gives (see the first test).
  CHECK(s.message() ==
        "method flyteidl.service.AdminService/CreateTask is not implemented by any loaded plugin");
}

TEST_CASE("A method takes one handler of either kind", "[unit]") {
  core::Dispatcher d(NullLogger());
  auto sync = [](plugin::CallContext&, const google::protobuf::Message&, google::protobuf::Message&) {
    return plugin::Status::Ok();
  };
  auto async = [](plugin::CallContext&, const google::protobuf::Message&, google::protobuf::Message&,
                  plugin::UnaryCallback done) { done(plugin::Status::Ok()); };
  REQUIRE(d.AddAsyncUnaryFor(kGetVersion, async, "first").ok());
  auto twice = d.AddAsyncUnaryFor(kGetVersion, async, "second");
  CHECK(twice.code() == plugin::StatusCode::kAlreadyExists);
  CHECK_THAT(twice.message(), Catch::Contains("'first'"));
  auto other_kind = d.AddUnaryFor(kGetVersion, sync, "second");
  CHECK(other_kind.code() == plugin::StatusCode::kAlreadyExists);
  CHECK_THAT(other_kind.message(), Catch::Contains("'first'"));

  const char* list_projects = "/flyteidl.service.AdminService/ListProjects";
  REQUIRE(d.AddUnaryFor(list_projects, sync, "first").ok());
  CHECK(d.AddAsyncUnaryFor(list_projects, async, "second").code() == plugin::StatusCode::kAlreadyExists);
  CHECK(d.AddAsyncUnary("flyteidl.service.AdminService/NoSuchMethod", async).code() ==
        plugin::StatusCode::kInvalidArgument);
}

TEST_CASE("An asynchronous call is answered exactly once whatever the handler does", "[unit]") {
  std::ostringstream logged;
  auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(logged));
  core::Dispatcher d(logger);
  std::string mode;
  REQUIRE(d.AddAsyncUnaryFor(kGetVersion,
                             [&](plugin::CallContext&, const google::protobuf::Message&,
                                 google::protobuf::Message&, plugin::UnaryCallback done) {
                               if (mode == "twice") {
                                 done(plugin::NotFound("first"));
                                 done(plugin::Status::Ok());
                               } else if (mode == "answer then throw") {
                                 done(plugin::NotFound("first"));
                                 throw std::runtime_error("late");
                               } else if (mode == "throw") {
                                 throw std::runtime_error("early");
                               } else if (mode == "throw int") {
                                 throw 7;
                               }
                             },
                             "t").ok());
  Log log;
  d.SetChain({std::make_shared<AsyncRecording>("a", log)});
  const auto* entry = d.Find(kGetVersion);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  auto run = [&](const std::string& m) {
    mode = m;
    logged.str("");
    plugin::CallContext call(kGetVersion, {}, "", false);
    Outcome outcome;
    d.InvokeAsync(*entry, call, req, resp, outcome.Callback());
    REQUIRE(outcome.Count() == 1);
    return outcome.Wait();
  };
  SECTION("answering twice keeps the first answer") {
    auto s = run("twice");
    CHECK(s.code() == plugin::StatusCode::kNotFound);
    CHECK_THAT(logged.str(), Catch::Contains("answered the call twice"));
    // The link's completion work ran once.
    CHECK(log.Lines() == std::vector<std::string>{"a>", "<a"});
  }
  SECTION("an exception after answering is logged and the answer stands") {
    auto s = run("answer then throw");
    CHECK(s.code() == plugin::StatusCode::kNotFound);
    CHECK_THAT(logged.str(), Catch::Contains("failed with an exception after answering: late"));
  }
  SECTION("an exception before answering becomes INTERNAL with no message") {
    auto s = run("throw");
    CHECK(s.code() == plugin::StatusCode::kInternal);
    CHECK(s.message().empty());
    CHECK_THAT(logged.str(), Catch::Contains(std::string(kGetVersion) + " failed with an exception: early"));
    auto n = run("throw int");
    CHECK(n.code() == plugin::StatusCode::kInternal);
    CHECK_THAT(logged.str(), Catch::Contains("failed with a non-standard exception"));
  }
}

TEST_CASE("A link whose completion work throws still gets the call answered", "[unit]") {
  class ThrowsOnCompletion : public plugin::UnaryInterceptor {
   public:
    int Order() const override { return 0; }
    plugin::Status Intercept(plugin::CallContext&, const google::protobuf::Message&,
                             google::protobuf::Message&, const plugin::UnaryNext&) override {
      return plugin::Internal("unused");
    }
    bool SupportsAsync() const override { return true; }
    void InterceptAsync(plugin::CallContext& call, const google::protobuf::Message& req,
                        google::protobuf::Message& resp, const plugin::UnaryNextAsync& next,
                        plugin::UnaryCallback) override {
      next(call, req, resp, [](plugin::Status) { throw std::runtime_error("completion"); });
    }
  };
  std::ostringstream logged;
  auto logger = std::make_shared<spdlog::logger>("t", std::make_shared<spdlog::sinks::ostream_sink_mt>(logged));
  core::Dispatcher d(logger);
  LaterThread later;
  REQUIRE(d.AddAsyncUnaryFor(kGetVersion,
                             [&](plugin::CallContext&, const google::protobuf::Message&,
                                 google::protobuf::Message&, plugin::UnaryCallback done) {
                               later.Run([done = std::move(done)] { done(plugin::Status::Ok()); });
                             },
                             "t").ok());
  Log log;
  d.SetChain({std::make_shared<AsyncRecording>("a", log), std::make_shared<ThrowsOnCompletion>()});
  plugin::CallContext call(kGetVersion, {}, "", false);
  flyteidl::admin::GetVersionRequest req;
  flyteidl::admin::GetVersionResponse resp;
  Outcome outcome;
  d.InvokeAsync(*d.Find(kGetVersion), call, req, resp, outcome.Callback());
  later.Release();
  // The answering thread did not see the exception; the caller got INTERNAL, the outer link's
  // completion work did not run (its done was never called), and the failure is logged.
  CHECK(outcome.Wait().code() == plugin::StatusCode::kInternal);
  CHECK(outcome.Count() == 1);
  CHECK_THAT(logged.str(), Catch::Contains("failed with an exception: completion"));
  CHECK(log.Lines() == std::vector<std::string>{"a>"});
}
