// reverse-shell: a shell or interpreter (or a netcat-like tool told to run
// a program, -e/-c) whose stdin, stdout or stderr is a TCP or UDP socket:
// someone at the other end types its commands. The socket is resolved from
// the machine's socket table (lineage's network namespace); a unix socket
// (sshd's socketpairs, a supervisor's) is not a reverse shell. Not reported:
// a connection a server above it accepted on a port it listens on (a CGI
// script of a server that hands it the client's socket, an inetd or socket
// activated service), unless that server is itself a shell, netcat-like or
// a plain interpreter (a bind shell); and the children of a reported shell
// that share its socket (the finding is the topmost one).
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <iterator>

#include "audit/classify.h"
#include "audit/rules.h"

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

// The kernel's names (include/net/tcp_states.h); a UDP socket has state
// ESTABLISHED when connected, CLOSE when not.
std::string_view state_text(uint8_t state) {
  static constexpr std::string_view kNames[] = {"?",         "ESTABLISHED", "SYN_SENT",   "SYN_RECV",
                                                "FIN_WAIT1", "FIN_WAIT2",   "TIME_WAIT",  "CLOSE",
                                                "CLOSE_WAIT", "LAST_ACK",   "LISTEN",     "CLOSING",
                                                "NEW_SYN_RECV"};
  return state < std::size(kNames) ? kNames[state] : "?";
}

std::string endpoint(const std::string& address, uint16_t port) {
  if (address.find(':') != std::string::npos) return fmt::format("[{}]:{}", address, port);
  return fmt::format("{}:{}", address, port);
}

bool candidate(const core::Process& p) {
  return is_shell(p) || is_interpreter(p) || (is_netcat_like(p) && runs_program(p));
}

// A process that may listen without a finding of unexpected-listener.
bool server_like(const core::Process& p) {
  return !(is_shell(p) || is_netcat_like(p) || (is_interpreter(p) && !is_web_server(p)));
}

// Whether an ancestor of process i that is a server listens on s's local
// port (same protocol): s is a connection it accepted and handed down.
bool accepted_by_server_above(const Scene& scene, size_t i, const procfs::SocketEntry& s) {
  const auto& sockets = scene.inet_sockets();
  for (size_t a : scene.tree().ancestors(i)) {
    for (uint64_t inode : scene.socket_inodes(a)) {
      auto it = sockets.find(inode);
      if (it == sockets.end()) continue;
      const procfs::SocketEntry& l = it->second;
      if (l.listening && procfs::is_tcp(l.proto) == procfs::is_tcp(s.proto) && l.local_port == s.local_port) {
        return server_like(scene.tree().at(a));
      }
    }
  }
  return false;
}

std::vector<uint64_t> stdio_sockets(const Scene& scene, size_t i) {
  std::vector<uint64_t> out;
  for (int fd = 0; fd <= 2; ++fd) {
    if (auto link = scene.fd_link(i, fd)) {
      if (auto inode = socket_inode(*link)) out.push_back(*inode);
    }
  }
  return out;
}

}  // namespace

void check_reverse_shell(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::Process& p = scene.tree().at(index);
  if (!candidate(p)) return;
  Finding f;
  const procfs::SocketEntry* remote = nullptr;
  std::vector<int> fds;  // the stdio fds on a network socket
  std::vector<uint64_t> parents_stdio;
  size_t parent = scene.tree().parent(index);
  bool parent_known = false;
  for (int fd = 0; fd <= 2; ++fd) {
    auto link = scene.fd_link(index, fd);
    if (!link) continue;
    auto inode = socket_inode(*link);
    if (!inode) continue;
    const auto& sockets = scene.inet_sockets();
    auto it = sockets.find(*inode);
    if (it == sockets.end()) continue;
    const procfs::SocketEntry& s = it->second;
    if (accepted_by_server_above(scene, index, s)) continue;
    // The same socket on the stdio of a shell above: that one is the finding.
    if (!parent_known) {
      parent_known = true;
      if (parent != core::ProcessTree::kNone && candidate(scene.tree().at(parent))) {
        parents_stdio = stdio_sockets(scene, parent);
      }
    }
    if (std::find(parents_stdio.begin(), parents_stdio.end(), *inode) != parents_stdio.end()) continue;
    std::string text = fmt::format("fd {} socket {} {}", fd, procfs::protocol_name(s.proto),
                                   endpoint(s.local_address, s.local_port));
    if (s.remote_port != 0) text += " -> " + endpoint(s.remote_address, s.remote_port);
    text += fmt::format(" ({})", state_text(s.state));
    f.evidence.push_back(std::move(text));
    fds.push_back(fd);
    if (!remote || (remote->remote_port == 0 && s.remote_port != 0)) remote = &s;
  }
  if (!remote) return;
  f.rule = "reverse-shell";
  f.severity = Severity::kCritical;
  f.process = p.key;
  static constexpr std::string_view kStdio[] = {"stdin", "stdout", "stderr"};
  std::string which;
  for (size_t k = 0; k < fds.size(); ++k) {
    which += k == 0 ? "" : k + 1 == fds.size() ? " and " : ", ";
    which += kStdio[fds[k]];
  }
  std::string_view proto = procfs::is_tcp(remote->proto) ? "TCP" : "UDP";
  f.title = remote->remote_port != 0
                ? fmt::format("{} {} a {} socket to {}", which, fds.size() == 1 ? "is" : "are", proto,
                              endpoint(remote->remote_address, remote->remote_port))
                : fmt::format("{} {} a {} socket on {}", which, fds.size() == 1 ? "is" : "are", proto,
                              endpoint(remote->local_address, remote->local_port));
  f.evidence.push_back("argv " + p.command_line());
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
