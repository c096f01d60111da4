#include "output/audit_writer.h"

#include <array>

#include <fmt/format.h>

#include "output/format.h"
#include "output/sanitize.h"
#include "output/why_writer.h"

namespace lineage::output {
namespace {

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";

const char* severity_color(audit::Severity s) {
  switch (s) {
    case audit::Severity::kCritical:
    case audit::Severity::kHigh:
      return kRed;
    case audit::Severity::kMedium:
      return kYellow;
    default:
      return kDim;
  }
}

std::string chain_text(const std::vector<audit::ChainLink>& chain) {
  std::string out;
  for (const auto& link : chain) {
    if (!out.empty()) out += " > ";
    out += fmt::format("{} {}", escape_text(link.comm), link.pid);
  }
  return out;
}

std::array<size_t, 5> counts(const audit::AuditResult& r) {
  std::array<size_t, 5> c{};
  for (const auto& e : r.entries) ++c[static_cast<size_t>(e.finding.severity)];
  return c;
}

}  // namespace

std::string render_audit_text(const audit::AuditResult& r, const AuditTextOptions& o) {
  std::string out;
  auto line = [&](std::string text, const char* color = nullptr) {
    if (o.width != 0) text = std::string(cut_to_width(text, o.width));
    if (o.color && color != nullptr) out += color + text + kReset;
    else out += text;
    out += '\n';
  };
  for (int sev = 4; sev >= 0; --sev) {
    auto severity = static_cast<audit::Severity>(sev);
    size_t n = 0;
    for (const auto& e : r.entries) n += e.finding.severity == severity;
    if (n == 0) continue;
    if (!out.empty()) out += '\n';
    std::string name(audit::severity_name(severity));
    for (char& c : name) c = static_cast<char>(c - 'a' + 'A');
    line(fmt::format("{} ({})", name, n), o.color ? kBold : nullptr);
    for (const auto& e : r.entries) {
      if (e.finding.severity != severity) continue;
      const audit::Finding& f = e.finding;
      std::string who = e.process ? fmt::format("{} (pid {}): ", escape_text(e.process->stat.comm), f.process.pid)
                                  : std::string("system: ");
      std::string when = e.unix_ns != 0 ? format_rfc3339(e.unix_ns).substr(0, 19) + "  " : std::string();
      line(fmt::format("  {}{:<26} {}{}", when, f.rule, who, escape_text(f.title)), severity_color(severity));
      if (!e.summary.empty()) line("    why       " + escape_text(e.summary));
      if (!e.chain.empty()) line("    chain     " + chain_text(e.chain));
      for (const auto& ev : f.evidence) line("    evidence  " + escape_text(ev));
    }
  }
  auto c = counts(r);
  std::string tally;
  for (int sev = 4; sev >= 0; --sev) {
    if (c[sev] == 0) continue;
    tally += fmt::format("{}{} {}", tally.empty() ? "" : ", ", c[sev], audit::severity_name(static_cast<audit::Severity>(sev)));
  }
  if (!out.empty()) out += '\n';
  if (r.since_unix_ns != 0) {
    line(fmt::format("{} finding{}{}{} recorded since {} in {}", r.entries.size(), r.entries.size() == 1 ? "" : "s",
                     tally.empty() ? "" : " (" + tally + ")", r.entries.empty() ? fmt::format(" at or above {}", audit::severity_name(r.min_severity)) : "",
                     format_rfc3339(r.since_unix_ns).substr(0, 19), escape_text(r.db)));
  } else if (r.entries.empty()) {
    line(fmt::format("no findings at or above {} ({} processes, {} rules)", audit::severity_name(r.min_severity),
                     r.processes, r.rules.size()));
  } else {
    line(fmt::format("{} finding{} ({}) over {} processes, {} rules", r.entries.size(),
                     r.entries.size() == 1 ? "" : "s", tally, r.processes, r.rules.size()));
  }
  if (!r.allow_file.empty()) {
    line(fmt::format("{} finding{} suppressed by {}", r.suppressed, r.suppressed == 1 ? "" : "s",
                     escape_text(r.allow_file)));
  }
  return out;
}

Json finding_json(const audit::AuditEntry& e, const core::SystemInfo& sys) {
  const audit::Finding& f = e.finding;
  Json j;
  j["rule"] = f.rule;
  j["severity"] = std::string(audit::severity_name(f.severity));
  j["title"] = f.title;
  j["evidence"] = f.evidence;
  j["pid"] = f.process.pid == 0 ? Json(nullptr) : Json(f.process.pid);
  j["related_pid"] = f.related_pid == 0 ? Json(nullptr) : Json(f.related_pid);
  j["process"] = e.process ? process_json(*e.process, sys) : Json(nullptr);
  Json chain = Json::array();
  for (const auto& link : e.chain) chain.push_back({{"pid", link.pid}, {"comm", link.comm}});
  j["chain"] = std::move(chain);
  j["summary"] = e.summary;
  j["time"] = e.unix_ns != 0 ? Json(format_rfc3339(e.unix_ns)) : Json(nullptr);
  Json sources = Json::array();
  for (const auto& s : e.sources) sources.push_back(source_json(s));
  j["sources"] = std::move(sources);
  return j;
}

Json audit_json(const audit::AuditResult& r, const core::SystemInfo& sys) {
  Json doc;
  doc["schema"] = "lineage.audit/v1";
  doc["generated_at"] = format_rfc3339(sys.realtime_ns_now);
  doc["processes"] = r.processes;
  Json rules = Json::array();
  for (auto id : r.rules) rules.push_back(std::string(id));
  doc["rules"] = std::move(rules);
  doc["min_severity"] = std::string(audit::severity_name(r.min_severity));
  doc["fail_on"] = std::string(audit::severity_name(r.fail_on));
  auto c = counts(r);
  Json cj = Json::object();
  for (int sev = 4; sev >= 0; --sev) cj[std::string(audit::severity_name(static_cast<audit::Severity>(sev)))] = c[sev];
  doc["counts"] = std::move(cj);
  doc["suppressed"] = r.suppressed;
  doc["allow_file"] = r.allow_file.empty() ? Json(nullptr) : Json(r.allow_file);
  doc["since"] = r.since_unix_ns != 0 ? Json(format_rfc3339(r.since_unix_ns)) : Json(nullptr);
  Json findings = Json::array();
  for (const auto& e : r.entries) findings.push_back(finding_json(e, sys));
  doc["findings"] = std::move(findings);
  return doc;
}

}  // namespace lineage::output
