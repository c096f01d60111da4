// The history database on real SQLite files in a temporary directory: the
// writer's records read back through History, interning, a batch that
// fails on a full database, retention, the schema's versions and the files
// it must refuse (and leave as they were), and the recorder fed synthetic
// events over a FakeProcfs.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/live_tree.h"
#include "fake_procfs.h"
#include "procfs/reader.h"
#include "store/history.h"
#include "store/recorder.h"
#include "store/schema.h"
#include "store/sqlite.h"
#include "store/writer.h"

// GCC sees the record variants built from temporaries below as read
// uninitialised (a known false positive of -Wmaybe-uninitialized with
// std::variant); every field has a default member initialiser.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

namespace lineage::store {
namespace {

namespace fs = std::filesystem;
using core::ProcessKey;

constexpr uint64_t kS = 1'000'000'000;
constexpr uint64_t kMs = 1'000'000;
constexpr int64_t kOffset = 1'700'000'000 * int64_t{kS};  // Unix ns of boot ns 0

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "storetest.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

RunInfo run_info(const std::string& boot = "boot-a", uint64_t now_ns = 1 * kS) {
  return RunInfo{boot, kOffset, now_ns, 4242, "test"};
}

ForkRecord fork_of(ProcessKey key, ProcessKey parent, const std::string& comm, uint32_t uid = 0) {
  ForkRecord f;
  f.key = key;
  f.parent = parent;
  f.fork_ns = key.start_time_ns;
  f.comm = comm;
  f.uid = f.gid = uid;
  return f;
}

ExecRecord exec_of(ProcessKey key, uint64_t t, const std::string& exe, const std::string& argv, uint32_t uid = 0) {
  ExecRecord e;
  e.key = key;
  e.time_ns = t;
  e.comm = exe.substr(exe.rfind('/') + 1);
  e.exe = exe;
  e.argv = argv;
  e.uid = e.gid = uid;
  return e;
}

ExitRecord exit_of(ProcessKey key, uint64_t t, int32_t status = 0) {
  ExitRecord x;
  x.key = key;
  x.time_ns = t;
  x.status = status;
  return x;
}

// The one process that held pid in the history (a default one, and a
// failure, when there is not exactly one).
RecordedProcess only_holder(const History& h, int32_t pid) {
  auto r = h.query({.pid = pid});
  EXPECT_TRUE(r && r->size() == 1u) << pid;
  return r && r->size() == 1u ? r->front() : RecordedProcess{};
}

int64_t count(const Db& db, const std::string& sql) {
  auto n = db.scalar(sql);
  EXPECT_TRUE(n) << (n ? "" : n.error().message);
  return n ? *n : -1;
}

// Every id a row names is there: no exec, change or process points at a
// row a rolled-back transaction took away.
int64_t dangling(const Db& db) {
  return count(db,
               "SELECT (SELECT count(*) FROM execs e WHERE "
               "  (e.exe IS NOT NULL AND NOT EXISTS (SELECT 1 FROM paths WHERE id=e.exe)) OR "
               "  (e.argv IS NOT NULL AND NOT EXISTS (SELECT 1 FROM argvs WHERE id=e.argv)) OR "
               "  (e.context IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contexts WHERE id=e.context)) OR "
               "  (e.comm IS NOT NULL AND NOT EXISTS (SELECT 1 FROM comms WHERE id=e.comm)) OR "
               "  (e.file IS NOT NULL AND NOT EXISTS (SELECT 1 FROM files WHERE id=e.file)) OR "
               "  NOT EXISTS (SELECT 1 FROM processes WHERE id=e.process)) + "
               "(SELECT count(*) FROM processes p WHERE "
               "  (p.parent IS NOT NULL AND NOT EXISTS (SELECT 1 FROM processes q WHERE q.id=p.parent)) OR "
               "  (p.comm IS NOT NULL AND NOT EXISTS (SELECT 1 FROM comms WHERE id=p.comm))) + "
               "(SELECT count(*) FROM changes c WHERE NOT EXISTS (SELECT 1 FROM processes WHERE id=c.process) OR "
               "  (c.kind=1 AND NOT EXISTS (SELECT 1 FROM processes WHERE id=c.value))) + "
               "(SELECT count(*) FROM contexts c WHERE "
               "  (c.env IS NOT NULL AND NOT EXISTS (SELECT 1 FROM envs WHERE id=c.env)) OR "
               "  (c.cwd IS NOT NULL AND NOT EXISTS (SELECT 1 FROM paths WHERE id=c.cwd)) OR "
               "  (c.cgroup IS NOT NULL AND NOT EXISTS (SELECT 1 FROM paths WHERE id=c.cgroup)))");
}

std::string argv_of(const RecordedProcess& p) {
  std::string out;
  if (const RecordedExec* e = p.last_exec()) {
    for (const auto& a : e->argv) out += (out.empty() ? "" : " ") + a;
  }
  return out;
}

// The processes of the round trip, boot ns (Unix = kOffset + these):
//
//   init(1)      1 s ...................................... alive
//   └─ bash(100) 2 s, exec 2.1 s .......................... alive
//      ├─ 200    3 s, exec sleep 3.1 s, exit 5 s (code 3)
//      │  └─ 300 4 s, exec daemon 4.1 s; re-parented to init at 5 s
//      └─ 200    6 s, exec make 6.1 s (uid 1000) .......... alive   (pid reused)
const ProcessKey kInit{1, 1 * kS}, kBash{100, 2 * kS}, kSleep{200, 3 * kS}, kDaemon{300, 4 * kS},
    kMake{200, 6 * kS};

std::vector<Record> round_trip_records() {
  ForkRecord init = fork_of(kInit, {}, "systemd");
  init.flags = kFlagBackfilled;
  ExecRecord bash = exec_of(kBash, 2 * kS + 100 * kMs, "/usr/bin/bash", std::string("-bash\0-l", 8), 1000);
  bash.ruid = 1000;
  bash.cwd = "/home/ann";
  bash.cgroup = "0::/user.slice/user-1000.slice/session-4.scope\n";
  bash.env = std::string("SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22\0SSH_TTY=/dev/pts/3", 60);
  bash.sid = 100, bash.pgid = 100, bash.tty = 34819;
  bash.login_uid = 1000;
  bash.dev = 65024, bash.ino = 1234567, bash.ctime_ns = 1663687647123456789;
  ExecRecord sshd_like = exec_of(kDaemon, 4 * kS + 100 * kMs, "/usr/sbin/daemon", "daemon");
  sshd_like.login_uid = 4294967295;  // unset
  sshd_like.dev = 65024, sshd_like.ino = 7654321, sshd_like.ctime_ns = 1663687647000000000;
  ExecRecord make = exec_of(kMake, 6 * kS + 100 * kMs, "/usr/bin/make", std::string("make\0-j2", 8), 1000);
  make.dev = bash.dev, make.ino = bash.ino, make.ctime_ns = bash.ctime_ns;  // the same file as bash's
  sshd_like.verified = false;
  sshd_like.unverified_reason = "not owned by a package";
  ChangeRecord reparent;
  reparent.key = kDaemon;
  reparent.kind = kChangeParent;
  reparent.time_ns = 5 * kS;
  reparent.parent = kInit;
  return {init,
          fork_of(kBash, kInit, "systemd", 1000),
          bash,
          fork_of(kSleep, kBash, "bash", 1000),
          exec_of(kSleep, 3 * kS + 100 * kMs, "/usr/bin/sleep", std::string("sleep\0" "60", 8), 1000),
          fork_of(kDaemon, kSleep, "sleep", 0),
          sshd_like,
          exit_of(kSleep, 5 * kS, 3 << 8),
          reparent,
          fork_of(kMake, kBash, "bash", 1000),
          make};
}

// A file identity is one files row and a context one contexts row (NULLs
// matching NULLs), whether the writer remembers them or finds them in the
// database (another run, empty caches), and they read back.
TEST(StoreWriter, FileAndContextAreInternedAcrossRuns) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  auto exec = [](ProcessKey k, uint64_t ino, const char* cwd) {
    ExecRecord x = exec_of(k, k.start_time_ns + kMs, "/usr/bin/bash", "bash", 1000);
    x.dev = 65024, x.ino = ino, x.ctime_ns = 1663687647123456789;
    x.cwd = cwd;  // no ruid, tty, login uid or environment: NULLs
    x.sid = k.pid, x.pgid = k.pid;  // each its own job: not in the context
    return x;
  };
  for (int run = 0; run < 2; ++run) {
    auto w = Writer::open(path, run_info());
    ASSERT_TRUE(w) << w.error().message;
    ProcessKey a{100 + run, (10 + run) * kS}, b{200 + run, (10 + run) * kS}, c{300 + run, (10 + run) * kS};
    ASSERT_TRUE(w->write({fork_of(a, {}, "sh"), exec(a, 77, "/srv"), fork_of(b, {}, "sh"), exec(b, 78, "/srv"),
                          fork_of(c, {}, "sh"), exec(c, 78, "/tmp")}));
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM files"), 2) << run;
    EXPECT_EQ(count(w->db(), "SELECT count(DISTINCT file) FROM execs"), 2) << run;
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM contexts"), 2) << run;
    EXPECT_EQ(dangling(w->db()), 0);
  }
  auto h = History::open(path);
  ASSERT_TRUE(h) << h.error().message;
  auto p = h->query({.pid = 201});
  ASSERT_TRUE(p && p->size() == 1u && (*p)[0].last_exec());
  const RecordedExec& e = *(*p)[0].last_exec();
  EXPECT_EQ(e.dev, 65024u);
  EXPECT_EQ(e.ino, 78u);
  EXPECT_EQ(e.cwd, "/srv");
  EXPECT_EQ(e.uid, 1000u);
  EXPECT_EQ(e.sid, 201);
  EXPECT_FALSE(e.ruid);
  EXPECT_FALSE(e.login_uid);
  EXPECT_FALSE(e.tty);
  EXPECT_EQ(h->query({.uid = 1000})->size(), 6u);  // --user through the contexts
}

TEST(StoreWriter, RoundTripThroughHistory) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  {
    auto w = Writer::open(path, run_info());
    ASSERT_TRUE(w) << w.error().message;
    auto r = w->write(round_trip_records());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(dangling(w->db()), 0);
    // Two files for three execs that name one: interned (schema 4).
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM files"), 2);
    EXPECT_EQ(count(w->db(), "SELECT count(DISTINCT file) FROM execs"), 2);
    EXPECT_EQ(count(w->db(), "PRAGMA auto_vacuum"), 2);  // incremental: retention can shrink the file
    EXPECT_EQ(count(w->db(), "SELECT c.login_uid FROM execs e JOIN contexts c ON c.id=e.context "
                             "WHERE e.process=(SELECT id FROM processes WHERE pid=300)"),
              -1);
  }
  auto h = History::open(path);
  ASSERT_TRUE(h) << h.error().message;
  int64_t boot = h->boot_of("boot-a");
  ASSERT_NE(boot, 0);
  EXPECT_EQ(h->boot_of("another-boot"), 0);

  // find: a /proc start time (tick resolution) names the recorded process.
  auto bash = h->find(boot, {100, 2 * kS + 7 * kMs}, 10 * kMs);
  ASSERT_TRUE(bash);
  ASSERT_TRUE(*bash);
  EXPECT_EQ((*bash)->key, kBash);
  EXPECT_FALSE(*h->find(boot, {100, 2 * kS + 20 * kMs}, 10 * kMs));  // two ticks off: another process
  EXPECT_FALSE(*h->find(boot, {101, 2 * kS}, 10 * kMs));
  const RecordedProcess& b = **bash;
  EXPECT_EQ(b.fork_comm, "systemd");
  EXPECT_EQ(b.uid, 1000u);
  EXPECT_EQ(b.realtime_offset_ns, kOffset);
  EXPECT_FALSE(b.exit_ns);
  ASSERT_EQ(b.execs.size(), 1u);
  const RecordedExec& e = b.execs[0];
  EXPECT_EQ(e.comm, "bash");
  EXPECT_EQ(e.exe, "/usr/bin/bash");
  EXPECT_EQ(e.argv, (std::vector<std::string>{"-bash", "-l"}));
  EXPECT_EQ(e.cwd, "/home/ann");
  EXPECT_EQ(e.cgroup, "0::/user.slice/user-1000.slice/session-4.scope\n");
  EXPECT_EQ(e.env, (std::vector<std::string>{"SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22", "SSH_TTY=/dev/pts/3"}));
  EXPECT_EQ(e.sid, 100);
  EXPECT_EQ(e.tty, 34819);
  EXPECT_EQ(e.login_uid, 1000u);
  EXPECT_EQ(e.ruid, 1000u);
  EXPECT_EQ(e.dev, 65024u);
  EXPECT_EQ(e.ino, 1234567u);
  EXPECT_FALSE(e.verified);
  EXPECT_EQ(b.comm_at(2 * kS + 50 * kMs), "systemd");  // forked, not yet exec'd
  EXPECT_EQ(b.comm_at(3 * kS), "bash");

  // by_row gives the same process; its fork parent is init's row.
  auto again = h->by_row(b.row);
  ASSERT_TRUE(again && *again);
  EXPECT_EQ((*again)->key, kBash);
  auto init = h->by_row(b.parent_row);
  ASSERT_TRUE(init && *init);
  EXPECT_EQ((*init)->key, kInit);
  EXPECT_TRUE((*init)->flags & kFlagBackfilled);
  EXPECT_FALSE(*h->by_row(9999));

  // Both holders of pid 200, newest first; holder_at picks by time.
  HistoryFilter by_pid;
  by_pid.pid = 200;
  auto holders = h->query(by_pid);
  ASSERT_TRUE(holders);
  ASSERT_EQ(holders->size(), 2u);
  EXPECT_EQ((*holders)[0].key, kMake);
  EXPECT_EQ((*holders)[1].key, kSleep);
  EXPECT_EQ((*holders)[1].exit_ns, 5 * kS);
  EXPECT_EQ((*holders)[1].status, 3 << 8);
  EXPECT_EQ(describe_status(*(*holders)[1].status), "code 3");
  EXPECT_EQ(describe_status(9), "signal 9 (KILL)");
  auto then = h->holder_at(200, kOffset + 4 * kS);
  ASSERT_TRUE(then && *then);
  EXPECT_EQ((*then)->key, kSleep);
  EXPECT_EQ(argv_of(**then), "sleep 60");
  auto now = h->holder_at(200, kOffset + 7 * kS);
  ASSERT_TRUE(now && *now);
  EXPECT_EQ((*now)->key, kMake);
  EXPECT_FALSE(*h->holder_at(200, kOffset + 5 * kS + 500 * kMs));  // between the two
  EXPECT_FALSE(*h->holder_at(200, kOffset + 2 * kS));              // before either

