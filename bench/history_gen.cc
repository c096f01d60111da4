// history_gen DB [PROCESSES] [ORPHAN_PID] -- writes a history database of
// PROCESSES recorded processes (default 1,000,000) through store::Writer,
// the recorder's own writer, for bench/history_queries.sh.
//
// Shape (deterministic, fixed seed), on this boot (its real boot id), over
// the boot-time span [2 %, 90 %] of the uptime:
//   systemd (pid 1, backfilled with /proc/1's real start time)
//     ~100 services, alive throughout (sshd, cron, nginx, postgres, ...)
//     sshd -> sshd-session -> bash (login; SSH_CONNECTION, session cgroup)
//       -> commands from a pool of ~3,000 command lines (ls, git status,
//          grep -rn WORD src, make -jN, ...; a fifth with a unique argument),
//          a tenth of them scripts: bash script.sh -> forked subshells
//          (no exec) -> commands
//   pids allocated in order and wrapping at 32768, so pids are reused.
//   At the moment T (mid-span), exactly 10,000 processes are alive: the
//   services and open sessions, plus a `make -j` burst whose cc1 workers
//   span T.
//   If ORPHAN_PID is given (a live process re-parented to init): it is
//   recorded as the end of a chain cron -> sh -> bash -> ... of 10 exited
//   ancestors forked just before its real start time, re-parented to pid 1.
//
// stdout: key=value lines: processes, alive_at, at (T, RFC 3339 UTC),
// at_unix_ns, span_first/last (RFC 3339), orphan, common_name, rare_name.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "store/recall.h"
#include "store/writer.h"

namespace {

using lineage::core::ProcessKey;
namespace store = lineage::store;

constexpr uint64_t kMs = 1'000'000, kSec = 1'000 * kMs;
constexpr int kAliveAtT = 10'000;
constexpr size_t kBatch = 20'000;

uint64_t clock_ns(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * kSec + static_cast<uint64_t>(ts.tv_nsec);
}

std::string rfc3339(int64_t unix_ns) {
  time_t s = static_cast<time_t>(unix_ns / static_cast<int64_t>(kSec));
  tm t{};
  gmtime_r(&s, &t);
  char buf[40];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &t);
  return buf;
}

// Start time (boot ns) of a live pid, from field 22 of /proc/PID/stat.
uint64_t start_ns_of(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  unsigned long long ticks = 0;
  std::string rest = s.substr(close + 2);
  size_t pos = 0;
  for (int field = 3; field < 22; ++field) pos = rest.find(' ', pos) + 1;
  ticks = std::strtoull(rest.c_str() + pos, nullptr, 10);
  return ticks * (kSec / static_cast<uint64_t>(sysconf(_SC_CLK_TCK)));
}

std::string nul_join(std::initializer_list<std::string> words) {
  std::string out;
  for (const auto& w : words) {
    if (!out.empty()) out += '\0';
    out += w;
  }
  return out;
}

struct Cmd {
  std::string comm, exe, argv;  // argv NUL-separated
};

class Gen {
 public:
  Gen(store::Writer& w, uint64_t t_ns) : w_(w), t_ns_(t_ns) {}

