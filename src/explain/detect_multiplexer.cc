// tmux and screen: the server is an ancestor (by its executable); the
// session is the real one holding the process, not the socket's name.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "explain/detectors.h"

namespace lineage::explain {
namespace {

// The server nearest the target whose executable is `exe` (an ancestor:
// the server forks every window), as a source anchored at its child.
std::optional<Source> server_source(const std::vector<core::Process>& chain, std::string_view exe) {
  size_t found = chain.size();
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    if (exe_name(chain[i]) == exe) found = i;
  }
  if (found == chain.size()) return std::nullopt;
  const core::Process& srv = chain[found];
  Source s;
  s.kind = std::string(exe);
  s.pid = srv.pid();
  s.anchor = found + 1;
  s.evidence.push_back(fmt::format("ancestor pid {} runs {} ({})", srv.pid(), exe_path(srv), srv.command_line()));
  return s;
}

bool valid_pane(const std::string& pane) {
  if (pane.size() < 2 || pane.size() > 12 || pane[0] != '%') return false;
  for (size_t i = 1; i < pane.size(); ++i) {
    if (pane[i] < '0' || pane[i] > '9') return false;
  }
  return true;
}

// Asks the tmux server which session holds the pane. tmux has no state file,
// so this runs the server's own binary (/proc/PID/exe, no shell), as the
// server's user so that nothing is gained by planting a fake server, with a
// one-second limit.
std::optional<std::string> ask_tmux(const core::Process& server, const std::string& socket,
                                    const std::string& pane) {
  if (!server.status || socket.empty() || socket[0] != '/' || !valid_pane(pane)) return std::nullopt;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  std::string exe = fmt::format("/proc/{}/exe", server.pid());
  uid_t uid = server.status->uid.effective;
  gid_t gid = server.status->gid.effective;
  pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return std::nullopt;
  }
  if (child == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDERR_FILENO);
    if (::setgroups(0, nullptr) != 0 && ::geteuid() == 0) ::_exit(126);
    if (::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(126);
    const char* argv[] = {"tmux", "-S", socket.c_str(), "display-message", "-p", "-t", pane.c_str(),
                          "#{session_name}", nullptr};
    const char* envp[] = {"PATH=/usr/bin:/bin", nullptr};
    ::execve(exe.c_str(), const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
  char buf[256];
  while (out.size() < 1024) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (out.empty() || out.find('\n') != std::string::npos) return std::nullopt;
  return out;
}

void detect_tmux(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  auto found = server_source(chain, "tmux");
  if (!found) return;
  Source& s = *found;
  const size_t server = s.anchor - 1;
  const core::Process& srv = chain[server];
  // TMUX=socket,server_pid,session_index and TMUX_PANE=%N, set for the pane.
  std::string socket, pane, index;
  for (size_t i = server + 1; i < chain.size() && pane.empty(); ++i) {
    auto tmux = chain[i].env("TMUX");
    auto tmux_pane = chain[i].env("TMUX_PANE");
    if (!tmux || !tmux_pane) continue;
    size_t c1 = tmux->find(','), c2 = tmux->rfind(',');
    if (c1 == std::string::npos || c2 == c1) continue;
    socket = tmux->substr(0, c1);
    index = tmux->substr(c2 + 1);
    pane = *tmux_pane;
    s.evidence.push_back(fmt::format("TMUX={} TMUX_PANE={} in the environment of pid {}", *tmux, pane, chain[i].pid()));
  }
  std::optional<std::string> name;
  if (!pane.empty()) name = ask_tmux(srv, socket, pane);
  if (name) {
    s.name = *name;
    s.detail("session", *name);
    s.evidence.push_back(fmt::format("tmux server says pane {} is in session '{}'", pane, *name));
  } else if (!index.empty()) {
    s.name = "$" + index;
    s.detail("session", s.name);
    s.evidence.push_back("the tmux server did not answer; session given by its id");
  } else {
    s.name = "tmux";
  }
  if (!pane.empty()) s.detail("pane", pane);
  if (!socket.empty()) s.detail("socket", socket);
  out.push_back(std::move(s));
}

void detect_screen(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  auto found = server_source(chain, "screen");
  if (!found) return;
  Source& s = *found;
  const size_t server = s.anchor - 1;
  // STY=PID.NAME names the session of every window's process.
  for (size_t i = server + 1; i < chain.size(); ++i) {
    auto sty = chain[i].env("STY");
    if (!sty) continue;
    size_t dot = sty->find('.');
    s.name = dot == std::string::npos ? *sty : sty->substr(dot + 1);
    s.detail("session", s.name);
    s.detail("sty", *sty);
    if (auto window = chain[i].env("WINDOW")) s.detail("window", *window);
    s.evidence.push_back(fmt::format("STY={} in the environment of pid {}", *sty, chain[i].pid()));
    break;
  }
  if (s.name.empty()) s.name = "screen";
  out.push_back(std::move(s));
}

}  // namespace

void detect_multiplexer(const Context& ctx, std::vector<Source>& out) {
  detect_tmux(ctx, out);
  detect_screen(ctx, out);
}

}  // namespace lineage::explain
