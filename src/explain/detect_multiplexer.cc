// tmux and screen: the server is an ancestor (by its verified executable);
// the session is the real one holding the process, not the socket's name.
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "core/unique_fd.h"
#include "explain/detectors.h"

namespace lineage::explain {
namespace {

// The server nearest the target whose executable is `exe` (an ancestor:
// the server forks every window), as a source anchored at its child. A server
// that fails verification is a claim; the nearest verified one above it wins,
// and the claim nearer the target is still reported (into `out`).
std::optional<Source> server_source(const Context& ctx, std::string_view exe, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  std::optional<Source> claim;
  for (size_t k = chain.size() - 1; k-- > 0;) {
    if (exe_name(chain[k]) != exe) continue;
    Source s;
    s.kind = std::string(exe);
    s.pid = chain[k].pid();
    s.anchor = k + 1;
    verify_launcher(ctx, chain[k], s);
    s.evidence.push_back(fmt::format("pid {} command: {}", chain[k].pid(), chain[k].command_line()));
    if (s.verified) {
      if (claim) {
        claim->name = std::string(exe);
        out.push_back(std::move(*claim));
      }
      return s;
    }
    if (!claim) claim = std::move(s);
  }
  return claim;
}

bool valid_pane(const std::string& pane) {
  if (pane.size() < 2 || pane.size() > 12 || pane[0] != '%') return false;
  for (size_t i = 1; i < pane.size(); ++i) {
    if (pane[i] < '0' || pane[i] > '9') return false;
  }
  return true;
}

// All tmux queries of one run share this budget: a server that never answers
// costs the run at most this long, however many panes ask it.
std::chrono::milliseconds tmux_budget_left{1500};

// The child: no controlling terminal (its own session), no descriptor but the
// pipe and /dev/null, the server's user, no environment but PATH.
[[noreturn]] void exec_tmux_client(int out_fd, int exe_fd, uid_t uid, gid_t gid,
                                   const std::string& socket, const std::string& pane) {
  if (::setsid() < 0 || ::chdir("/") != 0) ::_exit(126);
  // Move both out of 0..3 first: lineage may have been started with a
  // standard stream closed, so either could sit where a dup2 below lands.
  int out = ::fcntl(out_fd, F_DUPFD_CLOEXEC, 10);
  int exe = ::fcntl(exe_fd, F_DUPFD_CLOEXEC, 10);
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (out < 0 || exe < 0 || null < 0) ::_exit(126);
  ::dup2(out, STDOUT_FILENO);
  ::dup2(null, STDIN_FILENO);
  ::dup2(null, STDERR_FILENO);
  // The pinned executable as fd 3, closed by the exec itself (tmux is an ELF
  // binary: execveat of a close-on-exec fd is fine); nothing else survives.
  if (::dup2(exe, 3) != 3 || ::fcntl(3, F_SETFD, FD_CLOEXEC) != 0) ::_exit(126);
  ::close_range(4, ~0u, 0);
  if (::setgroups(0, nullptr) != 0 && ::geteuid() == 0) ::_exit(126);
  if (::setresgid(gid, gid, gid) != 0 || ::setresuid(uid, uid, uid) != 0) ::_exit(126);
  const char* argv[] = {"tmux", "-S", socket.c_str(), "display-message", "-p", "-t", pane.c_str(),
                        "#{session_name}", nullptr};
  const char* envp[] = {"PATH=/usr/bin:/bin", nullptr};
  ::execveat(3, "", const_cast<char* const*>(argv), const_cast<char* const*>(envp), AT_EMPTY_PATH);
  ::_exit(127);
}

// Asks a verified tmux server which session holds the pane. tmux has no state
// file, so this runs the server's own (verified, root-owned) binary through
// /proc/PID/exe, as the server's user, against a socket that user owns,
// detached from our terminal, killed as a process group when the run's
// budget is spent.
std::optional<std::string> ask_tmux(const core::Process& server, const std::string& socket,
                                    const std::string& pane) {
  if (!server.status || socket.empty() || socket[0] != '/' || !valid_pane(pane)) return std::nullopt;
  if (server.recorded) return std::nullopt;  // a server that is gone answers nothing
  if (tmux_budget_left.count() <= 0) return std::nullopt;
  uid_t uid = server.status->uid.effective;
  gid_t gid = server.status->gid.effective;
  struct stat sock {};
  if (::lstat(socket.c_str(), &sock) != 0 || !S_ISSOCK(sock.st_mode) || sock.st_uid != uid) return std::nullopt;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  // Run the very file that was verified: the server may have exec'd another
  // since, or its pid been reused. The fd pins the file; its identity must be
  // the root-owned file at the verified path.
  if (!server.exe) return std::nullopt;
  UniqueFd exe(::open(fmt::format("/proc/{}/exe", server.pid()).c_str(), O_PATH));
  struct stat pinned {}, at_path {};
  if (!exe.valid() || ::fstat(exe.get(), &pinned) != 0 || ::stat(server.exe->path.c_str(), &at_path) != 0 ||
      pinned.st_dev != at_path.st_dev || pinned.st_ino != at_path.st_ino || pinned.st_uid != 0) {
    return std::nullopt;
  }
  const auto start = std::chrono::steady_clock::now();
  pid_t child = ::fork();
  if (child < 0) return std::nullopt;
  if (child == 0) exec_tmux_client(write_end.get(), exe.get(), uid, gid, socket, pane);
  write_end.reset();
  std::string out;
  const auto deadline = start + std::min(tmux_budget_left, std::chrono::milliseconds(1000));
  char buf[256];
  while (out.size() < 1024) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd pfd{read_end.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) break;
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::kill(-child, SIGKILL);  // its whole process group (it made its own session)
  ::kill(child, SIGKILL);   // in case it died before setsid
  int status = 0;
  ::waitpid(child, &status, 0);
  tmux_budget_left -= std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  if (out.empty() || out.find('\n') != std::string::npos) return std::nullopt;
  return out;
}

void detect_tmux(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  auto found = server_source(ctx, "tmux", out);
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
    s.evidence.push_back(env_evidence(s, "TMUX", fmt::format("{} TMUX_PANE={}", *tmux, pane), chain[i].pid()));
  }
  std::optional<std::string> name;
  if (!pane.empty() && s.verified) name = ask_tmux(srv, socket, pane);
  if (name) {
    s.name = *name;
    s.detail("session", *name);
    s.evidence.push_back(fmt::format("tmux server says pane {} is in session '{}'", pane, *name));
  } else if (!index.empty()) {
    s.name = "$" + index;
    s.detail("session", s.name);
    s.evidence.push_back(s.verified ? "the tmux server did not answer; session given by its id"
                                    : "the server is not verified, so it was not asked; session given by its id");
  } else {
    s.name = "tmux";
  }
  if (!pane.empty()) s.detail("pane", pane);
  if (!socket.empty()) s.detail("socket", socket);
  out.push_back(std::move(s));
}

void detect_screen(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  auto found = server_source(ctx, "screen", out);
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
    s.evidence.push_back(env_evidence(s, "STY", *sty, chain[i].pid()));
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