  // Fork children, oldest first; the daemon's parent over time.
  auto kids = h->children(b.row);
  ASSERT_TRUE(kids);
  ASSERT_EQ(kids->size(), 2u);
  EXPECT_EQ((*kids)[0], (*then)->row);
  EXPECT_EQ((*kids)[1], (*now)->row);
  auto daemon = h->find(boot, kDaemon, 0);
  ASSERT_TRUE(daemon && *daemon);
  EXPECT_EQ((*daemon)->parent_row, (*then)->row);
  EXPECT_EQ((*daemon)->parent_at(4 * kS + 500 * kMs), (*then)->row);
  EXPECT_EQ((*daemon)->parent_at(5 * kS), (*init)->row);
  ASSERT_EQ((*daemon)->execs.size(), 1u);
  EXPECT_EQ((*daemon)->execs[0].verified, false);
  EXPECT_EQ((*daemon)->execs[0].unverified_reason, "not owned by a package");
  EXPECT_EQ((*daemon)->execs[0].login_uid, 4294967295u);  // stored as -1
  EXPECT_EQ((*daemon)->execs[0].ino, 7654321u);
  auto make = h->holder_at(200, kOffset + 7 * kS);
  ASSERT_TRUE(make && *make && (*make)->last_exec());
  EXPECT_EQ((*make)->last_exec()->ino, 1234567u);

  // Alive at a moment, each boot's clock turned into Unix time.
  auto keys = [](const std::vector<RecordedProcess>& v) {
    std::vector<ProcessKey> out;
    for (const auto& p : v) out.push_back(p.key);
    std::sort(out.begin(), out.end());
    return out;
  };
  auto at45 = h->alive_at(kOffset + 4 * kS + 500 * kMs, 100);
  ASSERT_TRUE(at45);
  EXPECT_EQ(keys(*at45), (std::vector<ProcessKey>{kInit, kBash, kSleep, kDaemon}));
  auto at7 = h->alive_at(kOffset + 7 * kS, 100);
  ASSERT_TRUE(at7);
  EXPECT_EQ(keys(*at7), (std::vector<ProcessKey>{kInit, kBash, kMake, kDaemon}));
  EXPECT_EQ(h->alive_at(kOffset + 7 * kS, 2)->size(), 2u);

  // Filters.
  auto query = [&](HistoryFilter f) {
    auto r = h->query(f);
    EXPECT_TRUE(r);
    return r ? keys(*r) : std::vector<ProcessKey>{};
  };
  EXPECT_EQ(query({.name = "make"}), (std::vector<ProcessKey>{kMake}));
  // A process is named by its execs' comms; one that never exec'd (init
  // here, backfilled) by its fork comm. bash's children exec'd: not "bash".
  EXPECT_EQ(query({.name = "system"}), (std::vector<ProcessKey>{kInit}));
  EXPECT_EQ(query({.name = "bash"}), (std::vector<ProcessKey>{kBash}));
  EXPECT_EQ(query({.name = "a", .limit = 2}), (std::vector<ProcessKey>{kMake, kDaemon}));  // the newest of 3
  EXPECT_EQ(query({.exe = "/usr/bin/sleep"}), (std::vector<ProcessKey>{kSleep}));
  EXPECT_TRUE(query({.exe = "/usr/bin/slee"}).empty());
  EXPECT_EQ(query({.uid = 0}), (std::vector<ProcessKey>{kInit, kDaemon}));
  EXPECT_EQ(query({.uid = 1000}), (std::vector<ProcessKey>{kBash, kSleep, kMake}));
  EXPECT_EQ(query({.since_unix_ns = kOffset + 5 * kS + 1}), (std::vector<ProcessKey>{kInit, kBash, kMake, kDaemon}));
  EXPECT_EQ(query({.until_unix_ns = kOffset + 2 * kS + 500 * kMs}), (std::vector<ProcessKey>{kInit, kBash}));
  EXPECT_EQ(query({.limit = 1}), (std::vector<ProcessKey>{kMake}));

  // Coverage: where recording began, the newest record, the running recorder.
  auto cov = h->coverage();
  ASSERT_TRUE(cov);
  EXPECT_EQ(cov->first_unix_ns, kOffset + 1 * kS);
  EXPECT_EQ(cov->last_unix_ns, kOffset + 6 * kS);  // make's fork: the newest time recorded
  EXPECT_EQ(cov->processes, 5);
  EXPECT_EQ(cov->recorder_pid, 4242);
}

TEST(StoreWriter, StoppedRunIsNotARecorder) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  {
    auto w = Writer::open(path, run_info());
    ASSERT_TRUE(w);
    w->set_counters(17, 2, 3 * kS, 5.0);
    ASSERT_TRUE(w->write({fork_of(kInit, {}, "init")}));
    ASSERT_TRUE(w->stop(4 * kS));
  }
  auto h = History::open(path);
  ASSERT_TRUE(h);
  auto cov = h->coverage();
  ASSERT_TRUE(cov);
  EXPECT_EQ(cov->recorder_pid, 0);
  EXPECT_EQ(count(h->db(), "SELECT events FROM runs"), 17);
  EXPECT_EQ(count(h->db(), "SELECT lost FROM runs"), 2);
  // A clean stop leaves no WAL to replay.
  EXPECT_FALSE(fs::exists(path + "-wal") && fs::file_size(path + "-wal") > 0);
}

TEST(StoreWriter, InternsEachStringOnce) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  static const char kArgv[] = "python3\0-m\0http.server\0" "8000";
  const std::string argv(kArgv, sizeof kArgv - 1);  // the NULs inside are part of it
  {
    auto w = Writer::open(path, run_info());
    ASSERT_TRUE(w);
    std::vector<Record> batch;
    for (int pid = 10; pid < 30; ++pid) {
      ProcessKey k{pid, uint64_t(pid) * kS};
      batch.push_back(fork_of(k, {}, "sh"));
      batch.push_back(exec_of(k, k.start_time_ns + kMs, "/usr/bin/python3", argv));
    }
    ASSERT_TRUE(w->write(batch));
  }
  {
    // A second run (empty caches) finds the stored strings again.
    auto w = Writer::open(path, run_info());
    ASSERT_TRUE(w);
    ProcessKey k{50, 50 * kS};
    ASSERT_TRUE(w->write({fork_of(k, {}, "sh"), exec_of(k, k.start_time_ns + kMs, "/usr/bin/python3", argv)}));
    ProcessKey other{51, 51 * kS};
    ASSERT_TRUE(w->write({fork_of(other, {}, "sh"), exec_of(other, 51 * kS + kMs, "/usr/bin/python3", "python3")}));
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM argvs"), 2);
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM paths"), 1);
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM comms"), 2);  // sh, python3
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM execs"), 22);
    EXPECT_EQ(count(w->db(), "SELECT count(DISTINCT argv) FROM execs"), 2);
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM boots"), 1);
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM runs"), 2);
  }
}

// Schema 5 has no hash index on command lines: the writer finds the ones
// it wrote through a table in memory, checked against the stored text.
// Past the exact-text cache, across runs, with a remembered row deleted
// behind its back, and for two command lines of the same 32-bit hash,
// every exec reads back its own command line, and a command line met
// again is not written twice.
TEST(StoreWriter, CommandLinesAreFoundWithoutAHashIndex) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  // Two texts with the same text_hash (a birthday search: ~80,000 tries).
  std::string same_a, same_b;
  {
    std::unordered_map<int64_t, std::string> seen;
    for (int i = 0; same_b.empty(); ++i) {
      std::string t = std::string("job\0--n\0", 8) + std::to_string(i);
      auto [it, fresh] = seen.emplace(text_hash(t), t);
      if (!fresh) same_a = it->second, same_b = t;
    }
    ASSERT_EQ(text_hash(same_a), text_hash(same_b));
    ASSERT_NE(same_a, same_b);
  }
  const int kDistinct = 5000;  // more than the writer's exact-text cache holds
  auto argv = [](int i) { return std::string("/bin/true\0storm-", 16) + std::to_string(i) + std::string("\0-x", 3); };
  int pid = 100;
  auto batch = [&](int from, int to) {
    std::vector<Record> out;
    for (int i = from; i < to; ++i, ++pid) {
      ProcessKey k{pid, uint64_t(pid) * kMs};
      out.push_back(fork_of(k, {}, "sh"));
      out.push_back(exec_of(k, k.start_time_ns + 1, "/bin/true", argv(i)));
    }
    return out;
  };
  {
    auto w = Writer::open(path, run_info());
    ASSERT_TRUE(w) << w.error().message;
    ASSERT_TRUE(w->write(batch(0, kDistinct)));
    ASSERT_TRUE(w->write(batch(0, kDistinct)));  // the first ones left the exact-text cache
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM argvs"), kDistinct);
    ProcessKey a{90, 90 * kMs}, b{91, 91 * kMs};
    ASSERT_TRUE(w->write({fork_of(a, {}, "job"), exec_of(a, a.start_time_ns + 1, "/bin/job", same_a),
                          fork_of(b, {}, "job"), exec_of(b, b.start_time_ns + 1, "/bin/job", same_b)}));
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM argvs"), kDistinct + 2);
  }
  {
    // Another run remembers what the file holds; a row deleted behind its
    // back (as retention's collection would) is written again.
    ASSERT_TRUE(Db::open(path, Db::Mode::kReadWrite)->exec("DELETE FROM argvs WHERE id=7"));
    auto w = Writer::open(path, run_info());
    ASSERT_TRUE(w) << w.error().message;
    ASSERT_TRUE(w->write(batch(0, 10)));
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM argvs"), kDistinct + 2);
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM argvs WHERE text=CAST(x'" +
                                 [&] {
                                   std::string hex;
                                   for (unsigned char c : argv(6)) hex += fmt::format("{:02x}", c);
                                   return hex;
                                 }() + "' AS BLOB)"),
              1);
  }
  auto h = History::open(path);
  ASSERT_TRUE(h) << h.error().message;
  auto argv_of = [&](int32_t p) {
    auto r = h->query({.pid = p});
    EXPECT_TRUE(r && !r->empty() && r->front().last_exec()) << p;
    return r && !r->empty() && r->front().last_exec() ? r->front().last_exec()->argv : std::vector<std::string>{};
  };
  EXPECT_EQ(argv_of(90), (std::vector<std::string>{"job", "--n", same_a.substr(8)}));
  EXPECT_EQ(argv_of(91), (std::vector<std::string>{"job", "--n", same_b.substr(8)}));
  EXPECT_EQ(argv_of(100 + 2 * kDistinct + 6), (std::vector<std::string>{"/bin/true", "storm-6", "-x"}));
  EXPECT_EQ(argv_of(100 + kDistinct + 3), (std::vector<std::string>{"/bin/true", "storm-3", "-x"}));
}

// A row filled in after the fact (a parent known first as a placeholder,
// named by its child's fork): its ppid is stored only where no parent row
// names it, its fork time as an offset, and both read back.
TEST(StoreWriter, APlaceholderFilledInKeepsItsParentPidAndForkTime) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  auto w = Writer::open(path, run_info());
  ASSERT_TRUE(w) << w.error().message;
  ProcessKey init{1, 500}, shell{10, 1000}, child{20, 2000}, orphan{30, 3000};
  // The child's fork names the shell, unknown yet: a placeholder.
  ASSERT_TRUE(w->write({fork_of(child, shell, "sh")}));
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes WHERE pid=10 AND flags&4"), 1);
  // Then the shell's own fork (by init, unknown too), 7 ns after its start,
  // and a process whose fork names no parent.
  ForkRecord shell_fork = fork_of(shell, init, "bash");
  shell_fork.fork_ns = 1007;
  ASSERT_TRUE(w->write({shell_fork, fork_of(orphan, {}, "x")}));
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes WHERE ppid IS NULL AND pid IN (10, 20)"), 2);
  EXPECT_EQ(count(w->db(), "SELECT fork_after FROM processes WHERE pid=10"), 7);
  EXPECT_EQ(count(w->db(), "SELECT ppid FROM processes WHERE pid=30"), 0);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes WHERE pid=10 AND flags&4"), 0);
  auto h = History::open(path, ReadMode::kShared);
  ASSERT_TRUE(h) << h.error().message;
  RecordedProcess s = only_holder(*h, 10), c = only_holder(*h, 20), o = only_holder(*h, 30);
  EXPECT_EQ(s.ppid, 1);
  EXPECT_EQ(s.fork_ns, 1007u);
  EXPECT_EQ(c.ppid, 10);
  EXPECT_EQ(c.parent_row, s.row);
  EXPECT_EQ(o.ppid, 0);
  EXPECT_EQ(o.parent_row, 0);
}

// Long, distinct command lines: a batch of them needs new pages.
std::vector<Record> big_batch(int first_pid, int n) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    ProcessKey k{first_pid + i, uint64_t(100 + i) * kS};
    out.push_back(fork_of(k, kInit, "sh"));
    std::string argv = std::string("worker\0--id\0", 12) + std::to_string(first_pid + i) + '\0' + std::string(1500, 'a' + i % 26);
    ExecRecord x = exec_of(k, k.start_time_ns + kMs, "/opt/w/" + std::to_string(i % 7), argv);
    // Each worker its own file, context and environment, which retention
    // must collect with it.
    x.dev = 2049, x.ino = 500 + static_cast<uint64_t>(first_pid + i), x.ctime_ns = 1;
    x.cwd = "/srv/w" + std::to_string(first_pid + i);
    x.env = "TMUX=/tmp/tmux-0/w" + std::to_string(first_pid + i) + ",1,0";
    out.push_back(std::move(x));
    if (i % 3 == 0) out.push_back(exit_of(k, k.start_time_ns + 2 * kMs, i));
  }
  return out;
}

