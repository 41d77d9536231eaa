// libFuzzer harness over the parsers that read what clients send: list filters, REST bodies and
// query parameters, cron schedules, k8s quantities, Go-format durations and numbers, page tokens.
// The first byte picks the parser ('a' the first); besides crashes and sanitizer reports it checks
// that a REST body we accept writes back as JSON that reads as the same message, and that a
// quantity prints as text that parses to the same value. Built and run by scripts/fuzz.sh.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "flyte/core/gateway.h"
#include "flyte/manager/cron.h"
#include "flyte/manager/filters.h"
#include "flyte/manager/quantity.h"
#include "flyte/plugin/go_compat.h"
#include "flyteidl/admin/execution.pb.h"
#include "flyteidl/admin/task.pb.h"
#include "flyteidl/admin/launch_plan.pb.h"
#include "flyteidl/admin/workflow.pb.h"
#include "flyteidl/admin/common.pb.h"
#include "flyteidl/admin/matchable_resource.pb.h"
#include "flyteidl/admin/project_domain_attributes.pb.h"
#include "flyteidl/admin/node_execution.pb.h"
#include "flyteidl/service/dataproxy.pb.h"
#include "google/protobuf/util/message_differencer.h"

namespace gw = flyte::core::gateway;
namespace m = flyte::plugins::manager;
namespace p = flyte::plugin;

template <class Msg>
void JsonRoundTrip(std::string_view in) {
  Msg msg;
  if (!gw::MergeGatewayJson(in, msg).ok()) return;
  auto out = gw::MessageToGatewayJson(msg);
  if (!out.ok()) return;  // the writer refuses some values by design (a Struct's NaN, say)
  Msg again;
  auto st = gw::MergeGatewayJson(out.value(), again);
  if (!st.ok()) {
    fprintf(stderr, "re-parse failed: %s\nfirst: %.*s\nout: %s\n", st.message().c_str(), (int)in.size(), in.data(), out.value().c_str());
    abort();
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(msg, again)) {
    fprintf(stderr, "round trip differs\nin: %.*s\nout: %s\n", (int)in.size(), in.data(), out.value().c_str());
    abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (static_cast<unsigned char>(data[0] - 'a') % 12) {
    case 0: (void)m::ParseFilters(in, m::Entity::kExecution); break;
    case 1: (void)m::ParseFilters(in, m::Entity::kNodeExecution); break;
    case 2: JsonRoundTrip<flyteidl::admin::ExecutionCreateRequest>(in); break;
    case 3: JsonRoundTrip<flyteidl::admin::TaskCreateRequest>(in); break;
    case 4: JsonRoundTrip<flyteidl::admin::ProjectDomainAttributesUpdateRequest>(in); break;
    case 5: {
      flyteidl::admin::ResourceListRequest r;
      auto eq = in.find('=');
      if (eq == std::string_view::npos) break;
      (void)gw::SetFieldFromString(r, in.substr(0, eq), in.substr(eq + 1));
      flyteidl::admin::ExecutionCreateRequest e;
      (void)gw::SetFieldFromString(e, in.substr(0, eq), in.substr(eq + 1));
      break;
    }
    case 6: (void)m::CronParseError(in); break;
    case 7: { std::string err; (void)p::GoParseDuration(in, &err); (void)p::GoAtoi(in, &err); (void)p::GoParseFloat(in); (void)p::GoParseInt(in); (void)p::GoParseBool(in); (void)p::GoUrlParses(in); (void)p::GoFields(in); (void)p::GoQuote(in); break; }
    case 8: {
      auto q = m::Quantity::Parse(in);
      if (q) {
        (void)q->Value(); (void)q->MilliValue(); std::string s = q->String();
        auto again = m::Quantity::Parse(s);
        // k8s prints no suffix past E or below n (and so loses the exponent): only inside.
        static const auto big = *m::Quantity::Parse("1E"), tiny = *m::Quantity::Parse("1n");
        static const auto nbig = *m::Quantity::Parse("-1E"), ntiny = *m::Quantity::Parse("-1n");
        bool inside = (q->Sign() > 0 && q->Cmp(big) < 0 && q->Cmp(tiny) >= 0) ||
                      (q->Sign() < 0 && q->Cmp(nbig) > 0 && q->Cmp(ntiny) <= 0);
        if (!again || (inside && again->Cmp(*q) != 0)) { fprintf(stderr, "quantity %.*s -> %s\n", (int)in.size(), in.data(), s.c_str()); abort(); }
      }
      break;
    }
    case 9: (void)m::ParseToken(in, "ListExecutions"); break;
    case 10: (void)m::MatchFilterExpression(in); break;
    case 11: JsonRoundTrip<flyteidl::service::CreateUploadLocationRequest>(in); break;
  }
  return 0;
}
