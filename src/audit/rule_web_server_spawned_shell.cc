// web-server-spawned-shell: a shell, an interpreter one-liner or a
// reconnaissance command below a web, application or database server (a
// request made the server run a command: command injection, a web shell,
// `COPY ... PROGRAM`). A process with a controlling terminal is a terminal
// session, not an injected command. Only the topmost such process below the server is
// reported: the commands a shell runs belong to the same finding.
#include <fmt/format.h>

#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {
namespace {

bool suspicious(const core::Process& p) { return is_shell(p) || is_one_liner(p) || is_recon_tool(p); }

std::string_view kind_of(const core::Process& p) {
  if (is_shell(p)) return "a shell";
  if (is_one_liner(p)) return "an interpreter one-liner";
  return "a reconnaissance command";
}

bool one_of_database(const core::Process& p) {
  std::string_view n = program_name(p);
  return n == "postgres" || n == "postmaster" || n == "mysqld" || n == "mariadbd";
}

}  // namespace

void check_web_server_spawned_shell(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::ProcessTree& tree = scene.tree();
  const core::Process& p = tree.at(index);
  if (!suspicious(p) || is_web_server(p)) return;
  // A terminal session a server handed to someone (VS Code's node, Jupyter,
  // a web terminal) has a controlling terminal; an injected command has none.
  if (p.stat.tty_nr != 0) return;
  std::vector<size_t> up = tree.ancestors(index);
  for (size_t k = 0; k < up.size(); ++k) {
    const core::Process& a = tree.at(up[k]);
    if (is_web_server(a)) {
      Finding f;
      f.rule = "web-server-spawned-shell";
      f.severity = Severity::kHigh;
      f.process = p.key;
      f.related_pid = a.pid();
      bool database = one_of_database(a);
      f.title = fmt::format("{} below the {} server {} (pid {})", kind_of(p), database ? "database" : "web",
                            exe_name(a), a.pid());
      std::string server_argv;
      if (a.argv) {
        for (size_t n = 1; n < a.argv->size(); ++n) server_argv += " " + (*a.argv)[n];
      }
      f.evidence.push_back(
          fmt::format("server pid {} runs {}{}", a.pid(), a.exe ? a.exe->path : a.stat.comm, server_argv));
      if (k > 0) {
        f.evidence.push_back(
            fmt::format("through {} process{} between", k, k == 1 ? "" : "es"));
      }
      f.evidence.push_back("argv " + p.command_line());
      out.push_back(std::move(f));
      return;
    }
    // A shell's own commands: the topmost one below the server is the finding.
    if (suspicious(a)) return;
    // postgres's archiver and startup processes run archive_command and
    // restore_command through a shell by design (is_web_server leaves them out).
    if (program_name(a) == "postgres") return;
  }
}

}  // namespace lineage::audit