TEST(StoreWriter, FailedBatchRollsBackWholeAndRetriesCleanly) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  auto w = Writer::open(path, run_info());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write({fork_of(kInit, {}, "init"), exec_of(kInit, 1 * kS + kMs, "/sbin/init", "init")}));
  const int64_t processes = count(w->db(), "SELECT count(*) FROM processes");
  const int64_t execs = count(w->db(), "SELECT count(*) FROM execs");
  const int64_t argvs = count(w->db(), "SELECT count(*) FROM argvs");
  const int64_t paths = count(w->db(), "SELECT count(*) FROM paths");
  const int64_t contexts = count(w->db(), "SELECT count(*) FROM contexts");
  const int64_t files = count(w->db(), "SELECT count(*) FROM files");

  // The file may not grow: a real SQLITE_FULL.
  const int64_t pages = count(w->db(), "PRAGMA page_count");
  ASSERT_TRUE(w->db().exec("PRAGMA max_page_count=" + std::to_string(pages)));
  const std::vector<Record> batch = big_batch(1000, 60);
  auto failed = w->write(batch);
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("full"), std::string::npos) << failed.error().message;
  EXPECT_EQ(failed.error().message.find('\n'), std::string::npos);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes"), processes);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM execs"), execs);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM argvs"), argvs);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM paths"), paths);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM contexts"), contexts);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM files"), files);
  EXPECT_EQ(dangling(w->db()), 0);
  // Nothing half-open: the next statement is not inside a dead transaction.
  EXPECT_TRUE(sqlite3_get_autocommit(w->db().get()));

  // A second failure (the disk still full) changes nothing either.
  ASSERT_FALSE(w->write(batch));
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes"), processes);

  // Space returns: the same records, written whole.
  ASSERT_TRUE(w->db().exec("PRAGMA max_page_count=1073741823"));
  auto ok = w->write(batch);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes"), processes + 60);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM execs"), execs + 60);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM argvs"), argvs + 60);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM paths"), paths + 7 + 60);  // 7 executables, 60 working directories
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM contexts"), contexts + 60);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM files"), files + 60);
  EXPECT_EQ(dangling(w->db()), 0);

  auto h = History::open(path);
  ASSERT_TRUE(h) << h.error().message;
  int64_t boot = h->boot_of("boot-a");
  for (int i = 0; i < 60; ++i) {
    auto p = h->find(boot, {1000 + i, uint64_t(100 + i) * kS}, 0);
    ASSERT_TRUE(p && *p) << i;
    ASSERT_EQ((*p)->execs.size(), 1u) << i;
    const RecordedExec& e = (*p)->execs[0];
    EXPECT_EQ(e.exe, "/opt/w/" + std::to_string(i % 7));
    ASSERT_EQ(e.argv.size(), 4u);
    EXPECT_EQ(e.argv[2], std::to_string(1000 + i));
    EXPECT_EQ(e.argv[3], std::string(1500, 'a' + i % 26));
    EXPECT_EQ((*p)->exit_ns.has_value(), i % 3 == 0);
    auto parent = h->by_row((*p)->parent_row);
    ASSERT_TRUE(parent && *parent);
    EXPECT_EQ((*parent)->key, kInit);
  }
}

// Fills the database so that only a few pages are left, then writes a batch
// whose records fail at different points (a process insert, an interned
// string, an exec): each failure leaves the database exactly as it was.
TEST(StoreWriter, FailureAtAnyPointLeavesNoPartialBatch) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  auto w = Writer::open(path, run_info());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write({fork_of(kInit, {}, "init")}));
  for (int headroom = 0; headroom < 12; ++headroom) {
    const int64_t processes = count(w->db(), "SELECT count(*) FROM processes");
    const int64_t execs = count(w->db(), "SELECT count(*) FROM execs");
    const int64_t pages = count(w->db(), "PRAGMA page_count");
    ASSERT_TRUE(w->db().exec("PRAGMA max_page_count=" + std::to_string(pages + headroom)));
    auto batch = big_batch(10000 + headroom * 100, 40);
    auto r = w->write(batch);
    ASSERT_TRUE(w->db().exec("PRAGMA max_page_count=1073741823"));
    if (r) {
      EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes"), processes + 40);
      continue;
    }
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes"), processes) << headroom;
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM execs"), execs) << headroom;
    EXPECT_EQ(dangling(w->db()), 0) << headroom;
    ASSERT_TRUE(w->write(batch)) << headroom;
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes"), processes + 40) << headroom;
    EXPECT_EQ(count(w->db(), "SELECT count(*) FROM execs"), execs + 40) << headroom;
    EXPECT_EQ(dangling(w->db()), 0) << headroom;
  }
  EXPECT_EQ(count(w->db(), "PRAGMA integrity_check"), 0);  // "ok" reads as 0
  EXPECT_EQ(slurp(path).substr(0, 16), std::string("SQLite format 3\0", 16));
}

TEST(StoreWriter, CloseUnseenClosesThisBootsGoneAndOtherBootsOpen) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  const ProcessKey a10{10, 10 * kS}, a11{11, 11 * kS}, b20{20, 20 * kS}, b21{21, 21 * kS}, b22{22, 22 * kS};
  {
    auto w = Writer::open(path, run_info("boot-a"));
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write({fork_of(a10, {}, "a"), fork_of(a11, a10, "a"),
                          exec_of(a11, 11 * kS + 500 * kMs, "/usr/bin/a", "a")}));
  }
  {
    auto w = Writer::open(path, run_info("boot-b", 15 * kS));
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write({fork_of(b20, {}, "b"), fork_of(b21, b20, "b"), fork_of(b22, b20, "b")}));
  }
  auto w = Writer::open(path, run_info("boot-b", 30 * kS));
  ASSERT_TRUE(w);
  auto closed = w->close_unseen({b20, b22}, 30 * kS);
  ASSERT_TRUE(closed) << closed.error().message;
  EXPECT_EQ(*closed, 1u);

  auto h = History::open(path);
  ASSERT_TRUE(h);
  int64_t boot_a = h->boot_of("boot-a"), boot_b = h->boot_of("boot-b");
  auto get = [&](int64_t boot, ProcessKey k) {
    auto p = h->find(boot, k, 0);
    EXPECT_TRUE(p && *p);
    return p && *p ? **p : RecordedProcess{};
  };
  RecordedProcess p21 = get(boot_b, b21);
  EXPECT_EQ(p21.exit_ns, 30 * kS);
  EXPECT_TRUE(p21.flags & kFlagExitUnseen);
  EXPECT_FALSE(p21.status);
  for (ProcessKey k : {b20, b22}) {
    RecordedProcess p = get(boot_b, k);
    EXPECT_FALSE(p.exit_ns) << k.pid;
    EXPECT_FALSE(p.flags & kFlagExitUnseen) << k.pid;
  }
  // The other boot's processes ended with it: at their last record.
  RecordedProcess p10 = get(boot_a, a10), p11 = get(boot_a, a11);
  EXPECT_EQ(p10.exit_ns, 10 * kS);
  EXPECT_EQ(p11.exit_ns, 11 * kS + 500 * kMs);
  EXPECT_TRUE(p10.flags & kFlagExitUnseen);
  EXPECT_TRUE(p11.flags & kFlagExitUnseen);
  // A second pass finds nothing more to close.
  auto again = w->close_unseen({b20, b22}, 31 * kS);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0u);
}

int64_t process_count(const History& h) { return count(h.db(), "SELECT count(*) FROM processes"); }

bool recorded(const Writer& w, ProcessKey k) {
  return count(w.db(), "SELECT count(*) FROM processes WHERE pid=" + std::to_string(k.pid) +
                           " AND start_ns=" + std::to_string(k.start_time_ns)) == 1;
}

// init(1) alive
// ├─ a(10) exit 2 s
// │  └─ b(11) exit 3 s
// │     └─ c(12) alive            a and b stay while c lives
// ├─ old(13) exit 2 s            past keep: goes
// └─ recent(14) exit 95 s        within keep: stays
TEST(StoreWriter, PruneKeepsDeadAncestorsOfLiveProcesses) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  const ProcessKey a{10, 1 * kS + 1}, b{11, 1 * kS + 2}, c{12, 1 * kS + 3}, old{13, 1 * kS + 4},
      recent{14, 90 * kS};
  auto w = Writer::open(path, run_info());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write({fork_of(kInit, {}, "init"), fork_of(a, kInit, "a"), fork_of(b, a, "b"), fork_of(c, b, "c"),
                        exec_of(c, 1 * kS + 10, "/usr/bin/c", "c"), fork_of(old, kInit, "old"),
                        exec_of(old, 1 * kS + 10, "/usr/bin/old", "old\0x"), fork_of(recent, kInit, "recent"),
                        exit_of(a, 2 * kS), exit_of(b, 3 * kS), exit_of(old, 2 * kS), exit_of(recent, 95 * kS)}));
  const int64_t now = kOffset + 100 * kS;
  Writer::Retention keep{.keep_ns = 50 * kS};
  size_t total = 0;
  for (int i = 0; i < 10; ++i) {
    auto n = w->prune(keep, now, 100);
    ASSERT_TRUE(n) << n.error().message;
    total += *n;
    if (*n == 0) break;
  }
  EXPECT_EQ(total, 1u);
  EXPECT_FALSE(recorded(*w, old));
  for (ProcessKey k : {kInit, a, b, c, recent}) EXPECT_TRUE(recorded(*w, k)) << k.pid;
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM execs"), 1);  // old's went with it
  EXPECT_EQ(dangling(w->db()), 0);

  // c exits: the chain above it is no longer needed, leaf by leaf.
  ASSERT_TRUE(w->write({exit_of(c, 4 * kS)}));
  for (int i = 0; i < 10; ++i) {
    auto n = w->prune(keep, now, 1);  // a budget of one: bounded steps
    ASSERT_TRUE(n);
    EXPECT_LE(*n, 1u);
    if (*n == 0) break;
  }
  for (ProcessKey k : {a, b, c}) EXPECT_FALSE(recorded(*w, k)) << k.pid;
  EXPECT_TRUE(recorded(*w, kInit));
  EXPECT_TRUE(recorded(*w, recent));
  EXPECT_EQ(dangling(w->db()), 0);
  // Without a limit nothing goes.
  ASSERT_TRUE(w->write({exit_of(recent, 96 * kS)}));
  EXPECT_EQ(*w->prune({}, now + 1000 * kS, 100), 0u);
  auto h = History::open(path);
  ASSERT_TRUE(h);
  EXPECT_EQ(process_count(*h), 2);
}

TEST(StoreWriter, PruneBySizeTakesOldestExitedFirstAndKeepsAncestors) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  auto w = Writer::open(path, run_info());
  ASSERT_TRUE(w);
  const ProcessKey shell{5, 1 * kS + 5}, daemon{6, 1 * kS + 6};
  ASSERT_TRUE(w->write({fork_of(kInit, {}, "init"), fork_of(shell, kInit, "sh"), fork_of(daemon, shell, "d"),
                        exit_of(shell, 2 * kS)}));
  ASSERT_TRUE(w->write(big_batch(1000, 300)));
  ASSERT_TRUE(w->write({exit_of(kInit, 3 * kS)}));  // even init's exit: it has children
  // Every worker exited (big_batch exits a third; exit the rest).
  std::vector<Record> exits;
  for (int i = 0; i < 300; ++i) {
    if (i % 3) exits.push_back(exit_of({1000 + i, uint64_t(100 + i) * kS}, uint64_t(100 + i) * kS + 5 * kMs));
  }
  ASSERT_TRUE(w->write(exits));
  const int64_t before = w->size_bytes();
  ASSERT_GT(before, 300 * 1500);
  Writer::Retention small{.max_bytes = static_cast<uint64_t>(before / 3)};
  int64_t previous = before;
  for (int i = 0; i < 100; ++i) {
    auto n = w->prune(small, kOffset + 1000 * kS, 50);
    ASSERT_TRUE(n) << n.error().message;
    if (*n == 0) break;
    EXPECT_LE(w->size_bytes(), previous);
    previous = w->size_bytes();
  }
  EXPECT_LE(w->size_bytes(), before / 3);
  // And the file shrank: its free pages went back to the file system (the
  // file is made with incremental auto-vacuum), not kept on a free list.
  EXPECT_LE(count(w->db(), "PRAGMA page_count") * count(w->db(), "PRAGMA page_size"), before / 2);
  // Oldest first: the workers that remain are the newest ones.
  int64_t left = count(w->db(), "SELECT count(*) FROM processes WHERE pid>=1000");
  EXPECT_GT(left, 0);
  EXPECT_LT(left, 300);
  EXPECT_EQ(count(w->db(), "SELECT min(pid) FROM processes WHERE pid>=1000"), 1300 - left);
  // The live daemon's dead parent and grandparent stay.
  for (ProcessKey k : {kInit, shell, daemon}) EXPECT_TRUE(recorded(*w, k)) << k.pid;
  EXPECT_EQ(dangling(w->db()), 0);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM argvs WHERE id NOT IN (SELECT argv FROM execs)"), 0);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM files WHERE id NOT IN (SELECT file FROM execs)"), 0);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM contexts WHERE id NOT IN (SELECT context FROM execs)"), 0);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM envs WHERE id NOT IN (SELECT env FROM contexts WHERE env IS NOT NULL)"),
            0);
  EXPECT_LT(count(w->db(), "SELECT count(*) FROM envs"), 300);  // the pruned workers' went
}

// ---- schema and versions -------------------------------------------------

