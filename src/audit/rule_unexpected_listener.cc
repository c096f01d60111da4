// unexpected-listener: a shell or a netcat-like tool (high), or an
// interpreter (medium), holds a listening socket: a bind shell, or a tool
// left listening for a file or a connection. TCP sockets in LISTEN; UDP
// sockets bound to a port outside the ephemeral range (32768-60999, where a
// client's unconnected socket gets its port) and not connected. Not
// reported: a socket the parent holds too (inherited, not opened by it: a
// server's fd leaked into a child) and interpreters that run a known web or
// application server (those listen by design).
#include <fmt/format.h>

#include <algorithm>

#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {
namespace {

constexpr uint16_t kEphemeralLow = 32768, kEphemeralHigh = 60999;  // Linux's default ip_local_port_range

bool listens(const procfs::SocketEntry& s) {
  if (!s.listening) return false;
  if (procfs::is_tcp(s.proto)) return true;
  return s.local_port != 0 && s.remote_port == 0 && (s.local_port < kEphemeralLow || s.local_port > kEphemeralHigh);
}

std::string endpoint(const std::string& address, uint16_t port) {
  if (address.find(':') != std::string::npos) return fmt::format("[{}]:{}", address, port);
  return fmt::format("{}:{}", address, port);
}

// "busybox nc -l": busybox run by its own name takes the applet from argv[1].
bool busybox_netcat(const core::Process& p) {
  if (program_name(p) != "busybox" || !p.argv || p.argv->size() < 2) return false;
  core::Process applet;
  applet.stat.comm = (*p.argv)[1];
  return is_netcat_like(applet);
}

std::string_view kind_of(const core::Process& p) {
  if (is_netcat_like(p) || busybox_netcat(p)) return "a netcat-like tool";
  if (is_shell(p)) return "a shell";
  return "an interpreter";
}

}  // namespace

void check_unexpected_listener(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::ProcessTree& tree = scene.tree();
  const core::Process& p = tree.at(index);
  bool strong = is_shell(p) || is_netcat_like(p);
  if (!strong && !(is_interpreter(p) && !is_web_server(p))) return;
  const std::vector<uint64_t>& held = scene.socket_inodes(index);
  if (held.empty()) return;
  const auto& sockets = scene.inet_sockets();
  std::vector<const procfs::SocketEntry*> found;
  for (uint64_t inode : held) {
    auto it = sockets.find(inode);
    if (it != sockets.end() && listens(it->second)) found.push_back(&it->second);
  }
  if (found.empty()) return;
  size_t parent = tree.parent(index);
  if (parent != core::ProcessTree::kNone) {
    const std::vector<uint64_t>& parents = scene.socket_inodes(parent);
    std::erase_if(found, [&](const procfs::SocketEntry* s) {
      return std::find(parents.begin(), parents.end(), s->inode) != parents.end();
    });
    if (found.empty()) return;
  }
  std::sort(found.begin(), found.end(), [](const auto* a, const auto* b) {
    return std::tuple(a->proto, a->local_port, a->local_address) < std::tuple(b->proto, b->local_port, b->local_address);
  });
  Finding f;
  f.rule = "unexpected-listener";
  f.severity = strong ? Severity::kHigh : Severity::kMedium;
  f.process = p.key;
  const procfs::SocketEntry& first = *found.front();
  f.title = fmt::format("{} listening on {} {}{}", kind_of(p),
                        procfs::protocol_name(first.proto),
                        endpoint(first.local_address, first.local_port),
                        found.size() > 1 ? fmt::format(" (and {} more)", found.size() - 1) : std::string());
  for (const auto* s : found) {
    f.evidence.push_back(fmt::format("listening {} {}", procfs::protocol_name(s->proto),
                                     endpoint(s->local_address, s->local_port)));
  }
  f.evidence.push_back("argv " + p.command_line());
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
