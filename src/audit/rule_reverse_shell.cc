// reverse-shell: a shell or interpreter (or a netcat-like tool told to run
// a program, -e/-c) whose stdin, stdout or stderr is a TCP or UDP socket:
// someone at the other end types its commands. The socket is resolved from
// the machine's socket table (lineage's network namespace); a unix socket
// (sshd's socketpairs, a supervisor's) is not a reverse shell.
#include <fmt/format.h>

#include <charconv>

#include "audit/classify.h"
#include "audit/rules.h"
#include "procfs/unix_diag.h"

namespace lineage::audit {
namespace {

// nc -e /bin/sh, ncat --sh-exec, socat ... EXEC:/bin/sh / SYSTEM:...
bool runs_program(const core::Process& p) {
  if (!p.argv) return false;
  for (size_t k = 1; k < p.argv->size(); ++k) {
    std::string_view a = (*p.argv)[k];
    if (a == "-e" || a == "-c" || a.starts_with("--exec") || a.starts_with("--sh-exec") || a.starts_with("--lua-exec")) {
      return true;
    }
    std::string up(a.substr(0, 7));
    for (char& c : up) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
    if (up.starts_with("EXEC:") || up.starts_with("SYSTEM:")) return true;
  }
  return false;
}

std::optional<uint64_t> socket_inode(std::string_view link) {
  if (!link.starts_with("socket:[") || !link.ends_with(']')) return std::nullopt;
  std::string_view digits = link.substr(8, link.size() - 9);
  uint64_t inode = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), inode);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return std::nullopt;
  return inode;
}

std::string endpoint(const std::string& address, uint16_t port) {
  if (address.find(':') != std::string::npos) return fmt::format("[{}]:{}", address, port);
  return fmt::format("{}:{}", address, port);
}

}  // namespace

void check_reverse_shell(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::Process& p = scene.tree().at(index);
  if (!(is_shell(p) || is_interpreter(p) || (is_netcat_like(p) && runs_program(p)))) return;
  Finding f;
  const procfs::SocketEntry* remote = nullptr;
  for (int fd = 0; fd <= 2; ++fd) {
    auto link = scene.fd_link(index, fd);
    if (!link) continue;
    auto inode = socket_inode(*link);
    if (!inode) continue;
    const auto& sockets = scene.inet_sockets();
    auto it = sockets.find(*inode);
    if (it == sockets.end()) continue;
    const procfs::SocketEntry& s = it->second;
    std::string text = fmt::format("fd {} socket {} {}", fd, procfs::protocol_name(s.proto),
                                   endpoint(s.local_address, s.local_port));
    if (s.remote_port != 0) text += " -> " + endpoint(s.remote_address, s.remote_port);
    text += fmt::format(" ({})", procfs::is_tcp(s.proto) ? procfs::inet_state_name(s.state)
                                                          : std::string_view(s.listening ? "UNCONN" : "ESTAB"));
    f.evidence.push_back(std::move(text));
    if (!remote || (remote->remote_port == 0 && s.remote_port != 0)) remote = &s;
  }
  if (!remote) return;
  f.rule = "reverse-shell";
  f.severity = Severity::kCritical;
  f.process = p.key;
  f.title = remote->remote_port != 0
                ? fmt::format("{} has its stdio on a network socket to {}", program_name(p),
                              endpoint(remote->remote_address, remote->remote_port))
                : fmt::format("{} has its stdio on a network socket ({} {})", program_name(p),
                              procfs::protocol_name(remote->proto), endpoint(remote->local_address, remote->local_port));
  f.evidence.push_back("argv " + p.command_line());
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