// Sample rows for each schema version, in that version's tables: cron(77),
// its exec of /usr/sbin/cron (file 65024:4242) and, from version 3, a finding.
std::string sample_rows(int version) {
  if (version < 1 || version > 5) return {};
  // The path's hash as that version wrote it (history --exe finds it by hash).
  const int64_t hash = version >= 4 ? text_hash("/usr/sbin/cron") : text_hash_v1("/usr/sbin/cron");
  std::string rows = fmt::format(
      "INSERT INTO boots(id,boot_id,realtime_offset_ns,first_ns) VALUES(1,'old-boot',1000000000000000000,5);"
      "INSERT INTO runs(boot,pid,source,started_ns,stopped_ns) VALUES(1,99,'netlink',5,50);"
      "INSERT INTO comms(id,text) VALUES(1,'cron');"
      "INSERT INTO paths(id,hash,text) VALUES(1,{},CAST('/usr/sbin/cron' AS BLOB));"  // as the writer binds it
      "INSERT INTO argvs(id,{}text) VALUES(1,{}'cron');"
      "INSERT INTO processes(id,boot,pid,start_ns,ppid,{},status,flags,comm,uid,gid)"
      "  VALUES(1,1,77,10,1,{},0,{},1,0,0);",
      hash, version >= 5 ? "" : "hash,", version >= 5 ? "" : "0,",
      // From 5, fork and exit are offsets from the start.
      version >= 5 ? "fork_after,exit_after" : "fork_ns,exit_ns", version >= 5 ? "0,30" : "10,40",
      version >= 2 ? int64_t{kFlagExeced} : int64_t{0});  // from 2, an exec'd process carries kFlagExeced
  if (version >= 4) {
    rows += "INSERT INTO files(id,dev,ino,ctime_ns) VALUES(1,65024,4242,7);"
            "INSERT INTO contexts(id,uid,gid,login_uid) VALUES(1,0,0,-1);"
            "INSERT INTO execs(process,time_ns,comm,exe,argv,file,context) VALUES(1,11,1,1,1,1,1);";
  } else {
    rows += "INSERT INTO execs(process,time_ns,comm,exe,argv,uid,gid,dev,ino,ctime_ns,login_uid)"
            "  VALUES(1,11,1,1,1,0,0,65024,4242,7,4294967295);";
  }
  if (version >= 3) {
    rows += "INSERT INTO findings(boot,unix_ns,pid,start_ns,rule,severity,title,evidence,chain,related_pid)"
            "  VALUES(1,1000000000000000011,77,10,'exec-from-writable-dir',2,'runs from /tmp','[\"exe /tmp/x\"]',"
            "  '[[1,\"init\"],[77,\"cron\"]]',0);";
  }
  return rows;
}

// A file written by schema `version`, as that version's lineage left it.
// A file of schema `version` holding `rows`, as that version's lineage
// left it.
void write_file(const std::string& path, int version, const std::string& rows) {
  auto db = Db::open(path, Db::Mode::kReadWrite);
  ASSERT_TRUE(db);
  ASSERT_NE(schema_sql(version), nullptr) << version;
  // Before schema 4 lineage set WAL first, which left auto-vacuum off.
  if (version >= 4) {
    ASSERT_TRUE(db->exec("PRAGMA auto_vacuum=INCREMENTAL"));
  }
  ASSERT_TRUE(db->exec("PRAGMA journal_mode=WAL"));
  ASSERT_TRUE(db->exec(std::string("BEGIN;") + schema_sql(version) + rows + "PRAGMA application_id=" +
                       std::to_string(kApplicationId) + ";PRAGMA user_version=" + std::to_string(version) +
                       ";COMMIT;"));
}

void write_version(const std::string& path, int version) {
  ASSERT_FALSE(sample_rows(version).empty()) << "add sample rows for schema " << version;
  write_file(path, version, sample_rows(version));
}

TEST(StoreSchema, OpensADatabaseOfEveryEarlierVersion) {
  for (int v = 1; v <= kSchemaVersion; ++v) {
    SCOPED_TRACE(v);
    TempDir dir;
    const std::string path = dir.file("history.db");
    write_version(path, v);
    {
      auto db = open_for_write(path);
      ASSERT_TRUE(db) << db.error().message;
      EXPECT_EQ(count(*db, "PRAGMA user_version"), kSchemaVersion);
      EXPECT_EQ(count(*db, "PRAGMA application_id"), kApplicationId);
      // The migration to 2 marked the exec'd process and built the indexes.
      EXPECT_EQ(count(*db, "SELECT flags FROM processes WHERE id=1"), kFlagExeced);
      EXPECT_EQ(count(*db, "SELECT count(*) FROM sqlite_master WHERE name IN "
                           "('execs_comm_time','processes_forked','processes_span')"), 3);
      EXPECT_EQ(count(*db, "SELECT count(*) FROM sqlite_master WHERE name IN ('execs_comm','processes_comm')"), 0);
      // The migration to 3 made the findings table (its rows kept when there were some).
      EXPECT_EQ(count(*db, "SELECT count(*) FROM findings"), v >= 3 ? 1 : 0);
      // The migration to 4 moved the exec's file identity into `files` and
      // rebuilt execs without those columns; its unset login uid is -1.
      EXPECT_EQ(count(*db, "SELECT count(*) FROM pragma_table_info('execs') WHERE name IN ('dev','ino','ctime_ns')"), 0);
      EXPECT_EQ(count(*db, "SELECT count(*) FROM files WHERE dev=65024 AND ino=4242 AND ctime_ns=7"), 1);
      EXPECT_EQ(count(*db, "SELECT file FROM execs"), count(*db, "SELECT id FROM files"));
      EXPECT_EQ(count(*db, "SELECT c.login_uid FROM execs e JOIN contexts c ON c.id=e.context"), -1);
      EXPECT_EQ(count(*db, "SELECT count(*) FROM contexts"), 1);
      EXPECT_EQ(count(*db, "SELECT count(*) FROM pragma_table_info('execs') WHERE name IN ('uid','cwd','env')"), 0);
      EXPECT_EQ(count(*db, "SELECT count(*) FROM sqlite_master WHERE name='execs_comm_time'"), 1);
      // The migration to 5 keeps fork and exit as offsets from the start,
      // read back through generated columns, and dropped argv's hash.
      EXPECT_EQ(count(*db, "SELECT fork_ns FROM processes WHERE id=1"), 10);
      EXPECT_EQ(count(*db, "SELECT exit_ns FROM processes WHERE id=1"), 40);
      EXPECT_EQ(count(*db, "SELECT exit_after FROM processes WHERE id=1"), 30);
      EXPECT_EQ(count(*db, "SELECT count(*) FROM pragma_table_info('argvs') WHERE name='hash'"), 0);
      EXPECT_EQ(count(*db, "SELECT count(*) FROM sqlite_master WHERE name='argvs_hash'"), 0);
      // Written without auto-vacuum, as every version before 4 made its files:
      // the migration turned it on (VACUUM), so retention can shrink the file.
      EXPECT_EQ(count(*db, "PRAGMA auto_vacuum"), 2);
      EXPECT_EQ(count(*db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check='ok'"), 1);
    }
    // kShared: this reader must see what the writer below commits after it
    // opened; an idle file is otherwise read immutable, a snapshot of the
    // moment it was opened (a recorder, unlike this Writer, would also hold
    // DB.lock, so a reader opened while it runs reads through the WAL).
    auto h = History::open(path, ReadMode::kShared);
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(h->version(), kSchemaVersion);
    auto named = h->query({.name = "cro"});
    ASSERT_TRUE(named) << named.error().message;
    EXPECT_EQ(named->size(), 1u);
    auto alive = h->alive_at(1000000000000000000 + 20, 10);
    ASSERT_TRUE(alive) << alive.error().message;
    EXPECT_EQ(alive->size(), 1u);
    auto holders = h->query({.pid = 77});
    ASSERT_TRUE(holders) << holders.error().message;
    ASSERT_EQ(holders->size(), 1u);
    const RecordedProcess& p = (*holders)[0];
    EXPECT_EQ(p.exit_ns, 40u);
    ASSERT_EQ(p.execs.size(), 1u);
    EXPECT_EQ(p.execs[0].exe, "/usr/sbin/cron");
    EXPECT_EQ(p.execs[0].dev, 65024u);  // its own columns before schema 4, a files row after
    EXPECT_EQ(p.execs[0].ino, 4242u);
    EXPECT_EQ(p.execs[0].login_uid, 4294967295u);
    EXPECT_EQ(p.comm_at(20), "cron");
    // The migration to 4 rewrote the hashes: --exe finds the path.
    auto by_exe = h->query({.exe = "/usr/sbin/cron"});
    ASSERT_TRUE(by_exe) << by_exe.error().message;
    EXPECT_EQ(by_exe->size(), 1u);
    // And the recorder goes on writing to it.
    auto w = Writer::open(path, run_info("old-boot"));
    ASSERT_TRUE(w) << w.error().message;
    ASSERT_TRUE(w->write({fork_of({78, 60}, {77, 10}, "cron")}));
    auto kids = h->children(p.row);
    ASSERT_TRUE(kids);
    EXPECT_EQ(kids->size(), 1u);
  }
}

TEST(StoreFindings, WrittenWithTheBatchAndReadBackSinceATime) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  auto w = Writer::open(path, run_info("this-boot"));
  ASSERT_TRUE(w) << w.error().message;
  FindingRecord f;
  f.key = {4242, 7 * kS};
  f.time_ns = 8 * kS;
  f.rule = "reverse-shell";
  f.severity = 4;
  f.title = "stdin is a TCP socket to 127.0.0.1:4444";
  f.evidence = {"fd 0 socket tcp 127.0.0.1:41000 -> 127.0.0.1:4444", "bytes \x1b[31m kept as given"};
  f.chain = {{1, "init"}, {4200, "nginx"}, {4242, "bash"}};
  f.related_pid = 4200;
  FindingRecord older = f;
  older.time_ns = 2 * kS;
  older.rule = "masquerade";
  ASSERT_TRUE(w->write({older, f}));
  auto h = History::open(path);
  ASSERT_TRUE(h) << h.error().message;
  int64_t at = static_cast<int64_t>(8 * kS) + w->realtime_offset_ns();
  auto all = h->findings_since(0, 100);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].rule, "masquerade");  // oldest first
  auto recent = h->findings_since(at, 100);
  ASSERT_TRUE(recent);
  ASSERT_EQ(recent->size(), 1u);
  const StoredFinding& r = (*recent)[0];
  EXPECT_EQ(r.unix_ns, at);
  EXPECT_EQ(r.key.pid, 4242);
  EXPECT_EQ(r.key.start_time_ns, 7 * kS);
  EXPECT_EQ(r.severity, 4);
  EXPECT_EQ(r.evidence, f.evidence);
  EXPECT_EQ(r.chain, f.chain);
  EXPECT_EQ(r.related_pid, 4200);
  EXPECT_EQ(h->findings_since(0, 1)->size(), 1u);  // bounded
  // A row whose JSON does not parse keeps its title and loses only that.
  ASSERT_TRUE(w->db().exec("UPDATE findings SET evidence='[1,', chain='{}' WHERE rule='masquerade'"));
  auto broken = h->findings_since(0, 100);
  ASSERT_TRUE(broken);
  EXPECT_EQ((*broken)[0].title, f.title);
  EXPECT_TRUE((*broken)[0].evidence.empty());
  EXPECT_TRUE((*broken)[0].chain.empty());
}

// Readers never migrate: a file of every earlier version is queried as it
// is (slower plans), and left at its version.
// The migration to 4: one contexts row per distinct context (NULLs
// matching NULLs, an unset login uid the same as the writer's), one files
// row per file, every exec naming them, and every value read back.
// The migration to 5: fork and exit become offsets from the start (read
// back the same through generated columns, a fork before its start too),
// ppid is dropped only where it is the parent row's pid, tree --at's span
// index still answers, and the recorder goes on finding the command lines
// already stored.
// A table's indexes as sqlite_master holds them.
std::vector<std::string> index_definitions(const Db& db, const std::string& table) {
  std::vector<std::string> out;
  auto q = db.prepare("SELECT name || ': ' || coalesce(sql, '') FROM sqlite_master WHERE type='index' AND "
                      "tbl_name=?1 ORDER BY name");
  if (!q) return out;
  q->bind_text(1, table);
  while (q->step() == SQLITE_ROW) out.push_back(q->text(0));
  return out;
}

TEST(StoreSchema, MigrationTo5KeepsTimesParentsAndCommandLines) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  std::vector<std::string> v4_indexes;
  {
    std::string rows =
        "INSERT INTO boots(id,boot_id,realtime_offset_ns,first_ns) VALUES(1,'test-boot',1000000000000000000,5);"
        "INSERT INTO comms(id,text) VALUES(1,'sh');"
        "INSERT INTO argvs(id,hash,text) VALUES(1,7,CAST('sh' AS BLOB));"
        // init (ppid 0); its child 20 (ppid = parent's pid); 30 whose ppid
        // is not its parent row's; 40 without a parent row; 50 alive,
        // its fork event 3 ns before its start.
        "INSERT INTO processes(id,boot,pid,start_ns,parent,ppid,fork_ns,exit_ns,status,flags,comm,uid,gid) VALUES"
        "  (1,1,1,1000,NULL,0,1000,NULL,NULL,0,1,0,0),"
        "  (2,1,20,2000,1,1,2004,9000,256,0,1,0,0),"
        "  (3,1,30,3000,1,99,3000,4000,0,0,1,0,0),"
        "  (4,1,40,4000,NULL,7,4001,5000,0,0,1,0,0),"
        "  (5,1,50,5000,2,20,4997,NULL,NULL,16,1,0,0);"
        "INSERT INTO execs(process,time_ns,comm,argv) VALUES(5,5100,1,1);";
    write_file(path, 4, rows);
    auto db = Db::open(path, Db::Mode::kReadOnly);
    ASSERT_TRUE(db);
    v4_indexes = index_definitions(*db, "processes");
  }
  {
    auto db = open_for_write(path);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(count(*db, "SELECT count(*) FROM processes WHERE ppid IS NULL"), 2);  // 20 and 50
    EXPECT_EQ(count(*db, "SELECT ppid FROM processes WHERE pid=30"), 99);
    EXPECT_EQ(count(*db, "SELECT ppid FROM processes WHERE pid=40"), 7);
    EXPECT_EQ(count(*db, "SELECT fork_after FROM processes WHERE pid=50"), -3);
    EXPECT_EQ(count(*db, "SELECT exit_after FROM processes WHERE pid=20"), 7000);
    EXPECT_EQ(count(*db, "SELECT count(*) FROM processes WHERE exit_after IS NULL"), 2);
    EXPECT_EQ(count(*db, "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check='ok'"), 1);
    // The rebuilt table has the indexes it had, as they were (the
    // readers' plans name them); argvs has none left.
    EXPECT_EQ(index_definitions(*db, "processes"), v4_indexes);
    EXPECT_EQ(v4_indexes.size(), 4u);  // unique (boot, pid, start), parent, forked, span
    EXPECT_TRUE(index_definitions(*db, "argvs").empty());
    auto plan = db->prepare(
        "EXPLAIN QUERY PLAN SELECT id FROM processes p WHERE p.boot=1 AND length(p.exit_ns - p.start_ns)=4 "
        "AND p.start_ns BETWEEN 1 AND 2");
    ASSERT_TRUE(plan);
    std::string plans;
    while (plan->step() == SQLITE_ROW) plans += plan->text(3);
    EXPECT_NE(plans.find("USING INDEX processes_span"), std::string::npos) << plans;
  }
  {
    auto h = History::open(path);
    ASSERT_TRUE(h) << h.error().message;
    RecordedProcess init = only_holder(*h, 1), twenty = only_holder(*h, 20), thirty = only_holder(*h, 30),
                    forty = only_holder(*h, 40), fifty = only_holder(*h, 50);
    EXPECT_EQ(init.ppid, 0);
    EXPECT_EQ(twenty.ppid, 1);
    EXPECT_EQ(thirty.ppid, 99);
    EXPECT_EQ(forty.ppid, 7);
    EXPECT_EQ(fifty.ppid, 20);
    EXPECT_EQ(twenty.fork_ns, 2004u);
    EXPECT_EQ(twenty.exit_ns, 9000u);
    EXPECT_EQ(twenty.status, 256);
    EXPECT_EQ(fifty.fork_ns, 4997u);
    EXPECT_FALSE(fifty.exit_ns);
    // Alive at boot ns 4500 (Unix 10^18 + 4500): init, 20 and 40.
    auto alive = h->alive_at(1000000000000000000 + 4500, 10);
    ASSERT_TRUE(alive) << alive.error().message;
    std::vector<int32_t> pids;
    for (const auto& p : *alive) pids.push_back(p.key.pid);
    std::sort(pids.begin(), pids.end());
    EXPECT_EQ(pids, (std::vector<int32_t>{1, 20, 40}));
  }
  auto w = Writer::open(path, run_info("test-boot"));
  ASSERT_TRUE(w) << w.error().message;
  ProcessKey k{60, 6000};
  ASSERT_TRUE(w->write({fork_of(k, {50, 5000}, "sh"), exec_of(k, 6100, "/bin/sh", "sh")}));
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM argvs"), 1);
  EXPECT_EQ(count(w->db(), "SELECT count(*) FROM processes WHERE pid=60 AND ppid IS NULL AND parent=5"), 1);
}

