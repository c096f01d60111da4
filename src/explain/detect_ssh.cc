// ssh sessions: an sshd ancestor (by its executable), and the client from
// SSH_CONNECTION in the session's environment.
#include <fmt/format.h>

#include "core/tty.h"
#include "explain/detectors.h"
#include "procfs/net.h"

namespace lineage::explain {
namespace {

bool is_sshd(const core::Process& p) {
  std::string_view exe = exe_name(p);
  return exe == "sshd" || exe == "sshd-session";
}

// "client_ip client_port server_ip server_port"
bool split_connection(const std::string& v, std::string& ip, std::string& port) {
  size_t a = v.find(' ');
  if (a == std::string::npos) return false;
  size_t b = v.find(' ', a + 1);
  ip = v.substr(0, a);
  port = v.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
  return !ip.empty() && !port.empty();
}

struct Peer {
  std::string address, port;
  int32_t pid = 0;
};

// The client as the kernel knows it: the established TCP connection held by
// a root-run sshd of the session (the [priv] monitor, or the session's own
// sshd). Unlike SSH_CONNECTION, which the session's user may rewrite, nobody
// but root can hand a connection to a root process.
std::optional<Peer> connection_peer(const Context& ctx, size_t at) {
  std::optional<std::vector<procfs::SocketEntry>> all;
  for (size_t j = at + 1; j-- > 0 && is_sshd(ctx.chain[j]);) {
    const core::Process& p = ctx.chain[j];
    if (!p.status || p.status->uid.real != 0 || p.ppid() == 1) continue;  // not the listener
    if (p.recorded) continue;  // gone: its sockets with it
    auto inodes = procfs::socket_inodes_of(ctx.reader, p.pid());
    if (inodes.empty()) continue;
    if (!all) {
      auto listed = procfs::list_sockets();
      if (!listed) return std::nullopt;
      all = std::move(*listed);
    }
    for (const auto& e : procfs::sockets_with(inodes, *all)) {
      if (e.listening || e.remote_port == 0 || !procfs::is_tcp(e.proto)) {
        continue;
      }
      std::string address = e.remote_address;
      if (address.starts_with("::ffff:")) address = address.substr(7);
      return Peer{address, std::to_string(e.remote_port), p.pid()};
    }
  }
  return std::nullopt;
}

// The ssh session below the sshd at chain[at].
Source ssh_source(const Context& ctx, size_t at) {
  const auto& chain = ctx.chain;
  const core::Process& sshd = chain[at];
  size_t session = std::min(at + 1, chain.size() - 1);
  Source s;
  s.kind = "ssh";
  s.name = "sshd";
  s.pid = sshd.pid();
  s.anchor = session;
  verify_root_launcher(ctx, at, s, [](const core::Process&, const core::Process& q) { return is_sshd(q); });

  // The client from the first process of the session that has it.
  std::string client, port;
  for (size_t i = session; i < chain.size(); ++i) {
    auto conn = chain[i].env("SSH_CONNECTION");
    const char* var = "SSH_CONNECTION";
    if (!conn) {
      conn = chain[i].env("SSH_CLIENT");
      var = "SSH_CLIENT";
    }
    if (conn && split_connection(*conn, client, port)) {
      s.evidence.push_back(env_evidence(s, var, *conn, chain[i].pid()));
      break;
    }
    if (!chain[i].environ && (chain[i].unavailable & core::kFieldEnviron)) {
      s.evidence.push_back(fmt::format("environment of pid {} unavailable", chain[i].pid()));
    }
  }
  if (s.verified) {
    if (auto peer = connection_peer(ctx, at)) {
      s.evidence.push_back(fmt::format("pid {} (root) holds the TCP connection from {} port {}", peer->pid,
                                       peer->address, peer->port));
      if (!client.empty() && (client != peer->address || port != peer->port)) {
        s.evidence.push_back(fmt::format("the environment's client {} port {} differs from the connection: "
                                         "a claim of the session's user", client, port));
      }
      client = peer->address;
      port = peer->port;
    }
  }
  if (!client.empty()) {
    s.detail("client", client);
    s.detail("client_port", port);
  }
  const core::Process& shell = chain[session];
  if (shell.status) s.detail("user", shell.user);
  if (shell.stat.tty_nr != 0) s.detail("tty", core::tty_name(shell.stat.tty_nr));
  if (sshd.argv && !sshd.argv->empty()) {
    s.evidence.push_back(fmt::format("pid {} title: {}", sshd.pid(), sshd.argv->front()));
  }
  return s;
}

}  // namespace

// The sshd nearest the target makes the source; when it fails verification
// it is reported as a claim and the nearest verified sshd above it (if any)
// is reported too, so a planted "sshd" never hides the real session.
void detect_ssh(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  bool claimed = false;
  for (size_t k = chain.size(); k-- > 0;) {
    if (!is_sshd(chain[k])) continue;
    if (k + 1 == chain.size() && chain[k].ppid() == 1) return;  // the listener itself
    Source s = ssh_source(ctx, k);
    if (s.verified) {
      out.push_back(std::move(s));
      return;
    }
    if (!claimed) out.push_back(std::move(s));
    claimed = true;
  }
}

}  // namespace lineage::explain
