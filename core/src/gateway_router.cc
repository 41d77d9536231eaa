// Path templates of google.api.http compiled once at start-up, and the route table that finds
// the binding for a request the way grpc-gateway v2's ServeMux does.
#include <google/api/annotations.pb.h>
#include <google/api/http.pb.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flyte/core/gateway.h"

namespace flyte::core::gateway {

namespace {

using plugin::Status;
using plugin::StatusOr;

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

bool IsUnreservedOrSubDelim(char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
      return true;
    default:
      return false;
  }
}

// RFC 3986 pchar*, percent escapes included; what grpc-gateway accepts as a literal segment.
bool IsValidLiteral(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !IsHex(s[i + 1]) || !IsHex(s[i + 2])) return false;
      i += 2;
    } else if (!IsUnreservedOrSubDelim(s[i])) {
      return false;
    }
  }
  return true;
}

bool IsValidIdent(std::string_view s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// One template, compiled: a flat list of segments and the variables as ranges over them.
struct Template {
  enum class Kind : uint8_t { kLiteral, kWildcard, kDeepWildcard };
  struct Segment {
    Kind kind;
    std::string literal;
  };
  struct Variable {
    std::string field_path;
    size_t first;  // first segment index
    size_t end;    // one past the last segment index
  };
  std::vector<Segment> segments;
  std::vector<Variable> variables;
  std::string verb;
  bool has_deep = false;
  size_t tail_len = 0;  // segments after "**"
};

// Route indices per HTTP method, newest registration first: grpc-gateway prepends each handler,
// so a later binding wins over an earlier one that matches the same path.
struct MethodTable {
  std::string method;
  std::map<std::string, std::vector<uint32_t>, std::less<>> by_first_literal;
  std::vector<uint32_t> other;  // routes whose first segment is not a literal
};

struct RouteTable {
  std::vector<MethodTable> methods;
};

// Parser for the template grammar of google/api/http.proto:
//   Template = "/" Segments [ Verb ] ; Segments = Segment { "/" Segment } ;
//   Segment = "*" | "**" | LITERAL | Variable ; Variable = "{" FieldPath [ "=" Segments ] "}" ;
//   FieldPath = IDENT { "." IDENT } ; Verb = ":" LITERAL ;
class TemplateParser {
 public:
  using C = Template;

  static StatusOr<C> Parse(std::string_view tmpl) {
    if (tmpl.empty() || tmpl[0] != '/') return Error(tmpl, "no leading /");
    C out;
    std::string_view body = tmpl.substr(1);
    // The verb follows the last ':' of the last segment (the first ':' after a closing '}',
    // as grpc-gateway's tokenizer does), never a ':' inside a variable.
    size_t last_close = body.rfind('}');
    size_t last_slash = std::string_view::npos;
    {
      int depth = 0;
      for (size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '{') ++depth;
        if (body[i] == '}') --depth;
        if (body[i] == '/' && depth == 0) last_slash = i;
      }
    }
    size_t tail_start = 0;
    bool after_var = false;
    if (last_close != std::string_view::npos &&
        (last_slash == std::string_view::npos || last_close > last_slash)) {
      tail_start = last_close + 1;
      after_var = true;
    } else if (last_slash != std::string_view::npos) {
      tail_start = last_slash + 1;
    }
    std::string_view tail = body.substr(tail_start);
    size_t colon = after_var ? tail.find(':') : tail.rfind(':');
    if (colon != std::string_view::npos) {
      out.verb = std::string(tail.substr(colon + 1));
      body = body.substr(0, tail_start + colon);
      if (!out.verb.empty() && !IsValidLiteral(out.verb)) return Error(tmpl, "invalid verb");
    }
    if (body.empty()) {
      // "/" alone: the root path, whose only component is empty.
      out.segments.push_back({C::Kind::kLiteral, std::string()});
      return out;
    }
    TemplateParser p(body);
    if (auto st = p.Segments(out, /*in_variable=*/false); !st.ok()) {
      return Error(tmpl, st.message());
    }
    if (p.pos_ != body.size()) {
      return Error(tmpl, "unexpected character '" + std::string(1, body[p.pos_]) + "'");
    }
    size_t deep = 0;
    for (size_t i = 0; i < out.segments.size(); ++i) {
      if (out.segments[i].kind == C::Kind::kDeepWildcard) {
        if (out.has_deep) return Error(tmpl, "more than one '**'");
        out.has_deep = true;
        deep = i;
      }
    }
    if (out.has_deep) out.tail_len = out.segments.size() - deep - 1;
    return out;
  }

 private:
  explicit TemplateParser(std::string_view s) : s_(s) {}

  static Status Error(std::string_view tmpl, std::string_view what) {
    return plugin::InvalidArgument("invalid path template \"" + std::string(tmpl) +
                                   "\": " + std::string(what));
  }

  Status Segments(C& out, bool in_variable) {
    for (;;) {
      if (auto st = Segment(out, in_variable); !st.ok()) return st;
      if (pos_ < s_.size() && s_[pos_] == '/') {
        ++pos_;
        continue;
      }
      return Status::Ok();
    }
  }

  Status Segment(C& out, bool in_variable) {
    if (pos_ >= s_.size()) return plugin::InvalidArgument("empty segment");
    if (s_[pos_] == '{') {
      if (in_variable) return plugin::InvalidArgument("nested variable");
      return Variable(out);
    }
    size_t end = pos_;
    while (end < s_.size() && s_[end] != '/' && s_[end] != '}' && s_[end] != '{') ++end;
    std::string_view tok = s_.substr(pos_, end - pos_);
    if (tok == "*") {
      out.segments.push_back({C::Kind::kWildcard, {}});
    } else if (tok == "**") {
      out.segments.push_back({C::Kind::kDeepWildcard, {}});
    } else if (IsValidLiteral(tok)) {
      out.segments.push_back({C::Kind::kLiteral, std::string(tok)});
    } else {
      return plugin::InvalidArgument(tok.empty() ? "empty segment"
                                                 : "invalid literal \"" + std::string(tok) + "\"");
    }
    pos_ = end;
    return Status::Ok();
  }

  Status Variable(C& out) {
    ++pos_;  // '{'
    size_t end = pos_;
    while (end < s_.size() && s_[end] != '=' && s_[end] != '}') ++end;
    std::string_view path = s_.substr(pos_, end - pos_);
    for (size_t start = 0;;) {
      size_t dot = path.find('.', start);
      std::string_view ident =
          path.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (!IsValidIdent(ident)) {
        return plugin::InvalidArgument("invalid field path \"" + std::string(path) + "\"");
      }
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
    pos_ = end;
    size_t first = out.segments.size();
    if (pos_ < s_.size() && s_[pos_] == '=') {
      ++pos_;
      if (auto st = Segments(out, /*in_variable=*/true); !st.ok()) return st;
    } else {
      out.segments.push_back({C::Kind::kWildcard, {}});
    }
    if (pos_ >= s_.size() || s_[pos_] != '}') {
      return plugin::InvalidArgument("unterminated variable \"" + std::string(path) + "\"");
    }
    ++pos_;
    out.variables.push_back({std::string(path), first, out.segments.size()});
    return Status::Ok();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Go's url.PathUnescape: every '%' must start a two-digit hex escape; '+' stays '+'.
bool PercentDecodePath(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size() || !IsHex(in[i + 1]) || !IsHex(in[i + 2])) return false;
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return true;
}

enum class MatchResult { kNoMatch, kMatch, kForceNotFound };

// One route against the split path. `check_bare_verb` reproduces a ServeMux quirk: in the
// first pass over the request's own method, a last component that is exactly ":<verb>" of a
// candidate route ends the search with 404.
MatchResult MatchRoute(const Template& c, const std::vector<std::string_view>& comps_in,
                       bool check_bare_verb,
                       std::vector<std::pair<std::string, std::string>>* params) {
  using Kind = Template::Kind;
  std::string_view last_stripped;
  bool strip_last = false;
  if (!c.verb.empty()) {
    std::string_view last = comps_in.back();
    if (last.size() < c.verb.size() + 1 || last.substr(last.size() - c.verb.size()) != c.verb ||
        last[last.size() - c.verb.size() - 1] != ':') {
      return MatchResult::kNoMatch;
    }
    size_t idx = last.size() - c.verb.size() - 1;
    if (idx == 0) return check_bare_verb ? MatchResult::kForceNotFound : MatchResult::kNoMatch;
    last_stripped = last.substr(0, idx);
    strip_last = true;
  }
  const size_t n = comps_in.size();
  auto comp = [&](size_t i) -> std::string_view {
    return (strip_last && i == n - 1) ? last_stripped : comps_in[i];
  };

  // Component position at the start of each segment, plus one at the end.
  size_t starts_buf[32];
  std::vector<size_t> starts_vec;
  size_t* starts = starts_buf;
  if (c.segments.size() + 1 > 32) {
    starts_vec.resize(c.segments.size() + 1);
    starts = starts_vec.data();
  }
  size_t pos = 0;
  for (size_t s = 0; s < c.segments.size(); ++s) {
    starts[s] = pos;
    const auto& seg = c.segments[s];
    switch (seg.kind) {
      case Kind::kLiteral:
        if (pos >= n || comp(pos) != seg.literal) return MatchResult::kNoMatch;
        ++pos;
        break;
      case Kind::kWildcard:
        if (pos >= n) return MatchResult::kNoMatch;
        ++pos;
        break;
      case Kind::kDeepWildcard:
        if (n < pos + c.tail_len) return MatchResult::kNoMatch;
        pos = n - c.tail_len;
        break;
    }
  }
  starts[c.segments.size()] = pos;
  if (pos != n) return MatchResult::kNoMatch;

  if (params != nullptr) {
    params->clear();
    params->reserve(c.variables.size());
    for (const auto& v : c.variables) {
      std::string value;
      for (size_t i = starts[v.first]; i < starts[v.end]; ++i) {
        if (i != starts[v.first]) value.push_back('/');
        value.append(comp(i));
      }
      params->emplace_back(v.field_path, std::move(value));
    }
  }
  return MatchResult::kMatch;
}

void InsertDescending(std::vector<uint32_t>& v, uint32_t idx) {
  v.insert(std::upper_bound(v.begin(), v.end(), idx, std::greater<>()), idx);
}

}  // namespace

// The compiled template of one route, and the route table every route of one Router shares (so
// Find needs no member besides compiled_).
struct Router::Compiled {
  Template tmpl;
  std::shared_ptr<const RouteTable> table;
};

StatusOr<Router> Router::FromServices(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  Router router;
  std::vector<Template> compiled_templates;
  auto add = [&router, &compiled_templates](const google::protobuf::MethodDescriptor* method,
                                            const google::api::HttpRule& rule) -> Status {
    Route route;
    route.method = method;
    route.body = rule.body();
    route.response_body = rule.response_body();
    switch (rule.pattern_case()) {
      case google::api::HttpRule::kGet:
        route.http_method = "GET";
        route.path_template = rule.get();
        break;
      case google::api::HttpRule::kPut:
        route.http_method = "PUT";
        route.path_template = rule.put();
        break;
      case google::api::HttpRule::kPost:
        route.http_method = "POST";
        route.path_template = rule.post();
        break;
      case google::api::HttpRule::kDelete:
        route.http_method = "DELETE";
        route.path_template = rule.delete_();
        break;
      case google::api::HttpRule::kPatch:
        route.http_method = "PATCH";
        route.path_template = rule.patch();
        break;
      case google::api::HttpRule::kCustom:
        route.http_method = rule.custom().kind();
        route.path_template = rule.custom().path();
        break;
      default:
        return plugin::InvalidArgument("google.api.http option of " + method->full_name() +
                                       " names no HTTP method and path");
    }
    auto compiled = TemplateParser::Parse(route.path_template);
    if (!compiled.ok()) {
      return plugin::InvalidArgument(method->full_name() + ": " + compiled.status().message());
    }
    router.routes_.push_back(std::move(route));
    compiled_templates.push_back(std::move(compiled).value());
    return Status::Ok();
  };

  for (const auto* service : services) {
    if (service == nullptr) continue;
    for (int m = 0; m < service->method_count(); ++m) {
      const auto* method = service->method(m);
      if (!method->options().HasExtension(google::api::http)) continue;
      const auto& rule = method->options().GetExtension(google::api::http);
      if (auto st = add(method, rule); !st.ok()) return st;
      // Additional bindings must not nest further (http.proto); nested ones are ignored.
      for (const auto& extra : rule.additional_bindings()) {
        if (auto st = add(method, extra); !st.ok()) return st;
      }
    }
  }

  auto table = std::make_shared<RouteTable>();
  for (uint32_t i = 0; i < router.routes_.size(); ++i) {
    const std::string& m = router.routes_[i].http_method;
    auto it = std::find_if(table->methods.begin(), table->methods.end(),
                           [&](const MethodTable& t) { return t.method == m; });
    if (it == table->methods.end()) {
      table->methods.push_back({m, {}, {}});
      it = table->methods.end() - 1;
    }
    const auto& segs = compiled_templates[i].segments;
    if (!segs.empty() && segs[0].kind == Template::Kind::kLiteral) {
      InsertDescending(it->by_first_literal[segs[0].literal], i);
    } else {
      InsertDescending(it->other, i);
    }
  }
  router.compiled_.reserve(compiled_templates.size());
  for (auto& t : compiled_templates) {
    router.compiled_.push_back(std::make_shared<const Compiled>(Compiled{std::move(t), table}));
  }
  return router;
}

std::optional<RouteMatch> Router::Find(std::string_view http_method, std::string_view path,
                                       bool* path_matched_other_method) const {
  if (path_matched_other_method != nullptr) *path_matched_other_method = false;
  if (compiled_.empty() || path.empty() || path[0] != '/') return std::nullopt;
  const RouteTable& table = *compiled_.front()->table;

  std::string decoded;
  std::string_view p = path.substr(1);
  if (p.find('%') != std::string_view::npos) {
    if (!PercentDecodePath(p, decoded)) return std::nullopt;
    p = decoded;
  }
  std::vector<std::string_view> comps;
  comps.reserve(8);
  for (size_t start = 0;;) {
    size_t slash = p.find('/', start);
    if (slash == std::string_view::npos) {
      comps.push_back(p.substr(start));
      break;
    }
    comps.push_back(p.substr(start, slash - start));
    start = slash + 1;
  }

  // Walks the candidates of one method newest first: the routes keyed by this first literal
  // merged with the routes that start with a wildcard or variable.
  auto search = [&](const MethodTable& mt, bool first_pass,
                    std::vector<std::pair<std::string, std::string>>* params,
                    bool* force_not_found) -> int64_t {
    static const std::vector<uint32_t> kNone;
    auto lit = mt.by_first_literal.find(comps[0]);
    const std::vector<uint32_t>& a = lit == mt.by_first_literal.end() ? kNone : lit->second;
    const std::vector<uint32_t>& b = mt.other;
    size_t i = 0, j = 0;
    while (i < a.size() || j < b.size()) {
      uint32_t idx;
      if (j >= b.size() || (i < a.size() && a[i] > b[j])) {
        idx = a[i++];
      } else {
        idx = b[j++];
      }
      MatchResult r = MatchRoute(compiled_[idx]->tmpl, comps, first_pass, params);
      if (r == MatchResult::kMatch) return idx;
      if (r == MatchResult::kForceNotFound) {
        *force_not_found = true;
        return -1;
      }
    }
    return -1;
  };

  bool force_not_found = false;
  for (const auto& mt : table.methods) {
    if (mt.method != http_method) continue;
    RouteMatch match;
    int64_t idx = search(mt, /*first_pass=*/true, &match.path_params, &force_not_found);
    if (idx >= 0) {
      match.route = &routes_[idx];
      return match;
    }
    break;
  }
  if (force_not_found || path_matched_other_method == nullptr) return std::nullopt;
  for (const auto& mt : table.methods) {
    if (mt.method == http_method) continue;
    bool unused = false;
    if (search(mt, /*first_pass=*/false, nullptr, &unused) >= 0) {
      *path_matched_other_method = true;
      break;
    }
  }
  return std::nullopt;
}

}  // namespace flyte::core::gateway