// A VACUUM that cannot make its copy (no room for it: here, SQLite's temp
// directory refuses files) leaves a file migrated from before schema 4
// without auto-vacuum: the migration still succeeds, and says so once.
TEST(StoreSchema, AFailedVacuumAfterMigratingIsToldNotHidden) {
  if (::geteuid() != 0 || ::access("/proc", W_OK | X_OK) != 0) GTEST_SKIP() << "needs root (/proc as the temp dir)";
  TempDir dir;
  const std::string path = dir.file("history.db");
  // 8 MiB of environments: more than VACUUM's copy keeps in memory (its
  // cache is 2 MiB), so the copy needs a file.
  write_file(path, 3,
             sample_rows(3) + "INSERT INTO envs(hash,text) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 "
                              "FROM n WHERE i<2000) SELECT 0, randomblob(4096) FROM n;");
  // SQLite reads SQLITE_TMPDIR once per process; its global is read at
  // each temporary file. /proc: a directory where no file can be made.
  char* saved = sqlite3_temp_directory;
  sqlite3_temp_directory = sqlite3_mprintf("%s", "/proc");
  std::string notice;
  auto db = open_for_write(path, &notice);
  sqlite3_free(sqlite3_temp_directory);
  sqlite3_temp_directory = saved;
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(count(*db, "PRAGMA user_version"), kSchemaVersion);
  EXPECT_EQ(count(*db, "PRAGMA auto_vacuum"), 0);
  EXPECT_NE(notice.find("stays without auto-vacuum"), std::string::npos) << notice;
  EXPECT_NE(notice.find(path), std::string::npos) << notice;
  EXPECT_EQ(notice.find('\n'), std::string::npos) << notice;
  // With room, the next start turns it on, and has nothing to say.
  db = Result<Db>(Error{ErrorKind::kInternal, "closed"});
  notice.clear();
  auto again = open_for_write(path, &notice);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(count(*again, "PRAGMA auto_vacuum"), 2);
  EXPECT_EQ(notice, "");
}

TEST(StoreSchema, MigrationTo4InternsEachDistinctContextAndFileOnce) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  {
    std::string rows =
        "INSERT INTO boots(id,boot_id,realtime_offset_ns,first_ns) VALUES(1,'old-boot',1000000000000000000,5);"
        "INSERT INTO comms(id,text) VALUES(1,'sh');"
        "INSERT INTO paths(id,hash,text) VALUES(1,0,CAST('/bin/sh' AS BLOB)),(2,0,CAST('/srv' AS BLOB)),"
        "  (3,0,CAST('/home/ann' AS BLOB));"
        "INSERT INTO envs(id,hash,text) VALUES(1,0,CAST('TMUX=/tmp/t,1,0' AS BLOB));";
    for (int i = 1; i <= 4; ++i) {
      rows += fmt::format(
          "INSERT INTO processes(id,boot,pid,start_ns,ppid,fork_ns,flags,comm,uid,gid) VALUES({0},1,{0}0,{0},1,{0},16,1,0,0);",
          i);
    }
    // 1, 2 and 4 share a context (NULL ruid, cgroup, tty and env; unset
    // login uid) in their own sessions; 3 has another; 4 has no file identity.
    rows +=
        "INSERT INTO execs(process,time_ns,comm,exe,uid,gid,cwd,sid,pgid,login_uid,dev,ino,ctime_ns) VALUES"
        "  (1,11,1,1,0,0,2,10,10,4294967295,2049,7,5),(2,21,1,1,0,0,2,20,20,4294967295,2049,7,5),"
        "  (4,41,1,1,0,0,2,40,40,4294967295,NULL,NULL,NULL);"
        "INSERT INTO execs(process,time_ns,comm,exe,uid,gid,ruid,cwd,tty,env,sid,pgid,login_uid,dev,ino,ctime_ns)"
        "  VALUES(3,31,1,1,1000,1000,1000,3,34816,1,30,30,1000,2049,8,5);";
    write_file(path, 3, rows);
  }
  {
    auto db = open_for_write(path);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_EQ(count(*db, "SELECT count(*) FROM contexts"), 2);
    EXPECT_EQ(count(*db, "SELECT count(*) FROM files"), 2);
    EXPECT_EQ(count(*db, "SELECT count(*) FROM execs WHERE context IS NULL"), 0);
    EXPECT_EQ(count(*db, "SELECT count(*) FROM execs WHERE file IS NULL"), 1);
    EXPECT_EQ(count(*db, "SELECT count(DISTINCT context) FROM execs WHERE process IN (1,2,4)"), 1);
    EXPECT_EQ(dangling(*db), 0);
  }
  auto h = History::open(path);
  ASSERT_TRUE(h) << h.error().message;
  auto exec_of_pid = [&](int32_t pid) {
    RecordedProcess p = only_holder(*h, pid);
    EXPECT_TRUE(p.last_exec()) << pid;
    return p.last_exec() ? *p.last_exec() : RecordedExec{};
  };
  RecordedExec two = exec_of_pid(20), three = exec_of_pid(30), four = exec_of_pid(40);
  EXPECT_EQ(two.cwd, "/srv");
  EXPECT_EQ(two.login_uid, 4294967295u);
  EXPECT_FALSE(two.ruid);
  EXPECT_FALSE(two.tty);
  EXPECT_TRUE(two.env.empty());
  EXPECT_EQ(two.sid, 20);
  EXPECT_EQ(two.ino, 7u);
  EXPECT_EQ(three.uid, 1000u);
  EXPECT_EQ(three.ruid, 1000u);
  EXPECT_EQ(three.cwd, "/home/ann");
  EXPECT_EQ(three.tty, 34816);
  EXPECT_EQ(three.login_uid, 1000u);
  EXPECT_EQ(three.env, (std::vector<std::string>{"TMUX=/tmp/t,1,0"}));
  EXPECT_EQ(three.ino, 8u);
  EXPECT_EQ(four.sid, 40);
  EXPECT_EQ(four.ino, 0u);
  EXPECT_EQ(h->query({.uid = 1000})->size(), 1u);
}

TEST(StoreSchema, ReadersQueryEveryEarlierVersionWithoutMigrating) {
  for (int v = 1; v < kSchemaVersion; ++v) {
    SCOPED_TRACE(v);
    TempDir dir;
    const std::string path = dir.file("history.db");
    write_version(path, v);
    {
      auto h = History::open(path);
      ASSERT_TRUE(h) << h.error().message;
      EXPECT_EQ(h->version(), v);
      auto named = h->query({.name = "cro"});
      ASSERT_TRUE(named) << named.error().message;
      ASSERT_EQ(named->size(), 1u);
      EXPECT_EQ((*named)[0].key.pid, 77);
      EXPECT_TRUE(h->query({.name = "sshd"})->empty());
      // --exe through that version's hash.
      EXPECT_EQ(h->query({.exe = "/usr/sbin/cron"})->size(), 1u);
      auto holders = h->query({.pid = 77});
      ASSERT_TRUE(holders && holders->size() == 1u && (*holders)[0].execs.size() == 1u);
      EXPECT_EQ((*holders)[0].execs[0].ino, 4242u);
      auto alive = h->alive_at(1000000000000000000 + 20, 10);
      ASSERT_TRUE(alive) << alive.error().message;
      EXPECT_EQ(alive->size(), 1u);
      EXPECT_TRUE(h->alive_at(1000000000000000000 + 40, 10)->empty());
    }
    auto db = Db::open(path, Db::Mode::kReadOnly);
    ASSERT_TRUE(db);
    EXPECT_EQ(count(*db, "PRAGMA user_version"), v);
  }
}

// The plans of schema 2 (history NAME through the comm streams, tree --at
// through duration groups) give exactly what a scan of every row gives:
// random lifetimes from 1 ms to hours, pids reused, two boots, execs after
// forks, children that never exec. Also on the version-1 plans.
TEST(StoreSchema, IndexedPlansMatchAFullScan) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  std::mt19937_64 rng(9);
  const char* names[] = {"git", "gitk", "bash", "make", "cc1", "sshd"};
  for (const char* boot : {"boot-1", "boot-2"}) {
    RunInfo run = run_info(boot);
    if (std::string(boot) == "boot-2") run.realtime_offset_ns = kOffset + 50'000 * int64_t{kS};
    auto w = Writer::open(path, run);
    ASSERT_TRUE(w) << w.error().message;
    std::vector<Record> recs;
    ProcessKey root{1, kS};
    recs.push_back(fork_of(root, {}, "init"));
    for (int i = 0; i < 1500; ++i) {
      uint64_t start = 2 * kS + rng() % (40'000 * kS);
      ProcessKey k{static_cast<int32_t>(2 + rng() % 300), start};
      std::string parent_comm = names[rng() % 6];
      recs.push_back(fork_of(k, root, parent_comm));
      if (rng() % 4 != 0) {
        std::string name = names[rng() % 6];
        recs.push_back(exec_of(k, start + rng() % (2 * kS), "/usr/bin/" + name, name));
      }
      uint64_t life = (rng() % 3 == 0) ? kMs * (1 + rng() % 1000) : kS * (1 + rng() % (rng() % 2 ? 20 : 20'000));
      if (rng() % 50 != 0) recs.push_back(exit_of(k, start + life));
    }
    ASSERT_TRUE(w->write(recs));
  }
  auto h = History::open(path);
  ASSERT_TRUE(h) << h.error().message;
  const Db& db = h->db();
  auto rows = [](const std::vector<RecordedProcess>& v) {
    std::vector<int64_t> out;
    for (const auto& p : v) out.push_back(p.row);
    return out;
  };
  auto scan = [&](const std::string& sql) {
    std::vector<int64_t> out;
    auto s = db.prepare(sql);
    EXPECT_TRUE(s);
    while (s && s->step() == SQLITE_ROW) out.push_back(s->i64(0));
    return out;
  };
  for (std::string name : {"git", "it", "bash", "sshd", "c", "nothing"}) {
    for (size_t limit : {size_t{1}, size_t{7}, size_t{50}, size_t{5000}}) {
      SCOPED_TRACE(name + " limit " + std::to_string(limit));
      auto got = h->query({.name = name, .limit = limit});
      ASSERT_TRUE(got) << got.error().message;
      std::string matches = "(SELECT id FROM comms WHERE instr(text, '" + name + "') > 0)";
      auto want = scan("SELECT p.id FROM processes p JOIN boots b ON b.id=p.boot WHERE p.id IN (SELECT process FROM "
                       "execs WHERE comm IN " + matches + ") OR (p.comm IN " + matches +
                       " AND NOT EXISTS (SELECT 1 FROM execs WHERE process=p.id)) "
                       "ORDER BY p.start_ns + b.realtime_offset_ns DESC, p.id DESC LIMIT " + std::to_string(limit));
      EXPECT_EQ(rows(*got), want);
    }
  }
  std::uniform_int_distribution<int64_t> when(kOffset, kOffset + 95'000 * int64_t{kS});
  for (int i = 0; i < 40; ++i) {
    int64_t t = when(rng);
    auto got = h->alive_at(t, 1'000'000);
    ASSERT_TRUE(got) << got.error().message;
    auto want = scan("SELECT p.id FROM processes p JOIN boots b ON b.id=p.boot WHERE p.start_ns + b.realtime_offset_ns "
                     "<= " + std::to_string(t) + " AND (p.exit_ns IS NULL OR p.exit_ns + b.realtime_offset_ns > " +
                     std::to_string(t) + ") AND " + std::to_string(t) +
                     " >= b.first_ns + b.realtime_offset_ns ORDER BY p.id");
    EXPECT_EQ(rows(*got), want) << t;
  }
}

TEST(StoreSchema, CurrentVersionFileIsReadAsIs) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  write_version(path, kSchemaVersion);
  auto db = open_for_read(path);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(count(db->db, "SELECT count(*) FROM processes"), 1);
}

// An idle database (no recorder holding DB.lock, nothing in a WAL) is read
// immutable: no -shm or -wal appears next to it. With a recorder's lock
// held, or commits waiting in the WAL, it is read through the WAL.
TEST(StoreSchema, AnIdleDatabaseIsReadImmutableWithoutSidecars) {
  namespace fs = std::filesystem;
  TempDir dir;
  const std::string path = dir.file("history.db");
  write_version(path, kSchemaVersion);
  ASSERT_FALSE(fs::exists(path + "-wal"));
  {
    auto db = open_for_read(path);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_TRUE(db->immutable.has_value());
    EXPECT_EQ(count(db->db, "SELECT count(*) FROM processes"), 1);
    EXPECT_FALSE(fs::exists(path + "-shm"));
    EXPECT_FALSE(fs::exists(path + "-wal"));
  }
  int fd = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  {
    auto db = open_for_read(path);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_FALSE(db->immutable.has_value()) << "a recorder holds the lock";
    EXPECT_EQ(count(db->db, "SELECT count(*) FROM processes"), 1);
  }
  ::close(fd);
  {
    auto w = Db::open(path, Db::Mode::kReadWrite);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->exec("PRAGMA wal_autocheckpoint=0; UPDATE processes SET uid=uid+1"));
    ASSERT_GT(fs::file_size(path + "-wal"), 0u);
    auto db = open_for_read(path);
    ASSERT_TRUE(db) << db.error().message;
    EXPECT_FALSE(db->immutable.has_value()) << "commits wait in the WAL";
  }
}

struct Snapshot {
  std::string bytes;
  std::vector<std::string> files;
};

Snapshot snapshot(const TempDir& dir, const std::string& path) {
  Snapshot s{slurp(path), {}};
  for (const auto& e : fs::directory_iterator(dir.path())) s.files.push_back(e.path().filename().string());
  std::sort(s.files.begin(), s.files.end());
  return s;
}

// Both open paths refuse the file with a one-line message and leave the
// directory as it was: the same bytes, no journal, WAL or shm beside it.
// A file whose header says WAL mode gets an (empty) -wal and -shm from
// SQLite's open before anything is checked: `wal_sidecars` allows those.
void expect_refused_unchanged(const TempDir& dir, const std::string& path, const std::string& says,
                              bool wal_sidecars = false) {
  const Snapshot before = snapshot(dir, path);
  auto w = open_for_write(path);
  ASSERT_FALSE(w);
  EXPECT_NE(w.error().message.find(says), std::string::npos) << w.error().message;
  EXPECT_EQ(w.error().message.find('\n'), std::string::npos) << w.error().message;
  EXPECT_NE(w.error().message.find(path), std::string::npos) << w.error().message;
  auto writer = Writer::open(path, run_info());
  EXPECT_FALSE(writer);
  auto r = open_for_read(path);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().kind, ErrorKind::kNotFound);
  EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
  EXPECT_FALSE(History::open(path));
  const Snapshot after = snapshot(dir, path);
  EXPECT_TRUE(before.bytes == after.bytes) << "the file was modified";
  std::vector<std::string> files = after.files;
  if (wal_sidecars) {
    std::erase_if(files, [&](const std::string& f) { return f.ends_with("-wal") || f.ends_with("-shm"); });
    if (fs::exists(path + "-wal")) {
      EXPECT_EQ(fs::file_size(path + "-wal"), 0u);
    }
  }
  EXPECT_EQ(before.files, files);
}

