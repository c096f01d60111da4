// Terminals and shells: an interactive shell on a tty, or a shell running a
// script or a -c command. Decided by the shell's executable and argv.
#include <array>

#include <fmt/format.h>

#include "core/tty.h"
#include "explain/detectors.h"

namespace lineage::explain {
namespace {

std::string_view base(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

/// Index of argv where the shell's own arguments start (1), or 0 when p is
/// not a shell. busybox is one only when its applet is a shell: the applet
/// comes from argv[0]'s base name, or argv[1] when argv[0] is busybox.
size_t shell_args(const core::Process& p) {
  static constexpr std::array kShells{"bash", "sh", "dash", "zsh", "fish", "ksh", "ksh93",
                                      "mksh", "tcsh", "csh", "ash", "yash"};
  std::string_view exe = exe_name(p);
  for (std::string_view s : kShells) {
    if (exe == s) return 1;
  }
  if (!exe.starts_with("busybox") || !p.argv || p.argv->empty()) return 0;
  const auto& argv = *p.argv;
  size_t applet = base(argv[0]).starts_with("busybox") ? 1 : 0;
  if (applet >= argv.size()) return 0;
  std::string_view name = base(argv[applet]);
  if (!name.empty() && name[0] == '-') name.remove_prefix(1);  // a login shell: -sh
  return name == "sh" || name == "ash" || name == "hush" ? applet + 1 : 0;
}

}  // namespace

void detect_shell(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  bool have_terminal = false, have_shell = false;
  for (size_t k = chain.size(); k-- > 0;) {
    const core::Process& p = chain[k];
    size_t first = shell_args(p);
    if (first == 0 || !p.argv) continue;
    const auto& argv = *p.argv;
    // The first argument that is not an option says script, -c or nothing.
    std::string script, command;
    for (size_t a = first; a < argv.size(); ++a) {
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
      s.name = core::tty_name(p.stat.tty_nr);
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