  // A process forked at fork_ns by parent; exec'd (if cmd) 1 ms later.
  ProcessKey spawn(const ProcessKey& parent, uint64_t fork_ns, const Cmd* cmd, const std::string& fork_comm,
                   const std::string* env = nullptr, const std::string* cgroup = nullptr, int pid = 0,
                   int64_t flags = 0) {
    ProcessKey k{pid ? pid : next_pid(), fork_ns};
    store::ForkRecord f;
    f.key = k, f.parent = parent, f.fork_ns = fork_ns, f.comm = fork_comm, f.uid = uid_, f.gid = uid_;
    f.flags = flags;
    put(std::move(f));
    if (cmd) {
      store::ExecRecord e;
      e.key = k, e.time_ns = fork_ns + kMs, e.comm = cmd->comm, e.exe = cmd->exe, e.argv = cmd->argv;
      e.uid = e.gid = uid_, e.ruid = uid_;
      e.cwd = cwd_;
      e.cgroup = cgroup ? *cgroup : cgroup_;
      if (env) e.env = *env;
      e.sid = sid_, e.pgid = static_cast<int32_t>(k.pid), e.tty = tty_, e.login_uid = uid_;
      put(std::move(e));
    }
    ++count_;
    return k;
  }
  void exit(const ProcessKey& k, uint64_t at, int32_t status = 0) {
    store::ExitRecord x;
    x.key = k, x.time_ns = at, x.status = status;
    put(std::move(x));
  }
  void reparent(const ProcessKey& k, uint64_t at, const ProcessKey& to) {
    store::ChangeRecord c;
    c.key = k, c.kind = store::kChangeParent, c.time_ns = at, c.parent = to;
    put(std::move(c));
  }
  // A process alive at T: counted by the caller's bookkeeping.
  bool spans_t(uint64_t start, uint64_t end) const { return start <= t_ns_ && end > t_ns_; }
  void flush() {
    if (pending_.empty()) return;
    if (auto r = w_.write(pending_); !r) {
      std::fprintf(stderr, "history_gen: %s\n", r.error().message.c_str());
      std::exit(1);
    }
    pending_.clear();
  }
  size_t count() const { return count_; }

  std::string cwd_ = "/", cgroup_ = "0::/system.slice\n";
  uint32_t uid_ = 0;
  int32_t sid_ = 1, tty_ = 0;

