// The history reader over arbitrary files: whatever the bytes, History::open
// and its queries return (a value or an error) without crashing, hanging or
// leaking, and never change the file.
//
// Input: byte 0 picks how the file is made.
//   even: the rest of the input is the whole file;
//   odd:  a valid small history (built once, 512-byte pages) with the rest
//         of the input written over it at the offset in bytes 1-2 (little
//         endian), so the fuzzer reaches the queries past SQLite's checks.
// With FUZZ_HISTORY_DB_SEEDS=DIR set, writes its seed inputs into DIR.
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "store/history.h"
#include "store/writer.h"

namespace {

namespace fs = std::filesystem;
using lineage::core::ProcessKey;
using namespace lineage::store;

constexpr uint64_t kS = 1'000'000'000;
constexpr int64_t kOffset = 1'700'000'000 * int64_t{kS};

// Says which check failed, then stops where the fuzzer sees a crash.
#define check(ok)                                                 \
  do {                                                            \
    if (!(ok)) {                                                  \
      std::fprintf(stderr, "check failed at line %d\n", __LINE__); \
      __builtin_trap();                                           \
    }                                                             \
  } while (0)

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

void remove_beside(const std::string& path) {
  for (const char* suffix : {"-wal", "-shm", "-journal"}) ::unlink((path + suffix).c_str());
}

ForkRecord fork_of(ProcessKey k, ProcessKey parent, const char* comm) {
  ForkRecord f;
  f.key = k;
  f.parent = parent;
  f.fork_ns = k.start_time_ns;
  f.comm = comm;
  return f;
}

ExecRecord exec_of(ProcessKey k, const char* exe, std::string argv) {
  ExecRecord e;
  e.key = k;
  e.time_ns = k.start_time_ns + 1000;
  e.comm = exe;
  e.exe = exe;
  e.argv = std::move(argv);
  e.cwd = "/root";
  e.cgroup = "0::/system.slice/cron.service\n";
  e.env = std::string("SSH_CONNECTION=1 2 3 4\0TMUX=/t,1,0", 34);
  e.sid = e.pgid = k.pid;
  e.verified = false;
  e.unverified_reason = "not packaged";
  return e;
}

// A small history: a chain, a pid held twice, a re-parenting, exits.
std::string build_base(const std::string& dir) {
  const std::string path = dir + "/base.db";
  {
    // 512-byte pages keep the file (and the seeds) small.
    auto db = Db::open(path, Db::Mode::kReadWrite);
    check(db && db->exec("PRAGMA page_size=512; CREATE TABLE x(y); DROP TABLE x;"));
  }
  {
    auto w = Writer::open(path, RunInfo{"fuzz-boot", kOffset, 1 * kS, 77, "fuzz"});
    check(w.ok());
    const ProcessKey init{1, kS}, cron{100, 2 * kS}, sh{200, 3 * kS}, daemon{300, 4 * kS}, again{200, 6 * kS};
    ChangeRecord reparent;
    reparent.key = daemon;
    reparent.time_ns = 5 * kS;
    reparent.parent = init;
    ExitRecord sh_exit{sh, 5 * kS, 1 << 8, false};
    ExitRecord again_exit{again, 7 * kS, 9, false};
    check(w->write({fork_of(init, {}, "systemd"), fork_of(cron, init, "systemd"),
                    exec_of(cron, "/usr/sbin/cron", std::string("cron\0-f", 7)), fork_of(sh, cron, "cron"),
                    exec_of(sh, "/bin/sh", std::string("sh\0-c\0daemon", 12)), fork_of(daemon, sh, "sh"),
                    exec_of(daemon, "/usr/bin/daemon", "daemon"), sh_exit, reparent, fork_of(again, cron, "cron"),
                    exec_of(again, "/bin/sh", std::string("sh\0-c\0daemon", 12)), again_exit})
              .ok());
    check(w->stop(8 * kS).ok());
    check(w->db().exec("PRAGMA journal_mode=DELETE").ok());
  }
  std::string bytes = slurp(path);
  remove_beside(path);
  ::unlink(path.c_str());
  return bytes;
}

std::string g_dir, g_file, g_base;

void write_seeds(const char* out) {
  auto seed = [&](const std::string& name, const std::string& bytes) { spit(std::string(out) + "/" + name, bytes); };
  seed("raw_history", std::string(1, '\0') + g_base);
  seed("raw_truncated", std::string(1, '\0') + g_base.substr(0, 2048));
  seed("raw_header_only", std::string(1, '\0') + g_base.substr(0, 100));
  seed("raw_empty", std::string(1, '\0'));
  // Over the valid history: a newer user_version (offset 60), a zeroed
  // second page, garbage in the middle of the data.
  seed("overlay_newer_version", std::string("\x01\x3c\x00\x00\x00\x00\x09", 7));
  seed("overlay_zero_page2", std::string("\x01\x00\x02", 3) + std::string(512, '\0'));
  seed("overlay_middle", std::string("\x01\x00\x10", 3) + std::string(64, '\xff'));
  seed("overlay_page_size", std::string("\x01\x10\x00\x02\x00", 5));
}

void run_queries(const History& h) {
  (void)h.coverage();
  int64_t boot = h.boot_of("fuzz-boot");
  for (int32_t pid : {1, 100, 200, 300, 0, -1}) {
    (void)h.find(boot, {pid, 3 * kS}, 10'000'000);
    HistoryFilter f;
    f.pid = pid;
    (void)h.query(f);
    for (int64_t t : {int64_t{0}, kOffset + 4 * int64_t{kS}, kOffset + 6 * int64_t{kS}, INT64_MAX}) {
      (void)h.holder_at(pid, t);
    }
  }
  HistoryFilter f;
  f.name = "sh";
  f.exe = "/bin/sh";
  f.uid = 0;
  f.since_unix_ns = kOffset;
  f.until_unix_ns = kOffset + 10 * int64_t{kS};
  (void)h.query(f);
  (void)h.query(HistoryFilter{});
  for (int64_t t : {kOffset + 4 * int64_t{kS}, kOffset + 7 * int64_t{kS}}) {
    if (auto alive = h.alive_at(t, 1000); alive) {
      for (const auto& p : *alive) {
        (void)p.exec_at(t - p.realtime_offset_ns);
        (void)p.parent_at(5 * kS);
        if (p.status) (void)describe_status(*p.status);
      }
    }
  }
  for (int64_t row = 0; row <= 12; ++row) {
    if (auto p = h.by_row(row); p && *p) {
      (void)(*p)->comm_at(4 * kS);
      if ((*p)->status) (void)describe_status(*(*p)->status);
    }
    (void)h.children(row);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string tmpl = (fs::temp_directory_path() / "fuzz_history_db.XXXXXX").string();
  check(::mkdtemp(tmpl.data()) != nullptr);
  g_dir = tmpl;
  g_file = g_dir + "/history.db";
  g_base = build_base(g_dir);
  check(g_base.size() > 1024 && g_base.size() < 64 * 1024);
  if (const char* out = std::getenv("FUZZ_HISTORY_DB_SEEDS")) write_seeds(out);
  std::atexit([] {
    std::error_code ec;
    fs::remove_all(g_dir, ec);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string file;
  if (data[0] % 2 == 0) {
    file.assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  } else {
    if (size < 3) return 0;
    size_t offset = (data[1] | size_t{data[2]} << 8) % (g_base.size() + 1);
    file = g_base;
    std::string patch(reinterpret_cast<const char*>(data) + 3, size - 3);
    if (offset + patch.size() > file.size()) file.resize(offset + patch.size());
    file.replace(offset, patch.size(), patch);
  }
  remove_beside(g_file);
  spit(g_file, file);
  {
    auto h = History::open(g_file);
    if (h) {
      run_queries(*h);
    } else {
      // One short printable line, whatever the file holds.
      const std::string& m = h.error().message;
      check(!m.empty() && m.size() < 600);
      for (char c : m) check(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
    }
  }
  // The reader never writes the file: same size, same bytes.
  struct stat st {};
  check(::stat(g_file.c_str(), &st) == 0 && static_cast<size_t>(st.st_size) == file.size());
  check(slurp(g_file) == file);
  remove_beside(g_file);
  return 0;
}
