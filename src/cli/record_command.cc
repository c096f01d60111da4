#include "cli/record_command.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "audit/live.h"
#include "audit/rules.h"
#include "core/clock.h"
#include "core/live_tree.h"
#include "core/time_spec.h"
#include "events/sources.h"
#include "output/json_writer.h"
#include "output/sanitize.h"
#include "procfs/reader.h"
#include "store/history.h"
#include "store/recall.h"
#include "store/recorder.h"
#include "store/schema.h"

namespace lineage::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

std::string parent_dir(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The database's directory, made 0700 when missing (history holds every
// command line run on the machine).
Result<bool> make_dir(const std::string& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Error{ErrorKind::kUsage, fmt::format("{} is not a directory", dir)};
    return true;
  }
  if (errno != ENOENT) return Error{ErrorKind::kPermission, fmt::format("cannot use {}: {}", dir, strerror(errno))};
  if (auto up = parent_dir(dir); up != dir) {
    if (auto r = make_dir(up); !r) return r;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error{errno == EACCES || errno == EROFS ? ErrorKind::kPermission : ErrorKind::kInternal,
                 fmt::format("cannot create {}: {}", dir, strerror(errno))};
  }
  // A default ACL of the parent overrides mkdir's mode (and the umask).
  if (UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)); fd.valid()) {
    ::fchmod(fd.get(), 0700);
  }
  return true;
}

// The database, its WAL and shared memory are the owner's alone, whatever
// the umask or a default ACL of their directory (which overrides the
// umask): each made 0600 without following a symlink (a link planted at
// --db must not make root chmod its target). Never by opening them: SQLite
// holds POSIX locks on them, and closing any descriptor of a file drops
// all of this process's locks on it (then a reader takes the -shm for
// unused and truncates it under the recorder's mapping: SIGBUS). glibc's
// fchmodat(AT_SYMLINK_NOFOLLOW) opens at most an O_PATH descriptor, whose
// close leaves the locks alone (record_scenarios checks the -shm's).
void restrict_to_owner(const std::string& db) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const std::string path = db + suffix;
    struct stat st {};
    if (::fstatat(AT_FDCWD, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode)) {
      ::fchmodat(AT_FDCWD, path.c_str(), 0600, AT_SYMLINK_NOFOLLOW);  // refuses a symlink swapped in
    }
  }
}

// One recorder per database: an flock on DB.lock, which holds the pid.
struct Lock {
  UniqueFd fd;
  int32_t holder = 0;  // when taken by another process
};

Lock try_lock(const std::string& db, bool create) {
  Lock l;
  std::string path = db + ".lock";
  int flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0);
  l.fd = UniqueFd(::open(path.c_str(), flags, 0600));
  if (!l.fd.valid() && !create) l.fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!l.fd.valid()) return l;
  // Readers probe the lock with a LOCK_SH they release at once
  // (store/schema.cc open_for_read): a recorder starting retries for a
  // moment, so only another recorder, which keeps it, refuses it.
  for (int attempt = 0; attempt < 10; ++attempt) {
    if (::flock(l.fd.get(), LOCK_EX | LOCK_NB) == 0) return l;
    if (!create || errno != EWOULDBLOCK) break;
    ::usleep(5000);
  }
  char buf[16] = {};
  ssize_t n = ::pread(l.fd.get(), buf, sizeof buf - 1, 0);
  l.holder = n > 0 ? std::atoi(buf) : -1;
  l.fd.reset();
  return l;
}

}  // namespace

int32_t record_lock_holder(const std::string& db) { return try_lock(db, false).holder; }

namespace {

// sd_notify from libsystemd when it is there (loaded only under systemd).
void notify(const char* state) {
  if (std::getenv("NOTIFY_SOCKET") == nullptr) return;
  static void* lib = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) return;
  using Fn = int (*)(int, const char*);
  static auto fn = reinterpret_cast<Fn>(::dlsym(lib, "sd_notify"));
  if (fn) fn(0, state);
}

