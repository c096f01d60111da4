#include "cli/doctor_command.h"

#include <memory>

#include <fmt/format.h>

#include "cli/cli11.h"
#include "cli/history_command.h"
#include "cli/record_command.h"
#include "doctor/doctor.h"

namespace lineage::cli {
namespace {

struct DoctorOptions {
  CommonOptions common;
  std::string db;
};

Result<int> run_doctor(const DoctorOptions& o) {
  doctor::Options d;
  d.proc_root = o.common.proc_root;
  d.db = history_path(o.db);
  auto checks = doctor::run_checks(d);
  for (auto& c : checks) {
    if (c.id != "history" || !c.ok) continue;
    int32_t holder = record_lock_holder(d.db);
    c.detail += holder > 0 ? fmt::format("; written by lineage record (pid {})", holder)
                           : holder < 0 ? "; a recorder holds it" : "; no recorder writing it now";
  }
  std::string text = o.common.json ? doctor::render_json(checks)
                                   : doctor::render_text(checks, detect_terminal(o.common).color);
  int rc = write_out(text);
  if (rc != 0) return rc;
  for (const auto& c : checks) {
    if (!c.ok && c.required) return 1;
  }
  return 0;
}

}  // namespace

Command add_doctor_command(CLI::App& app) {
  auto o = std::make_shared<DoctorOptions>();
  CLI::App* cmd = app.add_subcommand("doctor", "What this machine gives lineage, and what is missing");
  cmd->footer(
      "Examples:\n"
      "  lineage doctor              each check, what it found, and what degrades when it is missing\n"
      "  lineage doctor --json       lineage.doctor/v1\n"
      "Checks: kernel and BTF, whether the eBPF programs load (the exact error when not), the netlink\n"
      "proc connector, capabilities, /proc's hidepid/subset, cgroup version, systemd over D-Bus,\n"
      "container runtimes, and the history database. It loads and unloads the eBPF programs once.\n"
      "Exit: 0 everything lineage uses is here, 1 something is missing (informational checks,\n"
      "like no container runtime or no history yet, do not count).");
  add_common(*cmd, o->common);
  cmd->add_option("--db", o->db, fmt::format("History database to look at (default {})", kDefaultDb));
  return {cmd, [o] { return finish(run_doctor(*o)); }};
}

}  // namespace lineage::cli