TEST(StoreSchema, NewerVersionIsRefusedAndLeftUnchanged) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  {
    auto db = Db::open(path, Db::Mode::kReadWrite);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec(std::string(schema_sql(kSchemaVersion)) + "PRAGMA application_id=" +
                         std::to_string(kApplicationId) + ";PRAGMA user_version=" +
                         std::to_string(kSchemaVersion + 1) + ";CREATE TABLE future(x);"));
  }
  expect_refused_unchanged(dir, path, "newer");
}

TEST(StoreSchema, NewerVersionInWalModeIsLeftUnchanged) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  {
    auto db = Db::open(path, Db::Mode::kReadWrite);
    ASSERT_TRUE(db);
    ASSERT_TRUE(db->exec("PRAGMA journal_mode=WAL"));
    ASSERT_TRUE(db->exec(std::string(schema_sql(kSchemaVersion)) + "PRAGMA application_id=" +
                         std::to_string(kApplicationId) + ";PRAGMA user_version=" +
                         std::to_string(kSchemaVersion + 7) + ";"));
  }
  const std::string before = slurp(path);
  EXPECT_FALSE(open_for_write(path));
  EXPECT_FALSE(open_for_read(path));
  EXPECT_TRUE(slurp(path) == before);
}

TEST(StoreSchema, RandomBytesAreRefusedAndLeftUnchanged) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  std::mt19937 rng(9);
  std::string junk(8192, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  spit(path, junk);
  expect_refused_unchanged(dir, path, "not a lineage history database");
}

TEST(StoreSchema, ForgedHeaderWithGarbageIsRefusedAndLeftUnchanged) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  std::mt19937 rng(10);
  std::string junk(8192, '\0');
  for (auto& c : junk) c = static_cast<char>(rng());
  junk.replace(0, 16, std::string("SQLite format 3\0", 16));
  spit(path, junk);
  expect_refused_unchanged(dir, path, "not a lineage history database");
}

// A real history cut short (a copy interrupted, a disk that lost its tail).
TEST(StoreSchema, TruncatedDatabaseIsRefusedAndLeftUnchanged) {
  TempDir dir;
  const std::string source = dir.file("full.db");
  {
    auto w = Writer::open(source, run_info());
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(big_batch(100, 50)));
    ASSERT_TRUE(w->stop(9 * kS));
  }
  std::string full = slurp(source);
  ASSERT_GT(full.size(), 8u * 4096);
  fs::remove(source);
  for (size_t keep : {size_t{100}, size_t{4096}, full.size() / 2}) {
    SCOPED_TRACE(keep);
    TempDir d;
    const std::string path = d.file("history.db");
    spit(path, full.substr(0, keep));
    expect_refused_unchanged(d, path, "not a lineage history database", /*wal_sidecars=*/true);
  }
}

// SQLite's message about a malformed schema quotes the file's own text: a
// newline or a terminal escape in it must not reach the one-line error.
TEST(StoreSchema, MalformedSchemaIsAOneLinePrintableError) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  {
    auto w = Writer::open(path, run_info());
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->stop(2 * kS));
    ASSERT_TRUE(w->db().exec("PRAGMA journal_mode=DELETE"));
    ASSERT_TRUE(w->db().exec("PRAGMA writable_schema=ON;"
                             "UPDATE sqlite_master SET sql='CREATE TABLE processes(' || char(10) || char(27) || "
                             "'[31m evil' WHERE name='processes'; PRAGMA writable_schema=OFF;"));
  }
  expect_refused_unchanged(dir, path, "not a lineage history database");
  for (bool write : {false, true}) {
    std::string message;
    if (write) {
      auto r = open_for_write(path);
      ASSERT_FALSE(r);
      message = r.error().message;
    } else {
      auto r = open_for_read(path);
      ASSERT_FALSE(r);
      message = r.error().message;
    }
    for (char c : message) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(static_cast<unsigned char>(c)) << " in " << message;
    }
  }
}

TEST(StoreSchema, AnotherApplicationsDatabaseIsRefusedAndLeftUnchanged) {
  for (int64_t app : {int64_t{0}, int64_t{0x12345678}}) {
    SCOPED_TRACE(app);
    TempDir dir;
    const std::string path = dir.file("other.db");
    {
      auto db = Db::open(path, Db::Mode::kReadWrite);
      ASSERT_TRUE(db);
      ASSERT_TRUE(db->exec("PRAGMA application_id=" + std::to_string(app) +
                           "; CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);"
                           "INSERT INTO notes(body) VALUES('keep me');"));
    }
    expect_refused_unchanged(dir, path, "not a lineage history database");
  }
}

TEST(StoreSchema, MissingFileIsNotFoundAndNotCreated) {
  TempDir dir;
  const std::string path = dir.file("absent.db");
  auto r = open_for_read(path);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
  auto h = History::open(path);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().kind, ErrorKind::kNotFound);
  EXPECT_FALSE(fs::exists(path));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(StoreSchema, DirectoryIsRefused) {
  TempDir dir;
  auto r = open_for_read(dir.path());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  EXPECT_FALSE(open_for_write(dir.path()));
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(StoreSchema, EmptyFileBecomesANewDatabaseForWritingOnly) {
  TempDir dir;
  const std::string path = dir.file("history.db");
  spit(path, "");
  EXPECT_FALSE(open_for_read(path));  // nothing recorded yet: not a history
  EXPECT_EQ(slurp(path), "");
  auto w = open_for_write(path);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(count(*w, "PRAGMA user_version"), kSchemaVersion);
}

// The hash columns are part of the file format: a different hash would miss
// every string an earlier recorder stored. (Its basis is FNV-1a's with the
// last digit missing, 1469598103934665603 for 14695981039346656037: kept.)
TEST(StoreSchema, TextHashIsStable) {
  EXPECT_EQ(text_hash_v1(""), 1469598103934665603);
  EXPECT_EQ(text_hash_v1("a"), 4953267810257967366);
  EXPECT_NE(text_hash_v1(std::string("a\0b", 3)), text_hash_v1("a"));
  // Schema 4: the low 32 bits, sign-extended.
  EXPECT_EQ(text_hash(""), 1939669891);
  EXPECT_EQ(text_hash("a"), static_cast<int32_t>(4953267810257967366 & 0xffffffff));
  EXPECT_NE(text_hash(std::string("a\0b", 3)), text_hash("a"));
}

// The migration to schema 4 rewrites stored hashes in SQL: it must give
// exactly what text_hash gives, or --exe and the writer's interning miss
// every string recorded before it.
TEST(StoreSchema, TheMigrationsHashIsTextHash) {
  auto db = Db::open(":memory:", Db::Mode::kReadWrite);
  ASSERT_TRUE(db);
  auto q = db->prepare("SELECT (?1<<32)>>32");
  ASSERT_TRUE(q);
  int negative = 0, positive = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string text = "/usr/bin/tool-" + std::to_string(i * 7919);
    q->bind(1, text_hash_v1(text));
    ASSERT_EQ(q->step(), SQLITE_ROW);
    EXPECT_EQ(q->i64(0), text_hash(text)) << text;
    (text_hash(text) < 0 ? negative : positive)++;
    q->reset();
  }
  EXPECT_GT(negative, 500);  // both signs were tried
  EXPECT_GT(positive, 500);
}

// ---- the recorder ------------------------------------------------------------

TEST(RecorderContext, KeepsOnlyTheVariablesDetectorsRead) {
  using namespace std::string_literals;
  std::vector<std::string> env = {"HOME=/root",
                                  "SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22",
                                  "SECRET=hunter2",
                                  "AWS_SECRET_ACCESS_KEY=abc",
                                  "TMUX=/tmp/tmux-0/default,812,0",
                                  "SSH_CONNECTIONX=forged",
                                  "SUPERVISOR_PROCESS_NAME=web",
                                  "XSUPERVISOR_X=1",
                                  "name=not-pm2",
                                  "INVOCATION_ID=abc123",
                                  "container=podman",
                                  "TMUX_PANE"};
  EXPECT_EQ(context_environment(env), ("SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22\0"
                                                  "TMUX=/tmp/tmux-0/default,812,0\0"
                                                  "SUPERVISOR_PROCESS_NAME=web\0"
                                                  "INVOCATION_ID=abc123\0"
                                                  "container=podman\0"
                                                  "TMUX_PANE"s));
  EXPECT_EQ(context_environment({}), "");
  EXPECT_EQ(context_environment({"PATH=/bin", "SECRET=x"}), "");
  // pm2 names its program in `name`: kept only beside pm_id.
  EXPECT_EQ(context_environment({"name=api", "pm_id=3"}), std::string("pm_id=3\0name=api", 16));
  // A huge value is cut, not stored whole.
  std::string huge = "STY=" + std::string(100000, 'x');
  EXPECT_EQ(context_environment({huge}).size(), 4096u);
}

TEST(RecorderContext, WhatASourceMustCopyKeepsEveryContextEntry) {
  using namespace std::string_literals;
  // A source copies only the entries may_be_context accepts: the context
  // read from that is the one read from the whole environment.
  for (std::string area : {"HOME=/root\0SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22\0SECRET=hunter2\0"
                           "SUPERVISOR_ENABLED=1\0LD_PRELOAD=/tmp/x.so\0JOURNAL_STREAM=8:1\0"s,
                           "name=api\0PATH=/bin\0pm_id=3\0PM2_HOME=/root/.pm2\0"s,
                           "name=web\0LANG=C\0STY=12.pts-0\0WINDOW=0\0container=podman\0INVOCATION_ID=a\0"s}) {
    std::string kept;
    for (size_t b = 0; b < area.size();) {
      size_t e = std::min(area.find('\0', b), area.size());
      std::string_view entry(area.data() + b, e - b);
      if (may_be_context(entry)) kept += std::string(entry) + '\0';
      b = e + 1;
    }
    EXPECT_EQ(context_environment_area(kept), context_environment_area(area)) << area;
    EXPECT_LT(kept.size(), area.size());
  }
  EXPECT_FALSE(may_be_context("SSH_CONNECTIONX=forged"));
  EXPECT_FALSE(may_be_context("PATH=/bin"));
  EXPECT_TRUE(may_be_context("TMUX_PANE=%1"));
}

TEST(RecorderContext, FromTheEnvironmentAreaOfAnExecEvent) {
  using namespace std::string_literals;
  // As execve lays it out: KEY=VALUE, each ended by a NUL.
  std::string area = "HOME=/root\0SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22\0SECRET=hunter2\0"
                     "TMUX=/tmp/tmux-0/default,812,0\0SSH_CONNECTIONX=forged\0INVOCATION_ID=abc123\0"s;
  EXPECT_EQ(context_environment_area(area),
            "SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22\0TMUX=/tmp/tmux-0/default,812,0\0INVOCATION_ID=abc123"s);
  EXPECT_EQ(context_environment_area(""), "");
  EXPECT_EQ(context_environment_area("\0\0PATH=/bin\0"s), "");
  // Cut at the record's bound: the last entry counts as far as it goes.
  EXPECT_EQ(context_environment_area("PATH=/bin\0STY=12.pts-0"s), "STY=12.pts-0");
  EXPECT_EQ(context_environment_area("name=api\0pm_id=3\0"s), std::string("pm_id=3\0name=api", 16));
  // The same as the list form, entry for entry.
  std::vector<std::string> env = {"SUPERVISOR_PROCESS_NAME=web", "LD_PRELOAD=/tmp/x.so", "container=podman"};
  EXPECT_EQ(context_environment_area("SUPERVISOR_PROCESS_NAME=web\0LD_PRELOAD=/tmp/x.so\0container=podman\0"s),
            context_environment(env));
}