Result<int> show_status(const RecordOptions& o) {
  Lock lock = try_lock(o.db, false);
  // The lock is taken before the event source is attached and /proc is
  // read: the holder records only once its run has committed a first batch
  // (until then it is starting, and a process that comes and goes is missed).
  bool holding = lock.holder != 0;
  bool running = false;
  auto history = store::History::open(o.db);
  if (!history && history.error().kind != ErrorKind::kNotFound) return history.error();
  struct stat st {};
  int64_t bytes = 0;
  for (const char* suffix : {"", "-wal"}) {
    if (::stat((o.db + suffix).c_str(), &st) == 0) bytes += st.st_size;
  }
  store::Coverage c;
  if (history) {
    auto cov = history->coverage();
    if (!cov) return cov.error();
    c = *cov;
  }
  double rate = 0;
  std::string source;
  if (history && holding) {
    auto s = history->db().prepare(
        "SELECT rate, source, updated_ns IS NOT NULL FROM runs WHERE pid=?1 AND stopped_ns IS NULL "
        "ORDER BY id DESC LIMIT 1");
    if (s) {
      s->bind(1, int64_t{lock.holder});
      if (s->step() == SQLITE_ROW) rate = s->real(0), source = s->text(1), running = s->i64(2) != 0;
    }
  }
  bool starting = holding && !running;
  if (o.common.json) {
    nlohmann::ordered_json j;
    j["schema"] = "lineage.record-status/v1";
    j["running"] = running;
    if (starting) j["starting"] = true;
    if (holding && lock.holder > 0) j["pid"] = lock.holder;
    if (!source.empty()) j["source"] = source;
    j["database"] = o.db;
    j["exists"] = static_cast<bool>(history);
    j["bytes"] = bytes;
    j["processes"] = c.processes;
    j["events"] = c.recorder_events;
    j["events_per_second"] = rate;
    j["lost"] = c.recorder_lost;
    if (c.first_unix_ns) j["oldest"] = core::format_time(c.first_unix_ns, true);
    if (c.last_unix_ns) j["newest"] = core::format_time(c.last_unix_ns, true);
    std::printf("%s\n", output::dump_json(j).c_str());
    return running ? 0 : 1;
  }
  std::string out;
  if (running) {
    out += fmt::format("recorder:  running, pid {}{}\n", lock.holder, source.empty() ? "" : ", source " + source);
    out += fmt::format("events:    {} ({:.0f}/s), {} lost\n", c.recorder_events, rate, c.recorder_lost);
  } else if (starting) {
    out += lock.holder > 0 ? fmt::format("recorder:  starting, pid {} (not recording yet)\n", lock.holder)
                           : std::string("recorder:  starting (not recording yet)\n");
  } else {
    out += "recorder:  not running (start it: lineage record, or systemctl start lineage-record)\n";
  }
  if (history) {
    out += fmt::format("database:  {}, {:.1f} MiB, {} processes\n", output::escape_text(o.db),
                       static_cast<double>(bytes) / (1024.0 * 1024.0), c.processes);
    if (c.first_unix_ns) out += fmt::format("oldest:    {}\n", core::format_time(c.first_unix_ns, false));
    if (c.last_unix_ns) out += fmt::format("newest:    {}\n", core::format_time(c.last_unix_ns, false));
  } else {
    out += fmt::format("database:  none at {}\n", output::escape_text(o.db));
  }
  std::fputs(out.c_str(), stdout);
  return running ? 0 : 1;
}

}  // namespace

