#include "store/history.h"

#include <signal.h>
#include <string.h>

#include <fmt/format.h>

#include "store/schema.h"

namespace lineage::store {
namespace {

constexpr const char* kProcessColumns =
    "p.id, p.boot, b.realtime_offset_ns, p.pid, p.start_ns, p.parent, p.ppid, p.fork_ns, p.exit_ns, p.status, "
    "p.flags, (SELECT text FROM comms WHERE id=p.comm), p.uid, p.gid";
constexpr const char* kFrom = " FROM processes p JOIN boots b ON b.id=p.boot ";

std::vector<std::string> split_nul(const std::string& s) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t end = s.find('\0', pos);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

template <class T>
std::optional<T> opt_as(const Stmt& s, int col) {
  if (s.is_null(col)) return std::nullopt;
  return static_cast<T>(s.i64(col));
}

// The statements that complete a recorded process: its execs and its
// re-parentings, prepared once per load.

}  // namespace

struct History::Readers {
  Stmt execs, parents;

  static Result<Readers> prepare(const Db& db) {
    auto e = db.prepare(
        "SELECT e.time_ns, (SELECT text FROM comms WHERE id=e.comm), (SELECT text FROM paths WHERE id=e.exe), "
        "(SELECT text FROM argvs WHERE id=e.argv), (SELECT text FROM paths WHERE id=e.interpreter), e.dev, e.ino, "
        "e.uid, e.gid, e.ruid, (SELECT text FROM paths WHERE id=e.cwd), (SELECT text FROM paths WHERE id=e.cgroup), "
        "(SELECT text FROM envs WHERE id=e.env), e.sid, e.pgid, e.tty, e.login_uid, e.verified, "
        "(SELECT text FROM paths WHERE id=e.unverified), e.exe_deleted, e.cwd IS NULL, e.cgroup IS NULL "
        "FROM execs e WHERE e.process=?1 ORDER BY e.time_ns");
    if (!e) return e.error();
    auto c = db.prepare("SELECT time_ns, value FROM changes WHERE process=?1 AND kind=?2 ORDER BY time_ns");
    if (!c) return c.error();
    return Readers{std::move(*e), std::move(*c)};
  }

