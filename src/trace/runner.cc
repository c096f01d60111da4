#include "trace/runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/clock.h"
#include "core/unique_fd.h"
#include "events/io_trace_bpf.h"
#include "events/sources.h"
#include "procfs/reader.h"

namespace lineage::trace {
namespace {

volatile sig_atomic_t g_forward = 0;  // a signal for the command (TERM, HUP)
void on_child(int) {}                 // only to end a wait early
void on_forward(int sig) { g_forward = sig; }

// The first line of a source's error (libbpf appends its log below).
std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// bpf, else netlink: the poll source misses short processes, which is most
// of what a build runs, so it is never used here.
Result<events::OpenedSource> open_events(const std::string& which, const procfs::ProcReader& reader) {
  if (which != "auto") {
    if (which != "bpf" && which != "netlink") return usage_error("--source must be auto, bpf or netlink");
    auto one = events::open_source(which, reader);
    if (!one) return Error{ErrorKind::kPermission, "cannot trace: " + first_line(one.error().message)};
    return one;
  }
  auto bpf = events::open_source("bpf", reader);
  if (bpf) return bpf;
  auto netlink = events::open_source("netlink", reader);
  if (netlink) {
    netlink->why = first_line(bpf.error().message) + "; " + netlink->why;
    return netlink;
  }
  return Error{ErrorKind::kPermission, "cannot trace: no event source started (" + first_line(bpf.error().message) +
                                           "; netlink: " + first_line(netlink.error().message) +
                                           "): bpf and netlink need root"};
}

// Saves and restores signal dispositions around the command's run: the
// terminal's Ctrl-C goes to the command (same process group), which decides;
// lineage stays to report, as a shell's `time` does.
class SignalScope {
 public:
  SignalScope() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    ::sigaction(SIGINT, &ignore, &old_int_);
    ::sigaction(SIGQUIT, &ignore, &old_quit_);
    struct sigaction child {};
    child.sa_handler = on_child;  // no SA_RESTART: a wait returns early
    child.sa_flags = SA_NOCLDSTOP;
    ::sigaction(SIGCHLD, &child, &old_chld_);
    struct sigaction forward {};
    forward.sa_handler = on_forward;
    ::sigaction(SIGTERM, &forward, &old_term_);
    ::sigaction(SIGHUP, &forward, &old_hup_);
  }
  ~SignalScope() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGQUIT, &old_quit_, nullptr);
    ::sigaction(SIGCHLD, &old_chld_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGHUP, &old_hup_, nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  struct sigaction old_int_ {}, old_quit_ {}, old_chld_ {}, old_term_ {}, old_hup_ {};
};

// In the child, between fork and exec: async-signal-safe calls only.
[[noreturn]] void exec_child(int gate, int report, char* const* argv) {
  char go = 0;
  ssize_t n;
  do {
    n = ::read(gate, &go, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(127);  // lineage gave up before releasing it
  // The command gets the dispositions a shell would give it: main ignores
  // SIGPIPE for lineage's own writes, and an ignored signal stays ignored
  // across exec (`yes | head` would then never end by SIGPIPE).
  for (int sig : {SIGINT, SIGQUIT, SIGCHLD, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execvp(argv[0], argv);
  int err = errno;
  ssize_t w = ::write(report, &err, sizeof err);
  (void)w;
  ::_exit(127);
}

// The CPU time /proc gives for a traced process, if that pid is still it.
std::optional<uint64_t> proc_cpu_ns(const procfs::ProcReader& reader, const TracedProcess& p) {
  auto proc = reader.read(p.pid, core::kFieldStat);
  if (!proc) return std::nullopt;
  uint64_t tick = reader.tick_ns();
  if (p.start_time_ns != 0) {
    uint64_t a = proc->key.start_time_ns, b = p.start_time_ns;
    if ((a > b ? a - b : b - a) > tick) return std::nullopt;  // another process has the pid
  }
  return (proc->stat.utime_ticks + proc->stat.stime_ticks) * tick;
}

// -e file,net: the kernel side that reports the traced processes' calls.
// Loaded only when asked, and only with the bpf process source (the
// kernel follows the subtree at fork, as bpf's fork events do).
Result<std::unique_ptr<events::IoTraceBpf>> open_io(const RunOptions& o) {
  if (!o.trace_files && !o.trace_net) return std::unique_ptr<events::IoTraceBpf>();
#ifdef LINEAGE_HAVE_BPF
  auto io = events::IoTraceBpf::open(o.trace_files, o.trace_net);
  if (!io) {
    return Error{io.error().kind == ErrorKind::kInternal ? ErrorKind::kInternal : ErrorKind::kPermission,
                 "cannot trace -e file/net: " + first_line(io.error().message) + " (it needs bpf: root)"};
  }
  return io;
#else
  return Error{ErrorKind::kPermission, "cannot trace -e file/net: this lineage was built without bpf"};
#endif
}

}  // namespace

Result<TraceResult> run_traced(const RunOptions& o, const LiveSink& live, const IoLiveSink& live_io) {
  if (o.argv.empty()) return usage_error("no command to trace: lineage trace -- CMD ARGS...");
  auto reader = procfs::ProcReader::open(o.proc_root);
  if (!reader) return reader.error();
  const bool io_asked = o.trace_files || o.trace_net;
  if (io_asked && o.source == "netlink") return usage_error("-e file/net needs the bpf source, not --source netlink");
  auto opened = open_events(io_asked ? "bpf" : o.source, *reader);
  if (!opened) {
    if (!io_asked) return opened.error();
    return Error{ErrorKind::kPermission, "cannot trace -e file/net: " + first_line(opened.error().message)};
  }
  auto io = open_io(o);
  if (!io) return io.error();
  std::vector<events::IoCall> io_calls;
  auto& source = opened->source;
  const bool exit_has_cpu = source->name() == "bpf";

  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int gate[2], report[2];
  if (::pipe2(gate, O_CLOEXEC) != 0) return Error{ErrorKind::kInternal, std::string("pipe: ") + std::strerror(errno)};
  UniqueFd gate_r(gate[0]), gate_w(gate[1]);
  if (::pipe2(report, O_CLOEXEC) != 0) return Error{ErrorKind::kInternal, std::string("pipe: ") + std::strerror(errno)};
  UniqueFd report_r(report[0]), report_w(report[1]);

  SignalScope signals;
  g_forward = 0;
  TraceResult result;
  result.command = o.argv;
  result.source = std::string(source->name());
  result.realtime_offset_ns = core::WallClock::sample().realtime_minus_boot_ns();
  uint64_t fork_ns = core::boot_now_ns();
  pid_t pid = ::fork();
  if (pid < 0) return Error{ErrorKind::kInternal, std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) exec_child(gate_r.get(), report_w.get(), argv.data());
  gate_r.reset();
  report_w.reset();

  // The source is running and the pid is known: let the command exec.
  SpawnTree tree(pid, fork_ns, reader->tick_ns());
  if (*io) {
    if (auto tracked = (*io)->track(pid); !tracked) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return tracked.error();
    }
  }
  if (::write(gate_w.get(), "x", 1) != 1) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return Error{ErrorKind::kInternal, std::string("cannot release the command: ") + std::strerror(errno)};
  }
  gate_w.reset();
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(report_r.get(), &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  if (got == sizeof exec_errno) {
    ::waitpid(pid, nullptr, 0);
    return not_found("cannot run '" + o.argv[0] + "': " + std::strerror(exec_errno));
  }

  using Clock = std::chrono::steady_clock;
  std::vector<core::Event> batch;
  bool reaped = false;
  Clock::time_point reaped_at{}, last_sample = Clock::now(), last_reconcile = Clock::now() - std::chrono::seconds(2);
  uint64_t reconciled_lost = 0;
  int status = 0;
  // After the command is reaped: its exit event is still on its way (at
  // most a moment), then descendants get a short grace to end with it; the
  // ones still running after that are left behind (daemons) and reported so.
  constexpr auto kExitEventWait = std::chrono::seconds(2);
  constexpr auto kGrace = std::chrono::milliseconds(100);
  auto take = [&](const std::vector<core::Event>& events) {
    for (const auto& e : events) {
      auto index = tree.apply(e);
      if (!index) continue;
      const TracedProcess& p = tree.processes()[*index];
      if (e.kind == core::EventKind::kExit && !p.cpu_final) {
        // No CPU time in the event (netlink): a zombie still shows its own.
        if (auto cpu = proc_cpu_ns(*reader, p)) tree.note_cpu(*index, *cpu, true);
      }
      if (live) live(p, e, tree.root().fork_ns);
    }
  };
  for (;;) {
    batch.clear();
    auto polled = source->poll(batch, 20);
    if (!polled) {
      if (!reaped) ::waitpid(pid, &status, 0);  // the command runs on; report what we have
      return polled.error();
    }
    take(batch);
    if (*io) {
      size_t before = io_calls.size();
      if (auto got_io = (*io)->poll(io_calls, 0); !got_io) {
        if (!reaped) ::waitpid(pid, &status, 0);
        return got_io.error();
      }
      if (live_io) {
        for (size_t i = before; i < io_calls.size(); ++i) live_io(io_calls[i], tree.root().fork_ns);
      }
    }
    if (!batch.empty() && !reaped) {
      // Let the next events gather (the ring holds megabytes) instead of
      // waking for each: on a busy build lineage then costs a few wake-ups
      // a second, not one per exec. SIGCHLD ends the sleep early.
      timespec ts{0, 10'000'000};
      ::nanosleep(&ts, nullptr);
    }
    if (int sig = g_forward; sig != 0 && !reaped) {
      g_forward = 0;
      ::kill(pid, sig);
    }
    auto now = Clock::now();
    if (!reaped) {
      siginfo_t info{};
      // Look before reaping: while the command is a zombie, /proc still
      // has its CPU time (netlink's exits carry none).
      if (!exit_has_cpu && ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
          info.si_pid == pid) {
        if (auto cpu = proc_cpu_ns(*reader, tree.root())) tree.note_cpu(0, *cpu, true);
      }
      pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        reaped = true;
        reaped_at = now;
        result.end_ns = core::boot_now_ns();
        result.wait_status = status;
      }
    }
    if (!exit_has_cpu && now - last_sample >= std::chrono::milliseconds(250)) {
      // Netlink's exits carry no CPU time: keep a recent reading of the
      // living, in case a process is reaped before its exit is read.
      last_sample = now;
      for (size_t i : tree.running()) {
        if (auto cpu = proc_cpu_ns(*reader, tree.processes()[i])) tree.note_cpu(i, *cpu, false);
      }
    }
    if (tree.lost() > reconciled_lost && now - last_reconcile >= std::chrono::seconds(1)) {
      // Events were lost: what the tree missed is in /proc if it still runs.
      reconciled_lost = tree.lost();
      last_reconcile = now;
      tree.reconcile(reader->scan(core::kFieldStat | core::kFieldCmdline | core::kFieldExe), core::boot_now_ns());
    }
    if (!reaped) continue;
    if (tree.root().alive() && now - reaped_at < kExitEventWait) continue;
    if (tree.running().empty() || now - reaped_at >= kExitEventWait + kGrace) break;
    if (!tree.root().alive() && now - reaped_at >= kGrace) break;
  }
  // A last drain, then the ones left: alive in /proc (with their CPU time
  // so far), or gone without an exit event (lost).
  batch.clear();
  if (source->poll(batch, 0)) take(batch);
  if (*io) (void)(*io)->poll(io_calls, 0);
  for (size_t i : tree.running()) {
    if (i == 0) continue;  // the command itself was reaped: its exit was lost
    auto cpu = proc_cpu_ns(*reader, tree.processes()[i]);
    if (cpu) tree.note_cpu(i, *cpu, false);
    else tree.mark_vanished(i);
  }
  if (tree.root().alive()) {
    tree.mark_vanished(0);
  }
  result.start_ns = tree.root().fork_ns;
  result.lost = tree.lost();
  result.processes = tree.processes();
  if (*io) {
    if (o.trace_files) result.io_events.push_back("file");
    if (o.trace_net) result.io_events.push_back("net");
    result.io_lost = (*io)->lost() + attach_io(result, std::move(io_calls), reader->tick_ns());
  }
  // The command's own status is waitpid's, whatever the events said.
  TracedProcess& root = result.processes.front();
  root.wait_status = result.wait_status;
  if (root.ending == Ending::kVanished) {
    root.ending = Ending::kExited;
    root.exit_ns = result.end_ns;
  }
  return result;
}

}  // namespace lineage::trace