TEST(RecorderContext, LaunchersByBaseName) {
  for (const char* l : {"sshd", "sshd-session", "cron", "crond", "atd", "tmux", "screen", "supervisord", "systemd",
                        "containerd-shim-runc-v2", "conmon"}) {
    EXPECT_TRUE(is_launcher(l)) << l;
  }
  for (const char* n : {"", "bash", "sleep", "/usr/sbin/sshd", "sshd ", "ssh", "Cron"}) {
    EXPECT_FALSE(is_launcher(n)) << n;
  }
}

core::Event ev_fork(uint64_t t, int pid, int ppid, uint64_t parent_start, const std::string& comm) {
  core::Event e;
  e.kind = core::EventKind::kFork;
  e.time_ns = t;
  e.pid = e.tid = pid;
  e.start_time_ns = t;
  e.ppid = ppid;
  e.parent_start_time_ns = parent_start;
  e.comm = comm;
  return e;
}

core::Event ev_exec(uint64_t t, int pid, uint64_t start, const std::string& exe, std::vector<std::string> argv,
                      uint32_t uid = 0) {
  core::Event e;
  e.kind = core::EventKind::kExec;
  e.time_ns = t;
  e.pid = e.tid = pid;
  e.start_time_ns = start;
  e.exe = exe;
  e.comm = exe.substr(exe.rfind('/') + 1);
  e.argv = std::move(argv);
  e.uid = e.gid = uid;
  return e;
}

core::Event ev_exit(uint64_t t, int pid, uint64_t start, int32_t status, int reaper = 0, uint64_t reaper_start = 0) {
  core::Event e;
  e.kind = core::EventKind::kExit;
  e.time_ns = t;
  e.pid = e.tid = pid;
  e.start_time_ns = start;
  e.exit_code = status;
  e.reaper_pid = reaper;
  e.reaper_start_time_ns = reaper_start;
  return e;
}

// /proc when recording starts (ticks of 10 ms):
//   systemd(1) 0.01 s
//   └─ sshd(500) 1 s
// then events:
//   sshd forks 600 at 101 s; 600 execs bash (its /proc has SSH_CONNECTION,
//   TMUX and SECRET in environ); bash forks 700 at 102 s, which execs sh;
//   sh forks 800 at 103 s, which execs sleep; sh exits at 104 s (800 goes
//   to init); bash exits at 105 s.
class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_.add({.pid = 1, .ppid = 0, .comm = "systemd", .start_ticks = 1, .argv = {"/sbin/init"}});
    fs_.add({.pid = 500, .ppid = 1, .comm = "sshd", .start_ticks = 100, .argv = {"sshd: /usr/sbin/sshd"}});
    fs_.link(1, "exe", "/usr/lib/systemd/systemd");
    fs_.link(500, "exe", "/usr/sbin/sshd");
    auto reader = procfs::ProcReader::open(fs_.root());
    ASSERT_TRUE(reader);
    reader_.emplace(std::move(*reader));
    tree_.emplace(core::LiveTree::kDefaultMaxProcesses, reader_->tick_ns());
    auto w = Writer::open(path_, run_info("boot-r", 100 * kS));
    ASSERT_TRUE(w) << w.error().message;
    writer_.emplace(std::move(*w));
    recorder_.emplace(*writer_, *reader_, *tree_, RecorderOptions{});
  }

  // bash(600) appears in /proc once sshd has forked it.
  void add_bash() {
    fs_.add({.pid = 600, .ppid = 500, .comm = "bash", .start_ticks = 10100, .uid = 1000, .argv = {"-bash"},
             .tty_nr = 34816});
    fs_.link(600, "exe", "/usr/bin/bash");
    fs_.link(600, "cwd", "/home/ann");
    fs_.write(600, "environ",
              std::string("HOME=/home/ann\0SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22\0SECRET=hunter2\0"
                          "TMUX=/tmp/tmux-1000/default,900,0\0",
                          106));
    fs_.write(600, "loginuid", "1000");
  }

  // What a recorder killed and started again does: commit what it has,
  // drop it all, and start over (a new tree) on the same database at now.
  void restart(uint64_t flushed_at, uint64_t now) {
    recorder_->flush(flushed_at, true);
    recorder_.reset();
    writer_.reset();
    auto w = Writer::open(path_, run_info("boot-r", now));
    ASSERT_TRUE(w);
    writer_.emplace(std::move(*w));
    tree_.emplace(core::LiveTree::kDefaultMaxProcesses, reader_->tick_ns());
    recorder_.emplace(*writer_, *reader_, *tree_, RecorderOptions{});
    ASSERT_TRUE(recorder_->start(now));
  }

  std::optional<RecordedProcess> get(const History& h, ProcessKey k) {
    auto p = h.find(h.boot_of("boot-r"), k, reader_->tick_ns());
    EXPECT_TRUE(p && *p) << k.pid;
    return p && *p ? **p : std::optional<RecordedProcess>();
  }

  testing::FakeProcfs fs_{200.0};
  TempDir dir_;
  std::string path_ = dir_.file("history.db");
  std::optional<procfs::ProcReader> reader_;
  std::optional<core::LiveTree> tree_;
  std::optional<Writer> writer_;
  std::optional<Recorder> recorder_;
};

const ProcessKey kRInit{1, 10 * kMs}, kSshd{500, 1 * kS}, kRBash{600, 101 * kS}, kSh{700, 102 * kS},
    kRSleep{800, 103 * kS};

TEST_F(RecorderTest, ExitInTheSameBatchAndEvidenceFromTheEvent) {
  auto started = recorder_->start(100 * kS);
  ASSERT_TRUE(started) << started.error().message;
  add_bash();  // /proc still shows cwd and environ (a real zombie would not)
  // 1. Netlink-like events (no environment, no ids), the exit in the same
  // batch: only what a zombie shows is read (no cwd, no environ).
  recorder_->apply({ev_fork(101 * kS, 600, 500, 1 * kS, "sshd"),
                    ev_exec(101 * kS + 1 * kMs, 600, 101 * kS, "/usr/bin/bash", {"-bash"}, 1000),
                    ev_exit(105 * kS, 600, 101 * kS, 0, 1, 10 * kMs)},
                   106 * kS);
  recorder_->flush(106 * kS, true);
  auto h = History::open(path_);
  ASSERT_TRUE(h) << h.error().message;
  auto bash = get(*h, kRBash);
  ASSERT_TRUE(bash && bash->execs.size() == 1u);
  EXPECT_FALSE(bash->execs[0].cwd);
  EXPECT_TRUE(bash->execs[0].env.empty());
  EXPECT_EQ(bash->execs[0].sid, 600);  // stat: a zombie keeps it
  EXPECT_EQ(bash->execs[0].tty, 34816);
  // Forked, exec'd and ended in one batch: one row holds all three.
  EXPECT_EQ(bash->exit_ns, std::optional<uint64_t>(105 * kS));
  EXPECT_EQ(bash->status, std::optional<int32_t>(0));
  EXPECT_EQ(bash->flags & (kFlagExeced | kFlagExitUnseen), kFlagExeced);
  EXPECT_EQ(bash->parent_row, get(*h, kSshd)->row);
}

TEST_F(RecorderTest, ExitSeenByAPollHasNoStatus) {
  auto started = recorder_->start(100 * kS);
  ASSERT_TRUE(started) << started.error().message;
  // The poll source saw 660 gone (exit code -1: only its parent's wait()
  // knows); the kernel told 670's status (killed by signal 9).
  recorder_->apply({ev_fork(101 * kS, 660, 500, 1 * kS, "sshd"), ev_fork(101 * kS, 670, 500, 1 * kS, "sshd"),
                    ev_exit(103 * kS, 660, 101 * kS, -1), ev_exit(103 * kS, 670, 101 * kS, 9)},
                   104 * kS);
  recorder_->flush(104 * kS, true);
  auto h = History::open(path_);
  ASSERT_TRUE(h) << h.error().message;
  auto polled = get(*h, ProcessKey{660, 101 * kS});
  ASSERT_TRUE(polled);
  EXPECT_EQ(polled->exit_ns, std::optional<uint64_t>(103 * kS));
  EXPECT_FALSE(polled->status) << "not a signal 127: " << *polled->status;
  auto killed = get(*h, ProcessKey{670, 101 * kS});
  ASSERT_TRUE(killed);
  EXPECT_EQ(killed->status, std::optional<int32_t>(9));
}

TEST_F(RecorderTest, CutArgvFromTheEventGivesWayToTheWholeOneInProc) {
  auto started = recorder_->start(100 * kS);
  ASSERT_TRUE(started) << started.error().message;
  const std::string script(3000, 'x');
  // 680: /proc has the whole command line, the event its first bytes.
  fs_.add({.pid = 680, .ppid = 500, .comm = "python3", .start_ticks = 10100, .argv = {"python3", "-c", script}});
  // 690: /proc shows another command line (a later exec): the event's stays.
  fs_.add({.pid = 690, .ppid = 500, .comm = "other", .start_ticks = 10100, .argv = {"other"}});
  core::Event cut680 = ev_exec(101 * kS + 1 * kMs, 680, 101 * kS, "/usr/bin/python3", {"python3", "-c", script.substr(0, 900)});
  core::Event cut690 = ev_exec(101 * kS + 1 * kMs, 690, 101 * kS, "/usr/bin/python3", {"python3", "-c", script.substr(0, 900)});
  cut680.argv_complete = cut690.argv_complete = false;
  recorder_->apply({ev_fork(101 * kS, 680, 500, 1 * kS, "sshd"), ev_fork(101 * kS, 690, 500, 1 * kS, "sshd"), cut680, cut690},
                   102 * kS);
  recorder_->flush(102 * kS, true);
  auto h = History::open(path_);
  ASSERT_TRUE(h) << h.error().message;
  auto whole = get(*h, ProcessKey{680, 101 * kS});
  ASSERT_TRUE(whole && whole->execs.size() == 1u);
  EXPECT_EQ(whole->execs[0].argv, (std::vector<std::string>{"python3", "-c", script}));
  auto kept = get(*h, ProcessKey{690, 101 * kS});
  ASSERT_TRUE(kept && kept->execs.size() == 1u);
  EXPECT_EQ(kept->execs[0].argv, (std::vector<std::string>{"python3", "-c", script.substr(0, 900)}));
}

TEST_F(RecorderTest, EnvironmentAndIdsFromTheExecEvent) {
  auto started = recorder_->start(100 * kS);
  ASSERT_TRUE(started) << started.error().message;
  // 2. A bpf exec event with the environment and ids, for a process /proc
  // does not show (gone): all of them recorded from the event.
  core::Event ex = ev_exec(101 * kS + 1 * kMs, 650, 101 * kS, "/usr/bin/true", {"true"}, 1000);
  using namespace std::string_literals;
  ex.environ = "HOME=/x\0TMUX=/tmp/t,1,0\0SECRET=y\0"s;
  ex.has_environ = ex.environ_complete = true;
  ex.has_session_ids = ex.has_login_uid = true;
  ex.sid = 640, ex.pgid = 645, ex.tty_nr = 34818, ex.ruid = 1000, ex.login_uid = 1000;
  recorder_->apply({ev_fork(101 * kS, 650, 500, 1 * kS, "sshd"), ex}, 102 * kS);
  recorder_->flush(102 * kS, true);
  auto h = History::open(path_);
  ASSERT_TRUE(h) << h.error().message;
  auto p = get(*h, ProcessKey{650, 101 * kS});
  ASSERT_TRUE(p && p->execs.size() == 1u);
  const RecordedExec& e = p->execs[0];
  EXPECT_EQ(e.env, std::vector<std::string>{"TMUX=/tmp/t,1,0"});
  EXPECT_EQ(e.sid, 640);
  EXPECT_EQ(e.pgid, 645);
  EXPECT_EQ(e.tty, 34818);
  EXPECT_EQ(e.login_uid, 1000u);
  EXPECT_EQ(e.uid, 1000u);
}

// An exec event that carries what the kernel saw (eBPF's at_exec): the
// record needs no /proc, and /proc's word about a pid that names another
// process by now does not replace it.
core::Event ev_exec_seen(uint64_t t, int pid, uint64_t start, const std::string& exe, const std::string& cwd) {
  core::Event e = ev_exec(t, pid, start, exe, {exe}, 1000);
  e.argv_complete = true;
  e.has_session_ids = e.has_login_uid = true;
  e.sid = pid, e.pgid = pid, e.ruid = 1000, e.login_uid = 1000;
  core::AtExec a;
  a.status = core::StatusInfo{};
  a.status->uid = {1000, 1000, 1000, 1000};
  a.status->gid = {100, 100, 100, 100};
  a.exe = core::ExeInfo{exe, false};
  a.cwd = cwd;
  a.cgroups = std::vector<core::CgroupEntry>{{0, "", "/user.slice/user-1000.slice/session-4.scope"}};
  e.at_exec = std::move(a);
  return e;
}