Result<int> run_record(const RecordOptions& o) {
  if (o.status) return show_status(o);
  if (o.duration < 0) return usage_error("--duration must be positive");
  store::RecorderOptions ro;
  if (!o.keep.empty()) {
    auto keep = core::parse_duration(o.keep);
    if (!keep) return keep.error();
    ro.retention.keep_ns = *keep;
  }
  if (!o.max_size.empty()) {
    auto size = core::parse_size(o.max_size);
    if (!size) return size.error();
    if (*size < (1u << 20)) return usage_error("--max-size must be at least 1M");
    ro.retention.max_bytes = *size;
  }
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  // The database, its WAL and lock hold every command line run here: no
  // file of ours is readable by others, whatever the caller's umask.
  ::umask(0077);
  if (auto r = make_dir(parent_dir(o.db)); !r) return r.error();
  Lock lock = try_lock(o.db, true);
  if (lock.holder != 0) {
    return usage_error(fmt::format("another lineage record (pid {}) is writing {}", lock.holder,
                                   output::escape_text(o.db)));
  }
  if (!lock.fd.valid()) {
    return Error{ErrorKind::kPermission, fmt::format("cannot lock {}.lock: {}", o.db, strerror(errno))};
  }
  ::fchmod(lock.fd.get(), 0600);  // it holds only a pid, but nobody else's to read either
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock.fd.get(), 0) != 0 || ::pwrite(lock.fd.get(), pid.data(), pid.size(), 0) < 0) {
    return Error{ErrorKind::kInternal, fmt::format("cannot write {}.lock: {}", o.db, strerror(errno))};
  }

  std::FILE* export_file = nullptr;
  if (o.export_to == "-") {
    export_file = stdout;
  } else if (!o.export_to.empty()) {
    int fd = ::open(o.export_to.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return Error{ErrorKind::kPermission, fmt::format("cannot open {}: {}", o.export_to, strerror(errno))};
    export_file = ::fdopen(fd, "a");
  }
  ro.export_to = export_file;

  // An existing database (and a WAL a killed recorder left) is made 0600
  // before SQLite opens it (a new -wal and -shm take the database's mode),
  // and an older one is migrated now, before the event source opens: a
  // migration of a large history (5 s for 1,000,000 processes) would
  // otherwise fill the source's buffer with events nobody reads. A file
  // that is corrupt or newer is refused here, with nothing started. A new
  // database is created only once the source is open (SQLite refuses a
  // symlink at --db). The handle opened here is the writer's: the file is
  // opened once.
  std::optional<store::Db> migrated;
  if (struct stat st {}; ::lstat(o.db.c_str(), &st) == 0 || errno != ENOENT) {
    restrict_to_owner(o.db);
    std::string notice;
    auto db = store::open_for_write(o.db, &notice);
    if (!db) return db.error();
    if (!notice.empty()) std::fprintf(stderr, "lineage record: %s\n", output::escape_text(notice).c_str());
    migrated = std::move(*db);
  }
  auto opened = events::open_source(o.source, *reader, o.poll_interval_ms, false, true, store::may_be_context);
  if (!opened) return opened.error();
  auto& source = opened->source;
  uint64_t now = core::boot_now_ns();
  store::RunInfo run;
  run.boot_id = store::read_boot_id(o.common.proc_root);
  if (run.boot_id.empty()) return Error{ErrorKind::kInternal, "cannot read the boot id (/proc/sys/kernel/random/boot_id)"};
  run.realtime_offset_ns = core::realtime_now_ns() - static_cast<int64_t>(now);
  run.now_ns = now;
  run.pid = ::getpid();
  run.source = std::string(source->name());
  run.tick_ns = reader->tick_ns();
  ro.boot_id = run.boot_id;
  auto writer = migrated ? store::Writer::open(std::move(*migrated), run) : store::Writer::open(o.db, run);
  if (!writer) return writer.error();
  restrict_to_owner(o.db);  // a new file, before any command line is in it

  // Every exec judged by the audit rules (fork-storm included), the
  // findings stored with their batch: `audit --since` reads them back.
  std::optional<audit::LiveAuditor> auditor;
  if (!o.no_audit) {
    std::vector<const audit::Rule*> rules;
    for (const audit::Rule& r : audit::all_rules()) rules.push_back(&r);
    auditor.emplace(audit::LiveAuditOptions{std::move(rules), audit::Severity::kLow, o.storm_rate}, &*reader);
    ro.auditor = &*auditor;
  }
  core::LiveTree tree(o.max_processes, reader->tick_ns());
  store::Recorder recorder(*writer, *reader, tree, ro);
  if (auto r = recorder.start(now); !r) return r.error();

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::fprintf(stderr, "lineage record: writing %s; source %s (%s); SIGTERM or Ctrl-C to stop\n",
               output::escape_text(o.db).c_str(), run.source.c_str(), opened->why.c_str());
  notify("READY=1");

  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.duration * 1000));
  std::vector<core::Event> batch;
  batch.reserve(4096);
  // A busy source wakes the recorder for every few events (the ring buffer
  // notifies a consumer that has caught up). Waiting min_poll_gap_ns between
  // polls that found events takes them in batches instead: far fewer
  // wake-ups, one lost-count read per poll, and a commit every second
  // anyway (a wake-up costs as much CPU as recording a process or two). The
  // 16 MiB ring holds ~2,000 exec records with their environment (8 KiB
  // each): 50 ms of 40,000 exec/s. Only for bpf: the netlink source reads
  // /proc as it receives each event, and waiting would find more gone.
  const uint64_t min_poll_gap_ns = source->name() == "bpf" ? 50'000'000 : 0;
  uint64_t last_poll_ns = 0;
  bool busy = false;
  while (!g_stop) {
    if (o.duration > 0 && std::chrono::steady_clock::now() >= deadline) break;
    batch.clear();
    // Wake for the next commit on time: an event waits at most one batch.
    uint64_t due = recorder.next_flush_ns(), at = core::boot_now_ns();
    if (busy && at - last_poll_ns < min_poll_gap_ns) {
      uint64_t wait = std::min(min_poll_gap_ns - (at - last_poll_ns), due > at ? due - at : 0);
      struct timespec ts {static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
      ::nanosleep(&ts, nullptr);  // a signal ends it early: g_stop is checked below
      at = core::boot_now_ns();
    }
    int timeout_ms = due > at ? static_cast<int>(std::min<uint64_t>(200, (due - at) / 1'000'000 + 1)) : 1;
    if (g_stop) break;
    last_poll_ns = at;
    auto got = source->poll(batch, timeout_ms);
    if (!got) return got.error();
    // A poll that took many execs (over 1/8 of the ring) does not wait:
    // a burst gets the ring's whole room.
    size_t execs = 0;
    for (const auto& e : batch) execs += e.kind == core::EventKind::kExec;
    busy = !batch.empty() && execs < 256;
    now = core::boot_now_ns();
    recorder.apply(batch, now);
    recorder.flush(now);
    if (auto notice = recorder.take_notice(); !notice.empty()) {
      std::fprintf(stderr, "lineage record: %s\n", output::escape_text(notice).c_str());
    }
  }
  notify("STOPPING=1");
  now = core::boot_now_ns();
  recorder.flush(now, true);
  const auto& st = recorder.stats();
  if (!st.writing) {
    std::fprintf(stderr, "lineage record: %zu records could not be written: %s\n",
                 static_cast<size_t>(st.records), output::escape_text(recorder.take_notice()).c_str());
  }
  (void)writer->stop(now);
  if (export_file != nullptr && export_file != stdout) std::fclose(export_file);
  std::fprintf(stderr, "lineage record: %llu events, %llu lost, %llu records in %llu commits, %llu findings\n",
               static_cast<unsigned long long>(st.events), static_cast<unsigned long long>(st.lost),
               static_cast<unsigned long long>(st.records), static_cast<unsigned long long>(st.commits),
               static_cast<unsigned long long>(st.findings));
  return st.writing ? 0 : static_cast<int>(ErrorKind::kInternal);
}

}  // namespace lineage::cli
