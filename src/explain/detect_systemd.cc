// systemd units from the cgroup: the kernel's record of which unit a process
// belongs to. Login session scopes are not blamed: a process launched from a
// terminal inside a session is the terminal's, not systemd's.
#include <sstream>

#include <fmt/format.h>

#include "explain/detectors.h"
#include "explain/file_read.h"
#include "explain/systemd_bus.h"
#include "explain/systemd_unit.h"

namespace lineage::explain {
namespace {

const core::CgroupEntry* systemd_cgroup(const core::Process& p) {
  if (!p.cgroups) return nullptr;
  for (const auto& e : *p.cgroups) {
    if (e.controllers == "name=systemd") return &e;
  }
  for (const auto& e : *p.cgroups) {
    if (e.hierarchy == 0 && e.controllers.empty()) return &e;
  }
  return nullptr;
}

// First `key=` value of the [Unit] section, bounded.
std::string unit_file_value(const std::string& path, std::string_view key) {
  std::string text;
  if (read_bounded(path, 1 << 20, text) != FileStatus::kOk) return {};
  std::istringstream in(text);
  std::string line;
  bool in_unit = false;
  for (int n = 0; n < 2000 && std::getline(in, line); ++n) {
    if (!line.empty() && line[0] == '[') in_unit = line.starts_with("[Unit]");
    if (in_unit && line.size() > key.size() && line.starts_with(key) && line[key.size()] == '=') {
      return line.substr(key.size() + 1, 512);
    }
  }
  return {};
}

std::string find_unit_file(const Paths& paths, const UnitInfo& unit) {
  std::vector<std::string> dirs;
  if (unit.manager == "user") {
    dirs = {paths.etc + "/systemd/user", paths.lib_systemd + "/user", "/usr/lib/systemd/user"};
  } else {
    dirs = {paths.etc + "/systemd/system", paths.run + "/systemd/system",
            paths.run + "/systemd/transient", paths.lib_systemd + "/system",
            "/usr/lib/systemd/system"};
  }
  std::vector<std::string> names{unit.unit};
  size_t at = unit.unit.find('@');
  size_t dot = unit.unit.rfind('.');
  if (at != std::string::npos && dot != std::string::npos && dot > at) {
    names.push_back(unit.unit.substr(0, at + 1) + unit.unit.substr(dot));  // foo@.service
  }
  for (const auto& name : names) {
    for (const auto& dir : dirs) {
      std::string path = dir + "/" + name;
      std::string text;
      if (read_bounded(path, 1 << 20, text) == FileStatus::kOk) return path;
    }
  }
  return {};
}

}  // namespace

void detect_systemd(const Context& ctx, std::vector<Source>& out) {
  const core::CgroupEntry* cg = systemd_cgroup(ctx.target());
  if (cg == nullptr) return;
  auto unit = unit_from_cgroup(cg->path);
  if (!unit || unit->session_scope || unit->container_scope) return;

  // The unit's first process in the chain; its parent is the manager.
  size_t anchor = ctx.chain.size() - 1;
  for (size_t i = 0; i < ctx.chain.size(); ++i) {
    const core::CgroupEntry* other = systemd_cgroup(ctx.chain[i]);
    if (other && other->path == cg->path) {
      anchor = i;
      break;
    }
  }
  Source s;
  s.kind = "systemd";
  s.name = unit->unit;
  s.anchor = anchor;
  s.pid = anchor > 0 ? ctx.chain[anchor - 1].pid() : 0;
  s.detail("unit", unit->unit);
  s.detail("manager", unit->manager);
  if (!unit->slice.empty()) s.detail("slice", unit->slice);
  s.evidence.push_back(fmt::format("cgroup {}:{}:{} of pid {}", cg->hierarchy, cg->controllers,
                                   cg->path, ctx.target().pid()));
  // Only root (or, for a user manager's units, that user) can make the cgroup.
  Verification v = ctx.exe_verifier().check_cgroup(
      ctx.target(), *cg, unit->manager == "user" ? std::optional<uid_t>(unit->user_uid) : std::nullopt);
  s.verified = v.verified;
  if (!v.verified) s.unverified_reason = v.text;
  s.evidence.push_back(fmt::format("{}: {}", v.verified ? "verified" : "unverified", v.text));
  // systemd itself knows best; the unit files are the fallback.
  if (auto props = query_unit(unit->unit, unit->manager == "user", unit->user_uid)) {
    if (!props->description.empty()) s.detail("description", props->description);
    if (!props->fragment_path.empty()) s.detail("fragment_path", props->fragment_path);
    if (props->restarts) s.detail("restarts", std::to_string(*props->restarts));
    std::string triggers;
    for (const auto& t : props->triggered_by) triggers += (triggers.empty() ? "" : ", ") + t;
    if (!triggers.empty()) s.detail("triggered_by", triggers);
    s.evidence.push_back(fmt::format("properties of {} from the {} manager over D-Bus", unit->unit, unit->manager));
    out.push_back(std::move(s));
    return;
  }
  std::string fragment = find_unit_file(ctx.paths, *unit);
  if (!fragment.empty()) {
    std::string description = unit_file_value(fragment, "Description");
    if (!description.empty()) s.detail("description", description);
    s.detail("fragment_path", fragment);
    s.evidence.push_back("unit file " + fragment);
  } else {
    s.evidence.push_back("no unit file found for " + unit->unit + " (transient unit?)");
  }
  out.push_back(std::move(s));
}

}  // namespace lineage::explain