 private:
  int next_pid() {
    if (++pid_ >= 32768) pid_ = 300;
    return pid_;
  }
  // In place (as the recorder does): a Record built from a temporary trips
  // GCC's maybe-uninitialized.
  template <class T>
  void put(T&& r) {
    pending_.emplace_back(std::in_place_type<std::decay_t<T>>, std::forward<T>(r));
    if (pending_.size() >= kBatch) flush();
  }
  store::Writer& w_;
  uint64_t t_ns_;
  std::vector<store::Record> pending_;
  size_t count_ = 0;
  int pid_ = 1000;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: history_gen DB [PROCESSES] [ORPHAN_PID]\n");
    return 2;
  }
  const std::string db = argv[1];
  const size_t target = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1'000'000;
  const int orphan = argc > 3 ? std::atoi(argv[3]) : 0;
  const uint64_t now = clock_ns(CLOCK_BOOTTIME);
  const int64_t offset = static_cast<int64_t>(clock_ns(CLOCK_REALTIME)) - static_cast<int64_t>(now);
  const uint64_t first = now / 50, last = now / 10 * 9;
  // T: a whole second of Unix time in the middle of the span.
  int64_t t_unix = (static_cast<int64_t>((first + last) / 2) + offset) / static_cast<int64_t>(kSec) *
                   static_cast<int64_t>(kSec);
  const uint64_t t_ns = static_cast<uint64_t>(t_unix - offset);

  store::RunInfo run;
  run.boot_id = store::read_boot_id("/proc");
  run.realtime_offset_ns = offset;
  run.now_ns = first;
  run.pid = getpid();
  run.source = "history_gen";
  auto w = store::Writer::open(db, run);
  if (!w) {
    std::fprintf(stderr, "history_gen: %s\n", w.error().message.c_str());
    return 1;
  }
  Gen g(*w, t_ns);
  std::mt19937_64 rng(20261204);
  auto uniform = [&](uint64_t lo, uint64_t hi) { return lo + rng() % (hi - lo + 1); };
  int alive_at_t = 0;

  // systemd and the services, alive throughout.
  const ProcessKey init = g.spawn({}, start_ns_of(1), nullptr, "systemd", nullptr, nullptr, 1, store::kFlagBackfilled);
  const char* services[] = {"sshd", "cron", "nginx", "postgres", "dockerd", "containerd", "rsyslogd", "dbus-daemon",
                            "systemd-journald", "systemd-logind", "chronyd", "redis-server"};
  alive_at_t += g.spans_t(init.start_time_ns, UINT64_MAX);
  std::vector<ProcessKey> svc;
  ProcessKey sshd{}, cron{};
  for (int i = 0; i < 96; ++i) {
    std::string name = services[i % std::size(services)];
    Cmd c{name.substr(0, 15), "/usr/sbin/" + name, nul_join({"/usr/sbin/" + name, "-D"})};
    std::string cg = "0::/system.slice/" + name + ".service\n";
    svc.push_back(g.spawn(init, first + kSec + static_cast<uint64_t>(i) * kMs, &c, "systemd", nullptr, &cg));
    if (name == "sshd" && !sshd.pid) sshd = svc.back();
    if (name == "cron" && !cron.pid) cron = svc.back();
    if (g.spans_t(svc.back().start_time_ns, UINT64_MAX)) ++alive_at_t;
  }

  // The command pool: repeated command lines, some with a unique argument.
  const char* words[] = {"ls", "git", "grep", "make", "cat", "less", "vim", "python3", "ssh", "find", "sed", "awk",
                         "curl", "tar", "docker", "kubectl", "journalctl", "systemctl", "top", "du"};
  std::vector<Cmd> pool;
  for (int i = 0; i < 3000; ++i) {
    std::string w0 = words[i % std::size(words)];
    pool.push_back({w0, "/usr/bin/" + w0,
                    nul_join({w0, "-" + std::string(1, static_cast<char>('a' + i % 26)), "arg" + std::to_string(i / 20),
                              "file" + std::to_string(i % 97)})});
  }
  const Cmd bash{"bash", "/usr/bin/bash", nul_join({"-bash"})};
  const Cmd sshd_session{"sshd-session", "/usr/lib/openssh/sshd-session", nul_join({"sshd-session: user [priv]"})};
  const Cmd rsync{"rsync", "/usr/bin/rsync", nul_join({"rsync", "-a", "/srv/data", "backup:/srv/data"})};

  // Sessions until the target count, in time order across the span; the
  // make -j burst at T and the orphan chain are written after them.
  const size_t reserve = 9'700;
  uint64_t clock = first + 2 * kSec;
  const uint64_t step = (last - clock) / ((target - reserve) / 60 + 1);
  int session = 0;
  while (g.count() + reserve < target) {
    ++session;
    uint64_t s0 = clock;
    clock += step;
    g.uid_ = 1000 + static_cast<uint32_t>(session % 40);
    g.sid_ = static_cast<int32_t>(session % 30000 + 1000), g.tty_ = 34816 + session % 64;
    g.cwd_ = "/home/u" + std::to_string(g.uid_) + "/proj" + std::to_string(session % 50);
    g.cgroup_ = "0::/user.slice/user-" + std::to_string(g.uid_) + ".slice/session-" + std::to_string(session) + ".scope\n";
    std::string env = nul_join({"SSH_CONNECTION=10.0.0." + std::to_string(session % 250) + " 5" +
                                    std::to_string(session % 9000) + " 10.0.0.1 22",
                                "SSH_TTY=/dev/pts/" + std::to_string(session % 64)});
    ProcessKey priv = g.spawn(sshd, s0, &sshd_session, "sshd");
    ProcessKey shell = g.spawn(priv, s0 + 5 * kMs, &bash, "sshd-session", &env);
    uint64_t t = s0 + 50 * kMs;
    int commands = static_cast<int>(uniform(20, 60));
    for (int c = 0; c < commands; ++c) {
      const Cmd& cmd = pool[uniform(0, pool.size() - 1)];
      Cmd unique;
      const Cmd* run_cmd = &cmd;
      if (rng() % 5 == 0) {  // a unique argument (a file name, a commit)
        unique = cmd;
        unique.argv += '\0' + std::to_string(rng() % 1'000'000'007);
        run_cmd = &unique;
      }
      if (rng() % 500 == 0) run_cmd = &rsync;
      uint64_t dur = uniform(2 * kMs, rng() % 10 == 0 ? 20 * kSec : 300 * kMs);
      if (rng() % 10 == 0) {  // a script: subshells (fork only) running commands
        Cmd script{"bash", "/usr/bin/bash", nul_join({"bash", "./build.sh", "--fast"})};
        ProcessKey sk = g.spawn(shell, t, &script, "bash");
        uint64_t u = t + 2 * kMs;
        for (int j = 0; j < 4; ++j) {
          ProcessKey sub = g.spawn(sk, u, nullptr, "bash");
          ProcessKey leaf = g.spawn(sub, u + kMs, &pool[uniform(0, pool.size() - 1)], "bash");
          u += uniform(3 * kMs, 40 * kMs);
          g.exit(leaf, u), g.exit(sub, u + kMs);
          alive_at_t += g.spans_t(sub.start_time_ns, u + kMs) + g.spans_t(leaf.start_time_ns, u);
        }
        g.exit(sk, u + kMs);
        alive_at_t += g.spans_t(t, u + kMs);
        t = u + 2 * kMs;
      } else {
        ProcessKey k = g.spawn(shell, t, run_cmd, "bash");
        g.exit(k, t + dur, rng() % 20 == 0 ? 1 << 8 : 0);
        alive_at_t += g.spans_t(t, t + dur);
        t += dur + uniform(100 * kMs, 3 * kSec);
      }
    }
    g.exit(shell, t), g.exit(priv, t + kMs);
    alive_at_t += g.spans_t(s0, t + kMs) + g.spans_t(s0 + 5 * kMs, t);
  }

  // The make -j burst: workers spanning T bring the count to 10,000.
  {
    g.uid_ = 1000, g.cwd_ = "/home/u1000/big", g.cgroup_ = "0::/user.slice/user-1000.slice/session-1.scope\n";
    const Cmd make{"make", "/usr/bin/make", nul_join({"make", "-j10000"})};
    const Cmd cc1{"cc1", "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", nul_join({"cc1", "-quiet", "unit.c", "-O2"})};
    ProcessKey mk = g.spawn(sshd, t_ns - 60 * kSec, &make, "sshd");
    int workers = kAliveAtT - alive_at_t - 1;
    for (int i = 0; i < workers; ++i) {
      uint64_t s = t_ns - 50 * kSec + static_cast<uint64_t>(i) * (40 * kSec / static_cast<uint64_t>(workers));
      ProcessKey k = g.spawn(mk, s, &cc1, "make");
      g.exit(k, t_ns + uniform(kSec, 30 * kSec));
    }
    g.exit(mk, t_ns + 40 * kSec);
    alive_at_t = kAliveAtT;
  }

  // The orphan: 10 exited ancestors under cron, forked just before it.
  if (orphan > 0) {
    uint64_t o_start = start_ns_of(orphan);
    const Cmd sh{"sh", "/usr/bin/dash", nul_join({"/bin/sh", "-c", "/opt/jobs/nightly.sh"})};
    const Cmd nightly{"nightly.sh", "/usr/bin/bash", nul_join({"/bin/bash", "/opt/jobs/nightly.sh"})};
    const Cmd daemon{"sleep", "/usr/bin/sleep", nul_join({"sleep", "100000"})};
    g.uid_ = 0, g.cwd_ = "/root", g.cgroup_ = "0::/system.slice/cron.service\n";
    std::vector<ProcessKey> chain;
    ProcessKey up = cron;
    for (int i = 0; i < 10; ++i) {
      uint64_t at = o_start - static_cast<uint64_t>(10 - i) * 20 * kMs;
      const Cmd* c = i == 0 ? nullptr : i == 1 ? &sh : i == 2 ? &nightly : (i % 2 ? nullptr : &nightly);
      up = g.spawn(up, at, c, i < 2 ? "cron" : "nightly.sh");
      chain.push_back(up);
    }
    ProcessKey o = g.spawn(up, o_start, &daemon, "nightly.sh", nullptr, nullptr, orphan);
    for (size_t i = chain.size(); i-- > 0;) g.exit(chain[i], o_start + 5 * kMs + (chain.size() - i) * kMs);
    g.reparent(o, o_start + 6 * kMs, init);
  }
  g.flush();
  if (auto r = w->stop(last); !r) {
    std::fprintf(stderr, "history_gen: %s\n", r.error().message.c_str());
    return 1;
  }
  std::printf("processes=%zu\nalive_at=%d\nat=%s\nat_unix_ns=%lld\nspan_first=%s\nspan_last=%s\norphan=%d\n"
              "common_name=git\nrare_name=rsync\n",
              g.count(), alive_at_t, rfc3339(t_unix).c_str(), static_cast<long long>(t_unix),
              rfc3339(static_cast<int64_t>(first) + offset).c_str(), rfc3339(static_cast<int64_t>(last) + offset).c_str(),
              orphan);
  return 0;
}