TEST_F(RecorderTest, WhatTheKernelSawAtTheExecNeedsNoProc) {
  auto started = recorder_->start(100 * kS);
  ASSERT_TRUE(started) << started.error().message;
  // 656's pid names a later process in /proc (another start): not read.
  fs_.add({.pid = 656, .ppid = 1, .comm = "other", .start_ticks = 20000, .argv = {"other"}});
  fs_.link(656, "cwd", "/elsewhere");
  fs_.link(656, "exe", "/usr/bin/other");
  using namespace std::string_literals;
  fs_.write(656, "environ", "SSH_CONNECTION=10.9.9.9 1 10.0.0.1 22\0"s);
  // 657: the event lacks its cwd (too long for the record): /proc says.
  fs_.add({.pid = 657, .ppid = 500, .comm = "true", .start_ticks = 10100, .argv = {"/usr/bin/true"}});
  fs_.link(657, "cwd", "/srv/a/very/long/path");
  fs_.link(657, "exe", "/usr/bin/true");
  core::Event gone = ev_exec_seen(101 * kS + 1 * kMs, 655, 101 * kS, "/usr/bin/true", "/home/ann/src (deleted)");
  core::Event reused = ev_exec_seen(101 * kS + 1 * kMs, 656, 101 * kS, "/usr/bin/true", "/home/ann");
  core::Event partial = ev_exec_seen(101 * kS + 1 * kMs, 657, 101 * kS, "/usr/bin/true", "");
  partial.at_exec->cwd.reset();
  // 658 runs sshd by the kernel's word, and is gone: a launcher is checked
  // against its own running file only, so it is not checked at all.
  core::Event launcher = ev_exec_seen(101 * kS + 1 * kMs, 658, 101 * kS, "/usr/sbin/sshd", "/");
  recorder_->apply({ev_fork(101 * kS, 655, 500, 1 * kS, "sshd"), ev_fork(101 * kS, 656, 500, 1 * kS, "sshd"),
                    ev_fork(101 * kS, 657, 500, 1 * kS, "sshd"), ev_fork(101 * kS, 658, 500, 1 * kS, "sshd"), gone,
                    reused, partial, launcher},
                   102 * kS);
  recorder_->flush(102 * kS, true);
  auto h = History::open(path_);
  ASSERT_TRUE(h) << h.error().message;
  for (int pid : {655, 656}) {
    SCOPED_TRACE(pid);
    auto p = get(*h, ProcessKey{pid, 101 * kS});
    ASSERT_TRUE(p && p->execs.size() == 1u);
    const RecordedExec& e = p->execs[0];
    EXPECT_EQ(e.cwd, pid == 655 ? "/home/ann/src (deleted)" : "/home/ann");
    EXPECT_EQ(e.cgroup, "0::/user.slice/user-1000.slice/session-4.scope\n");
    EXPECT_EQ(e.uid, 1000u);
    EXPECT_EQ(e.gid, 100u);
    EXPECT_EQ(e.ruid, std::optional<uint32_t>(1000));
    EXPECT_EQ(e.sid, pid);
    EXPECT_EQ(e.argv, std::vector<std::string>{"/usr/bin/true"});
    EXPECT_FALSE(e.verified) << "not a launcher";
    EXPECT_TRUE(e.env.empty()) << "the later process's environment: " << e.env.front();
  }
  auto p = get(*h, ProcessKey{657, 101 * kS});
  ASSERT_TRUE(p && p->execs.size() == 1u);
  EXPECT_EQ(p->execs[0].cwd, "/srv/a/very/long/path");
  EXPECT_EQ(p->execs[0].cgroup, "0::/user.slice/user-1000.slice/session-4.scope\n") << "the event's, not /proc's";
  auto sshd = get(*h, ProcessKey{658, 101 * kS});
  ASSERT_TRUE(sshd && sshd->execs.size() == 1u);
  EXPECT_EQ(sshd->execs[0].verified, std::optional<bool>(false));
  EXPECT_EQ(sshd->execs[0].unverified_reason, "gone before its executable could be checked");
}

// A launcher whose exit came with its exec: /proc may still show the pid
// (a zombie, or a later process), but its executable is not checked there.
TEST_F(RecorderTest, ALauncherThatExitedIsNotCheckedByItsPid) {
  auto started = recorder_->start(100 * kS);
  ASSERT_TRUE(started) << started.error().message;
  fs_.add({.pid = 659, .ppid = 500, .comm = "sshd", .start_ticks = 10100, .argv = {"/usr/sbin/sshd"}});
  fs_.link(659, "exe", "/usr/sbin/sshd");
  recorder_->apply({ev_fork(101 * kS, 659, 500, 1 * kS, "sshd"),
                    ev_exec_seen(101 * kS + 1 * kMs, 659, 101 * kS, "/usr/sbin/sshd", "/"),
                    ev_exit(101 * kS + 2 * kMs, 659, 101 * kS, 0)},
                   102 * kS);
  recorder_->flush(102 * kS, true);
  auto h = History::open(path_);
  ASSERT_TRUE(h) << h.error().message;
  auto sshd = get(*h, ProcessKey{659, 101 * kS});
  ASSERT_TRUE(sshd && sshd->execs.size() == 1u);
  EXPECT_EQ(sshd->execs[0].verified, std::optional<bool>(false));
  EXPECT_EQ(sshd->execs[0].unverified_reason, "gone before its executable could be checked");
  EXPECT_EQ(sshd->execs[0].cwd, "/") << "the event's evidence is kept";
}

TEST_F(RecorderTest, ChainOfForkExecExitIsRecorded) {
  auto started = recorder_->start(100 * kS);
  ASSERT_TRUE(started) << started.error().message;
  add_bash();
  recorder_->apply({ev_fork(101 * kS, 600, 500, 1 * kS, "sshd"),
                    ev_exec(101 * kS + 1 * kMs, 600, 101 * kS, "/usr/bin/bash", {"-bash"}, 1000),
                    ev_fork(102 * kS, 700, 600, 101 * kS, "bash"),
                    ev_exec(102 * kS + 1 * kMs, 700, 102 * kS, "/bin/sh", {"sh", "-c", "sleep 999 &"}, 1000),
                    ev_fork(103 * kS, 800, 700, 102 * kS, "sh"),
                    ev_exec(103 * kS + 1 * kMs, 800, 103 * kS, "/usr/bin/sleep", {"sleep", "999"}, 1000)},
                   104 * kS);
  // The exits in a later batch: the recorder reads /proc at each exec for
  // the evidence of a process whose exit it has not seen (one whose exit
  // came in the same batch is read only for what a zombie still shows).
  recorder_->apply({ev_exit(104 * kS, 700, 102 * kS, 0, 1, 10 * kMs),
                    ev_exit(105 * kS, 600, 101 * kS, 1 << 8, 1, 10 * kMs)},
                   106 * kS);
  recorder_->flush(106 * kS, true);
  EXPECT_TRUE(recorder_->stats().writing);
  EXPECT_EQ(recorder_->stats().events, 8u);
  EXPECT_EQ(recorder_->stats().commits, 2u);  // the backfill, this batch

  auto h = History::open(path_);
  ASSERT_TRUE(h) << h.error().message;
  auto init = get(*h, kRInit), sshd = get(*h, kSshd), bash = get(*h, kRBash), sh = get(*h, kSh),
       sleep = get(*h, kRSleep);
  ASSERT_TRUE(init && sshd && bash && sh && sleep);

  // Backfilled from /proc: flagged, with what /proc said.
  EXPECT_TRUE(init->flags & kFlagBackfilled);
  EXPECT_TRUE(sshd->flags & kFlagBackfilled);
  EXPECT_EQ(sshd->parent_row, init->row);
  ASSERT_NE(sshd->last_exec(), nullptr);
  EXPECT_EQ(sshd->last_exec()->exe, "/usr/sbin/sshd");
  EXPECT_TRUE(sshd->last_exec()->verified.has_value());  // a launcher: its verification kept
  for (const auto* p : {&*bash, &*sh, &*sleep}) EXPECT_FALSE(p->flags & kFlagBackfilled) << p->key.pid;

  // Fork parents: the original chain.
  EXPECT_EQ(bash->parent_row, sshd->row);
  EXPECT_EQ(sh->parent_row, bash->row);
  EXPECT_EQ(sleep->parent_row, sh->row);
  EXPECT_EQ(bash->fork_comm, "sshd");
  EXPECT_EQ(bash->comm_at(101 * kS + 2 * kMs), "bash");

  // Exits with their status; the sleep still runs.
  EXPECT_EQ(sh->exit_ns, 104 * kS);
  EXPECT_EQ(sh->status, 0);
  EXPECT_EQ(bash->exit_ns, 105 * kS);
  EXPECT_EQ(bash->status, 1 << 8);
  EXPECT_FALSE(sleep->exit_ns);

  // The sleep went to init when sh exited: one change row, at that time.
  ASSERT_EQ(sleep->parents.size(), 1u);
  EXPECT_EQ(sleep->parents[0].first, 104 * kS);
  EXPECT_EQ(sleep->parents[0].second, init->row);
  EXPECT_EQ(sleep->parent_at(103 * kS + 500 * kMs), sh->row);
  EXPECT_EQ(sleep->parent_at(104 * kS), init->row);
  EXPECT_TRUE(sh->parents.empty());  // bash's exit moved no live child

  // The exec evidence: the event's image, /proc's context, and of the
  // environment only the context variables.
  ASSERT_EQ(bash->execs.size(), 1u);
  const RecordedExec& e = bash->execs[0];
  EXPECT_EQ(e.exe, "/usr/bin/bash");
  EXPECT_EQ(e.argv, std::vector<std::string>{"-bash"});
  EXPECT_EQ(e.cwd, "/home/ann");
  EXPECT_EQ(e.tty, 34816);
  EXPECT_EQ(e.sid, 600);
  EXPECT_EQ(e.login_uid, 1000u);
  EXPECT_EQ(e.uid, 1000u);
  EXPECT_EQ(e.env, (std::vector<std::string>{"SSH_CONNECTION=10.0.0.7 52114 10.0.0.1 22",
                                             "TMUX=/tmp/tmux-1000/default,900,0"}));
  EXPECT_FALSE(e.verified);  // bash is no launcher
  ASSERT_EQ(sleep->execs.size(), 1u);
  EXPECT_EQ(sleep->execs[0].argv, (std::vector<std::string>{"sleep", "999"}));
  EXPECT_TRUE(sleep->execs[0].env.empty());  // no /proc entry: nothing guessed

  // Never the rest of the environment, anywhere in the files.
  ASSERT_TRUE(writer_->stop(107 * kS));
  EXPECT_EQ(count(h->db(), "SELECT count(*) FROM envs WHERE instr(text,'hunter2')>0"), 0);
  EXPECT_EQ(count(h->db(), "SELECT count(*) FROM envs WHERE instr(text,'HOME=')>0"), 0);
  for (const auto& suffix : {"", "-wal"}) {
    EXPECT_EQ(slurp(path_ + suffix).find("hunter2"), std::string::npos) << suffix;
  }
  EXPECT_EQ(dangling(h->db()), 0);
}

TEST_F(RecorderTest, RestartClosesWhatWentAwayAndKeepsWhatRuns) {
  ASSERT_TRUE(recorder_->start(100 * kS));
  add_bash();
  recorder_->apply({ev_fork(101 * kS, 600, 500, 1 * kS, "sshd"),
                    ev_exec(101 * kS + 1 * kMs, 600, 101 * kS, "/usr/bin/bash", {"-bash"}, 1000),
                    ev_fork(102 * kS, 700, 600, 101 * kS, "bash")},
                   102 * kS);
  // The recorder was killed; 700 exited unseen meanwhile, 600 still runs.
  ASSERT_NO_FATAL_FAILURE(restart(102 * kS, 200 * kS));

  auto h = History::open(path_);
  ASSERT_TRUE(h);
  auto sh = get(*h, {700, 102 * kS});
  ASSERT_TRUE(sh);
  EXPECT_EQ(sh->exit_ns, 200 * kS);
  EXPECT_TRUE(sh->flags & kFlagExitUnseen);
  auto bash = get(*h, kRBash);
  ASSERT_TRUE(bash);
  EXPECT_FALSE(bash->exit_ns);
  EXPECT_EQ(count(h->db(), "SELECT count(*) FROM processes WHERE pid=600"), 1);  // the same row, continued
}

// Events carry exact start times, /proc only clock ticks: after a restart
// the process a previous run recorded from its fork event (101.003 s) is
// the one /proc now shows starting at 101.00 s, not a new one.
TEST_F(RecorderTest, RestartMatchesEventStartTimesToProcTicks) {
  ASSERT_TRUE(recorder_->start(100 * kS));
  add_bash();
  const uint64_t exact = 101 * kS + 3 * kMs;
  recorder_->apply({ev_fork(exact, 600, 500, 1 * kS, "sshd"),
                    ev_exec(exact + 1 * kMs, 600, exact, "/usr/bin/bash", {"-bash"}, 1000)},
                   102 * kS);
  ASSERT_NO_FATAL_FAILURE(restart(102 * kS, 200 * kS));
  auto h = History::open(path_);
  ASSERT_TRUE(h);
  EXPECT_EQ(count(h->db(), "SELECT count(*) FROM processes WHERE pid=600"), 1);
  EXPECT_EQ(count(h->db(), "SELECT count(*) FROM processes WHERE pid=600 AND exit_ns IS NOT NULL"), 0);
}

TEST_F(RecorderTest, FullDiskKeepsRecordsAndWritesThemWhenSpaceReturns) {
  ASSERT_TRUE(recorder_->start(100 * kS));
  const int64_t pages = count(writer_->db(), "PRAGMA page_count");
  ASSERT_TRUE(writer_->db().exec("PRAGMA max_page_count=" + std::to_string(pages)));
  std::vector<core::Event> batch;
  for (int i = 0; i < 200; ++i) {
    uint64_t t = 110 * kS + uint64_t(i) * kMs;
    batch.push_back(ev_fork(t, 2000 + i, 500, 1 * kS, "sshd"));
    batch.push_back(ev_exec(t + 1, 2000 + i, t, "/usr/bin/job" + std::to_string(i),
                            {"job", std::string(600, 'q'), std::to_string(i)}));
    batch.push_back(ev_exit(t + 2, 2000 + i, t, 0));
  }
  recorder_->apply(batch, 111 * kS);
  recorder_->flush(111 * kS, true);
  EXPECT_FALSE(recorder_->stats().writing);
  std::string notice = recorder_->take_notice();
  EXPECT_NE(notice.find("full"), std::string::npos) << notice;
  EXPECT_TRUE(recorder_->take_notice().empty());  // said once
  recorder_->flush(112 * kS, true);
  EXPECT_TRUE(recorder_->take_notice().empty());  // still failing: not said again
  ASSERT_TRUE(writer_->db().exec("PRAGMA max_page_count=1073741823"));
  recorder_->flush(113 * kS, true);
  EXPECT_TRUE(recorder_->stats().writing);
  EXPECT_NE(recorder_->take_notice().find("writable again"), std::string::npos);
  EXPECT_EQ(recorder_->stats().dropped, 0u);
  EXPECT_EQ(count(writer_->db(), "SELECT count(*) FROM processes WHERE pid>=2000 AND exit_ns IS NOT NULL"), 200);
  EXPECT_EQ(count(writer_->db(), "SELECT count(*) FROM execs e JOIN processes p ON p.id=e.process "
                                 "WHERE p.pid>=2000"),
            200);
  EXPECT_EQ(dangling(writer_->db()), 0);
}

}  // namespace
}  // namespace lineage::store