  Result<bool> fill(const Db& db, RecordedProcess& p) {
    Stmt& e = execs;
    e.reset();
    e.bind(1, p.row);
    int rc;
    while ((rc = e.step()) == SQLITE_ROW) {
      RecordedExec x;
      x.time_ns = static_cast<uint64_t>(e.i64(0));
      x.comm = e.text(1);
      x.exe = e.text(2);
      x.argv = split_nul(e.text(3));
      x.interpreter = e.text(4);
      x.dev = static_cast<uint64_t>(e.i64(5));
      x.ino = static_cast<uint64_t>(e.i64(6));
      x.uid = static_cast<uint32_t>(e.i64(7));
      x.gid = static_cast<uint32_t>(e.i64(8));
      x.ruid = opt_as<uint32_t>(e, 9);
      if (e.i64(20) == 0) x.cwd = e.text(10);
      if (e.i64(21) == 0) x.cgroup = e.text(11);
      x.env = split_nul(e.text(12));
      x.sid = opt_as<int32_t>(e, 13);
      x.pgid = opt_as<int32_t>(e, 14);
      x.tty = opt_as<int32_t>(e, 15);
      x.login_uid = opt_as<uint32_t>(e, 16);
      if (!e.is_null(17)) x.verified = e.i64(17) != 0;
      x.unverified_reason = e.text(18);
      x.exe_deleted = e.i64(19) != 0;
      p.execs.push_back(std::move(x));
    }
    if (rc != SQLITE_DONE) return db.error("read", rc);
    Stmt& c = parents;
    c.reset();
    c.bind(1, p.row).bind(2, int64_t{kChangeParent});
    while ((rc = c.step()) == SQLITE_ROW) p.parents.emplace_back(static_cast<uint64_t>(c.i64(0)), c.i64(1));
    if (rc != SQLITE_DONE) return db.error("read", rc);
    return true;
  }
};

const RecordedExec* RecordedProcess::exec_at(uint64_t boot_ns) const {
  const RecordedExec* found = nullptr;
  for (const auto& e : execs) {
    if (e.time_ns <= boot_ns) found = &e;
  }
  return found;
}

int64_t RecordedProcess::parent_at(uint64_t boot_ns) const {
  int64_t parent = parent_row;
  for (const auto& [t, row] : parents) {
    if (t <= boot_ns) parent = row;
  }
  return parent;
}

std::string RecordedProcess::comm_at(uint64_t boot_ns) const {
  const RecordedExec* e = exec_at(boot_ns);
  return e ? e->comm : fork_comm;
}

std::string describe_status(int32_t status) {
  int sig = status & 0x7f;
  if (sig == 0) return fmt::format("code {}", (status >> 8) & 0xff);
  const char* name = sigabbrev_np(sig);
  return name ? fmt::format("signal {} ({})", sig, name) : fmt::format("signal {}", sig);
}

Result<History> History::open(const std::string& path) {
  auto db = open_for_read(path);
  if (!db) return db.error();
  History h;
  h.db_ = std::move(*db);
  // Reads through mmap rather than a read() per 4 KiB page, and a cache big
  // enough for a scan's indexes: a full scan of 1,000,000 processes took
  // 170 ms of read()s; the count of rows, 22 ms. Neither writes the file.
  for (const char* pragma : {"PRAGMA mmap_size=1073741824", "PRAGMA cache_size=-16384", "PRAGMA temp_store=MEMORY"}) {
    (void)h.db_.exec(pragma);
  }
  return h;
}

int64_t History::boot_of(const std::string& boot_id) const {
  auto s = db_.prepare("SELECT id FROM boots WHERE boot_id=?1");
  if (!s) return 0;
  s->bind_text(1, boot_id);
  return s->step() == SQLITE_ROW ? s->i64(0) : 0;
}

Result<std::vector<RecordedProcess>> History::load(Stmt& s) const {
  std::vector<RecordedProcess> out;
  int rc;
  while ((rc = s.step()) == SQLITE_ROW) {
    RecordedProcess p;
    p.row = s.i64(0);
    p.boot = s.i64(1);
    p.realtime_offset_ns = s.i64(2);
    p.key = {static_cast<int32_t>(s.i64(3)), static_cast<uint64_t>(s.i64(4))};
    p.parent_row = s.is_null(5) ? 0 : s.i64(5);
    p.ppid = static_cast<int32_t>(s.i64(6));
    p.fork_ns = static_cast<uint64_t>(s.i64(7));
    p.exit_ns = opt_as<uint64_t>(s, 8);
    p.status = opt_as<int32_t>(s, 9);
    p.flags = s.i64(10);
    p.fork_comm = s.text(11);
    p.uid = static_cast<uint32_t>(s.i64(12));
    p.gid = static_cast<uint32_t>(s.i64(13));
    out.push_back(std::move(p));
  }
  s.reset();
  if (rc != SQLITE_DONE) return db_.error("read", rc);
  if (out.empty()) return out;
  // Two statements for all the rows (tree --at loads thousands): preparing
  // them per process cost more than running them.
  auto readers = cached_readers();
  if (!readers) return readers.error();
  for (auto& p : out) {
    if (auto r = (*readers)->fill(db_, p); !r) return r.error();
  }
  return out;
}

Result<bool> History::fill(RecordedProcess& p) const {
  auto readers = cached_readers();
  if (!readers) return readers.error();
  return (*readers)->fill(db_, p);
}

Result<History::Readers*> History::cached_readers() const {
  if (!readers_) {
    auto r = Readers::prepare(db_);
    if (!r) return r.error();
    readers_ = std::make_shared<Readers>(std::move(*r));
  }
  return readers_.get();
}

Result<std::optional<RecordedProcess>> History::find(int64_t boot, const core::ProcessKey& key,
                                                     uint64_t tick_ns) const {
  auto s = db_.prepare(std::string("SELECT ") + kProcessColumns + kFrom +
                       "WHERE p.boot=?1 AND p.pid=?2 AND p.start_ns BETWEEN ?3 AND ?4 ORDER BY p.start_ns LIMIT 1");
  if (!s) return s.error();
  int64_t start = static_cast<int64_t>(key.start_time_ns), tick = static_cast<int64_t>(tick_ns);
  s->bind(1, boot).bind(2, int64_t{key.pid}).bind(3, start - tick).bind(4, start + tick);
  auto rows = load(*s);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<RecordedProcess>();
  return std::optional<RecordedProcess>(std::move(rows->front()));
}

Result<std::optional<RecordedProcess>> History::by_row(int64_t row) const {
  if (!by_row_.valid()) {  // asked once per ancestor of a chain: prepared once
    auto s = db_.prepare(std::string("SELECT ") + kProcessColumns + kFrom + "WHERE p.id=?1");
    if (!s) return s.error();
    by_row_ = std::move(*s);
  }
  by_row_.bind(1, row);
  auto rows = load(by_row_);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<RecordedProcess>();
  return std::optional<RecordedProcess>(std::move(rows->front()));
}

Result<std::optional<RecordedProcess>> History::holder_at(int32_t pid, int64_t unix_ns) const {
  auto s = db_.prepare(std::string("SELECT ") + kProcessColumns + kFrom +
                       "WHERE p.boot IN (SELECT id FROM boots) AND p.pid=?1 AND p.start_ns + b.realtime_offset_ns <= ?2 "
                       "AND (p.exit_ns IS NULL OR p.exit_ns + b.realtime_offset_ns > ?2) "
                       "ORDER BY p.start_ns + b.realtime_offset_ns DESC LIMIT 1");
  if (!s) return s.error();
  s->bind(1, int64_t{pid}).bind(2, unix_ns);
  auto rows = load(*s);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<RecordedProcess>();
  return std::optional<RecordedProcess>(std::move(rows->front()));
}

Result<std::vector<RecordedProcess>> History::query(const HistoryFilter& f) const {
  std::string sql = std::string("SELECT ") + kProcessColumns + kFrom + "WHERE 1";
  if (f.pid) sql += " AND p.boot IN (SELECT id FROM boots) AND p.pid=?1";
  if (!f.name.empty()) {
    // Candidates through the indexes on execs(comm) and processes(comm),
    // then sorted: scanning every process and testing it took 400 ms at
    // 1,000,000 processes.
    sql += " AND p.id IN (SELECT process FROM execs WHERE comm IN (SELECT id FROM comms WHERE instr(text, ?2) > 0)"
           " UNION SELECT id FROM processes WHERE comm IN (SELECT id FROM comms WHERE instr(text, ?2) > 0))";
  }
  if (!f.exe.empty()) {
    sql += " AND p.id IN (SELECT process FROM execs WHERE exe IN (SELECT id FROM paths WHERE hash=?3 AND text=?4))";
  }
  if (f.uid) sql += " AND (p.uid=?5 OR EXISTS (SELECT 1 FROM execs WHERE process=p.id AND uid=?5))";
  if (f.until_unix_ns) sql += " AND p.start_ns + b.realtime_offset_ns <= ?6";
  if (f.since_unix_ns) sql += " AND (p.exit_ns IS NULL OR p.exit_ns + b.realtime_offset_ns >= ?7)";
  sql += " ORDER BY p.start_ns + b.realtime_offset_ns DESC, p.id DESC LIMIT ?8";
  auto s = db_.prepare(sql);
  if (!s) return s.error();
  if (f.pid) s->bind(1, int64_t{*f.pid});
  if (!f.name.empty()) s->bind_text(2, f.name);
  if (!f.exe.empty()) s->bind(3, text_hash(f.exe)).bind(4, f.exe);
  if (f.uid) s->bind(5, int64_t{*f.uid});
  if (f.until_unix_ns) s->bind(6, *f.until_unix_ns);
  if (f.since_unix_ns) s->bind(7, *f.since_unix_ns);
  s->bind(8, static_cast<int64_t>(f.limit));
  return load(*s);
}

Result<std::vector<int64_t>> History::children(int64_t row) const {
  auto s = db_.prepare("SELECT id FROM processes WHERE parent=?1 ORDER BY fork_ns, id");
  if (!s) return s.error();
  s->bind(1, row);
  std::vector<int64_t> out;
  int rc;
  while ((rc = s->step()) == SQLITE_ROW) out.push_back(s->i64(0));
  if (rc != SQLITE_DONE) return db_.error("read", rc);
  return out;
}

Result<std::vector<RecordedProcess>> History::alive_at(int64_t unix_ns, size_t max) const {
  auto s = db_.prepare(std::string("SELECT ") + kProcessColumns + kFrom +
                       "WHERE p.start_ns + b.realtime_offset_ns <= ?1 "
                       "AND (p.exit_ns IS NULL OR p.exit_ns + b.realtime_offset_ns > ?1) "
                       "AND ?1 >= b.first_ns + b.realtime_offset_ns ORDER BY p.id LIMIT ?2");
  if (!s) return s.error();
  s->bind(1, unix_ns).bind(2, static_cast<int64_t>(max));
  return load(*s);
}

int64_t History::first_unix_ns() const {
  auto first = db_.scalar("SELECT coalesce(min(first_ns + realtime_offset_ns), 0) FROM boots");
  return first ? *first : 0;
}

Result<Coverage> History::coverage() const {
  Coverage c;
  // The newest record: the last commit of a run (a running recorder commits
  // every second; a stopped one set stopped_ns), or the newest process row's
  // fork if later. A max() over every process took 170 ms at 1,000,000.
  auto s = db_.prepare(
      "SELECT min(first_ns + realtime_offset_ns), "
      "nullif(max(coalesce((SELECT max(coalesce(r.stopped_ns, nullif(r.updated_ns, 0), r.started_ns) + "
      "b.realtime_offset_ns) FROM runs r JOIN boots b ON b.id=r.boot), 0), "
      "coalesce((SELECT coalesce(p.exit_ns, p.fork_ns) + b.realtime_offset_ns FROM processes p JOIN boots b ON "
      "b.id=p.boot ORDER BY p.id DESC LIMIT 1), 0)), 0), "
      "(SELECT count(*) FROM processes) FROM boots");
  if (!s) return s.error();
  if (s->step() == SQLITE_ROW) {
    c.first_unix_ns = s->is_null(0) ? 0 : s->i64(0);
    c.last_unix_ns = s->is_null(1) ? 0 : s->i64(1);
    c.processes = s->i64(2);
  }
  s->reset();
  auto r = db_.prepare(
      "SELECT r.pid, r.events, r.lost, r.started_ns + b.realtime_offset_ns FROM runs r JOIN boots b ON b.id=r.boot "
      "WHERE r.stopped_ns IS NULL ORDER BY r.id DESC LIMIT 1");
  if (!r) return r.error();
  if (r->step() == SQLITE_ROW) {
    c.recorder_pid = static_cast<int32_t>(r->i64(0));
    c.recorder_events = static_cast<uint64_t>(r->i64(1));
    c.recorder_lost = static_cast<uint64_t>(r->i64(2));
    c.recorder_started_unix_ns = r->i64(3);
  }
  return c;
}

}  // namespace lineage::store
