// Terminals and shells: an interactive shell on a tty, or a shell running a
// script or a -c command. Decided by the shell's executable and argv.
#include <array>

#include <fmt/format.h>

#include "explain/detectors.h"
#include "procfs/parsers.h"

namespace lineage::explain {
namespace {

bool is_shell(const core::Process& p) {
  static constexpr std::array kShells{"bash", "sh", "dash", "zsh", "fish", "ksh", "ksh93",
                                      "mksh", "tcsh", "csh", "ash", "busybox", "yash"};
  std::string_view exe = exe_name(p);
  for (std::string_view s : kShells) {
    if (exe == s) return true;
  }
  return false;
}

}  // namespace

void detect_shell(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  bool have_terminal = false, have_shell = false;
  for (size_t k = chain.size(); k-- > 0;) {
    const core::Process& p = chain[k];
    if (!is_shell(p) || !p.argv) continue;
    const auto& argv = *p.argv;
    // The first argument that is not an option says script, -c or nothing.
    std::string script, command;
    for (size_t a = 1; a < argv.size(); ++a) {
      if (argv[a] == "-c" && a + 1 < argv.size()) {
        command = argv[a + 1];
        break;
      }
      if (!argv[a].empty() && argv[a][0] != '-') {
        script = argv[a];
        break;
      }
    }
    if ((!script.empty() || !command.empty()) && !have_shell) {
      have_shell = true;
      Source s;
      s.kind = "shell";
      s.pid = p.pid();
      s.anchor = k;
      s.name = script.empty() ? "sh -c" : script;
      if (!script.empty()) s.detail("script", script);
      if (!command.empty()) s.detail("command", command);
      s.detail("interpreter", exe_path(p));
      s.evidence.push_back(fmt::format("pid {} runs {} with argv: {}", p.pid(), exe_path(p),
                                       p.command_line()));
      out.push_back(std::move(s));
    } else if (script.empty() && command.empty() && p.stat.tty_nr != 0 && !have_terminal) {
      have_terminal = true;
      Source s;
      s.kind = "terminal";
      s.pid = p.pid();
      s.anchor = k;
      s.name = procfs::tty_name(p.stat.tty_nr);
      s.detail("tty", s.name);
      s.detail("shell", exe_path(p));
      if (p.status) s.detail("user", p.user);
      s.evidence.push_back(fmt::format("interactive shell pid {} ({}) on {}", p.pid(), exe_path(p), s.name));
      out.push_back(std::move(s));
    }
    if (have_terminal) break;  // the outermost context needs no older shells
  }
}

}  // namespace lineage::explain
