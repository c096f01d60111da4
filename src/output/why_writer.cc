#include "output/why_writer.h"

#include <algorithm>
#include <initializer_list>

#include <fmt/format.h>

#include "core/time_spec.h"
#include "explain/environment.h"
#include "output/columns.h"
#include "output/format.h"
#include "output/sanitize.h"

namespace lineage::output {
namespace {

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";
// Chain levels indented: a chain hundreds deep would otherwise push its
// lower lines past any terminal's width (and grow quadratically).
constexpr size_t kMaxIndent = 16;

std::string pid_text(const core::Process& p) {
  std::string text = std::to_string(p.pid());
  if (p.status && p.status->ns_pids.size() > 1) text += fmt::format(" (ns pid {})", p.status->ns_pids.back());
  return text;
}

std::string details_text(const explain::Source& s) {
  std::string out;
  for (const auto& [k, v] : s.details) {
    if (!out.empty()) out += ", ";
    out += k + " " + escape_text(v);
  }
  return out;
}

// A run of a line's text, painted with `color` (nullptr: plain).
struct Span {
  const char* color;
  std::string text;
};

// Cuts the escaped text to `width` display columns (0: no limit) first and
// paints after, so escape bytes never count as columns and every painted
// run keeps its reset, however narrow the width.
std::string compose(std::initializer_list<Span> spans, size_t width, bool color) {
  std::string out;
  size_t left = width;
  for (const Span& s : spans) {
    std::string_view text = s.text;
    if (width > 0) {
      text = cut_to_width(text, left);
      left -= display_width(text);
    }
    if (text.empty()) continue;
    bool paint = color && s.color != nullptr;
    if (paint) out += s.color;
    out += text;
    if (paint) out += kReset;
  }
  return out;
}

std::string source_head(const explain::Source& s) {
  std::string head = fmt::format("  {:<10} {}{}", s.kind, s.verified ? "" : "claims to be ", escape_text(s.name));
  if (s.pid != 0) head += fmt::format(" (pid {})", s.pid);
  return head;
}

// "(exited 14:02:11, code 0)": an ancestor known from recorded history.
std::string recorded_text(const core::RecordedState& r, const core::SystemInfo& sys) {
  if (!r.exited) return "";  // alive at the moment shown (why --at)
  if (r.exit_time_ns == 0) return "(gone; its exit was not recorded)";
  int64_t when = r.realtime_offset_ns + static_cast<int64_t>(r.exit_time_ns);
  std::string time = core::format_time(when, false);
  if (sys.realtime_ns_now - when < 20LL * 3600 * 1'000'000'000) time = time.substr(11);  // today-ish: the hour
  if (r.exit_unseen) return fmt::format("(gone by {}, exit not seen)", time);
  if (!r.status) return fmt::format("(exited {})", time);
  int sig = *r.status & 0x7f;
  if (sig == 0) return fmt::format("(exited {}, code {})", time, (*r.status >> 8) & 0xff);
  return fmt::format("(killed {}, signal {})", time, sig);
}

}  // namespace

std::string render_why_text(const explain::Report& r, const core::SystemInfo& sys,
                            const WhyTextOptions& o) {
  const core::Process& t = r.target();
  if (o.short_form) {
    return fmt::format("{} ({}): {}\n", escape_text(t.stat.comm), t.pid(), escape_text(r.summary));
  }
  std::string out;
  auto painted = [&](std::initializer_list<Span> spans) {
    out += compose(spans, o.width, o.color);
    out += '\n';
  };
  auto line = [&](std::string text) { painted({{nullptr, std::move(text)}}); };
  painted({{kBold, fmt::format("{} (pid {})", escape_text(t.stat.comm), pid_text(t))},
           {kDim, fmt::format("  user {}  up {}  state {}", escape_text(t.status ? t.user : "?"),
                              format_etime(elapsed_ns(t, sys)), format_stat(t))}});
  line("  command  " + escape_text(t.command_line()));
  if (t.exe) line("  exe      " + escape_text(t.exe->path) + (t.exe->deleted ? " (deleted)" : ""));
  if (t.cwd) {
    std::string cwd = "  cwd      " + escape_text(*t.cwd);
    if (r.git) cwd += fmt::format("  (git {}, branch {})", escape_text(r.git->repository), escape_text(r.git->branch));
    line(cwd);
  }
  out += '\n';
  painted({{kBold, "Why: " + escape_text(r.summary)}});
  out += '\n';

  auto draw = [&](const std::vector<core::Process>& procs, const char* last_color) {
    for (size_t i = 0; i < procs.size(); ++i) {
      const core::Process& p = procs[i];
      std::string art = i == 0 ? "" : std::string(3 * std::min(i - 1, kMaxIndent), ' ') + "└─ ";
      std::string text = fmt::format("  {}{} {}  {}", art, escape_text(p.stat.comm), pid_text(p),
                                     escape_text(p.command_line()));
      if (p.recorded && p.recorded->exited) text += "  " + recorded_text(*p.recorded, sys);
      painted({{i + 1 == procs.size() ? last_color : nullptr, std::move(text)}});
    }
  };
  line("Chain");
  const auto& chain = r.chain.processes;
  draw(chain, kBold);
  if (r.chain.reused_parent_pid != 0) {
    line(fmt::format("  (parent pid {} was reused by a younger process: the real parent exited)",
                     r.chain.reused_parent_pid));
  }
  if (r.chain.truncated) {
    line(fmt::format("  (chain cut after {} ancestors: an origin above may be missing)", chain.size() - 1));
  }
  if (r.history_covered == false) line("  (history: " + escape_text(r.history_note) + ")");
  if (o.tree) {
    std::string indent(3 * std::min(chain.size() - 1, kMaxIndent + 1) + 2, ' ');
    for (size_t i = 0; i < r.children.size(); ++i) {
      const core::Process& c = r.children[i];
      line(fmt::format("{}   {} {} {}  {}", indent, i + 1 == r.children.size() ? "└─" : "├─",
                       escape_text(c.stat.comm), c.pid(), escape_text(c.command_line())));
    }
    if (r.children.empty()) line(indent + "   (no children)");
  }

  if (!r.session_chain.empty()) {
    out += '\n';
    line(fmt::format("Session of pid {} (leader, alive): its chain, where sources \"via session\" were found",
                     r.session_chain.back().pid()));
    draw(r.session_chain, nullptr);
  }

  out += '\n';
  line("Sources");
  if (r.sources.empty()) line("  none found");
  for (const auto& s : r.sources) {
    if (s.verified) line(source_head(s));
    else painted({{nullptr, source_head(s)}, {kYellow, fmt::format(" (unverified: {})", escape_text(s.unverified_reason))}});
    std::string d = details_text(s);
    if (!d.empty()) line("             " + d);
    for (const auto& e : s.evidence) painted({{kDim, "             evidence: " + escape_text(e)}});
  }
  if (!r.listeners.empty()) {
    out += '\n';
    line("Listening");
    for (const auto& l : r.listeners) {
      line(fmt::format("  {:<5} {}:{}", l.protocol, escape_text(l.address), l.port));
    }
  }
  if (!r.warnings.empty()) {
    out += '\n';
    line("Warnings");
    for (const auto& w : r.warnings) painted({{kYellow, fmt::format("  ! {:<24} {}", w.id, escape_text(w.message))}});
  }
  if (o.env) {
    out += '\n';
    line("Environment (secret-looking values redacted)");
    if (!t.environ) line("  unavailable");
    else {
      for (const auto& [k, v] : explain::redacted_environment(*t.environ)) line("  " + escape_text(k) + "=" + escape_text(v));
    }
  }
  return out;
}

Json source_json(const explain::Source& s) {
  Json details = Json::object();
  for (const auto& [k, v] : s.details) details[k] = v;
  Json source = object_with_capacity(8);
  source["kind"] = s.kind;
  source["name"] = s.name;
  source["pid"] = s.pid;
  source["verified"] = s.verified;
  if (!s.verified) source["unverified_reason"] = s.unverified_reason;
  source["details"] = std::move(details);
  source["evidence"] = s.evidence;
  return source;
}

Json why_json(const explain::Report& r, const core::SystemInfo& sys, bool with_env) {
  Json j = object_with_capacity(20);
  j["schema"] = "lineage.why/v1";
  j["target"] = process_json(r.target(), sys);
  Json chain = Json::array();
  for (const auto& p : r.chain.processes) chain.push_back(process_json(p, sys));
  j["chain"] = std::move(chain);
  add_why_fields(j, r, sys, with_env);
  return j;
}

void add_why_fields(Json& j, const explain::Report& r, const core::SystemInfo& sys, bool with_env) {
  j["truncated"] = r.chain.truncated;
  if (!r.session_chain.empty()) {
    Json session = Json::array();
    for (const auto& p : r.session_chain) session.push_back(process_json(p, sys));
    j["session_chain"] = std::move(session);
  }
  Json sources = Json::array();
  for (const auto& s : r.sources) sources.push_back(source_json(s));
  j["sources"] = std::move(sources);
  j["summary"] = r.summary;
  Json warnings = Json::array();
  for (const auto& w : r.warnings) warnings.push_back({{"id", w.id}, {"message", w.message}});
  j["warnings"] = std::move(warnings);
  Json listening = Json::array();
  for (const auto& l : r.listeners) {
    listening.push_back({{"protocol", l.protocol}, {"address", l.address}, {"port", l.port},
                         {"all_interfaces", l.all_interfaces}});
  }
  j["listening"] = std::move(listening);
  if (r.git) j["git"] = {{"repository", r.git->repository}, {"branch", r.git->branch}};
  else j["git"] = nullptr;
  if (r.chain.reused_parent_pid != 0) j["reused_parent_pid"] = r.chain.reused_parent_pid;
  if (r.history_covered) {
    j["history"] = {{"covered", *r.history_covered}};
    if (!r.history_note.empty()) j["history"]["note"] = r.history_note;
  }
  if (!r.children.empty()) {
    Json kids = Json::array();
    for (const auto& c : r.children) kids.push_back(process_json(c, sys));
    j["children"] = std::move(kids);
  }
  if (with_env) {
    const auto& env = r.target().environ;
    if (env) {
      Json e = Json::object();
      for (const auto& [k, v] : explain::redacted_environment(*env)) e[k] = v;
      j["environment"] = std::move(e);
    } else {
      j["environment"] = nullptr;
    }
  }
}

}  // namespace lineage::output
