#include "store/history.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <climits>
#include <functional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "store/schema.h"

namespace lineage::store {
namespace {

// From schema 5 a NULL ppid is the parent row's pid (never NULL before).
constexpr const char* kProcessColumns =
    "p.id, p.boot, b.realtime_offset_ns, p.pid, p.start_ns, p.parent, "
    "coalesce(p.ppid, (SELECT q.pid FROM processes q WHERE q.id=p.parent), 0), p.fork_ns, p.exit_ns, p.status, "
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
  // Interned strings by kind, read once each: a forest of 10,000 processes
  // names the same few comms, paths and command lines again and again.
  struct Strings {
    explicit Strings(const char* q) : sql(q) {}
    const char* sql;
    Stmt get;  // prepared on first use: `why` of an orphan reads few kinds
    std::unordered_map<int64_t, std::string> known;
  };
  Strings comms{"SELECT text FROM comms WHERE id=?1"}, paths{"SELECT text FROM paths WHERE id=?1"},
      argvs{"SELECT text FROM argvs WHERE id=?1"}, envs{"SELECT text FROM envs WHERE id=?1"};
  const Db* db = nullptr;

  static Result<Readers> prepare(const Db& db, int64_t version) {
    Readers r;
    // Schema 4 interns the file identity and the context.
    auto e = db.prepare(
        version >= 4
            ? "SELECT e.time_ns, e.comm, e.exe, e.argv, e.interpreter, f.dev, f.ino, c.uid, c.gid, c.ruid, c.cwd, "
              "c.cgroup, c.env, e.sid, e.pgid, c.tty, c.login_uid, e.verified, e.unverified, e.exe_deleted "
              "FROM execs e LEFT JOIN files f ON f.id=e.file LEFT JOIN contexts c ON c.id=e.context "
              "WHERE e.process=?1 ORDER BY e.time_ns"
            : "SELECT time_ns, comm, exe, argv, interpreter, dev, ino, uid, gid, ruid, cwd, cgroup, env, sid, pgid, "
              "tty, login_uid, verified, unverified, exe_deleted FROM execs WHERE process=?1 ORDER BY time_ns");
    if (!e) return e.error();
    r.execs = std::move(*e);
    auto c = db.prepare("SELECT time_ns, value FROM changes WHERE process=?1 AND kind=?2 ORDER BY time_ns");
    if (!c) return c.error();
    r.parents = std::move(*c);
    r.db = &db;
    return r;
  }

  // The text of an interned string (empty: NULL or a missing row).
  const std::string& text(Strings& s, const Stmt& row, int col) {
    static const std::string kNone;
    if (row.is_null(col)) return kNone;
    int64_t id = row.i64(col);
    auto it = s.known.find(id);
    if (it != s.known.end()) return it->second;
    if (!s.get.valid()) {
      auto g = db->prepare(s.sql);
      if (!g) return kNone;  // the same error comes back from the next statement
      s.get = std::move(*g);
    }
    s.get.bind(1, id);
    std::string value = s.get.step() == SQLITE_ROW ? s.get.text(0) : std::string();
    s.get.reset();
    return s.known.emplace(id, std::move(value)).first->second;
  }

  Result<bool> fill(const Db& db, RecordedProcess& p) {
    Stmt& e = execs;
    e.bind(1, p.row);
    int rc;
    while ((rc = e.step()) == SQLITE_ROW) {
      RecordedExec x;
      x.time_ns = static_cast<uint64_t>(e.i64(0));
      x.comm = text(comms, e, 1);
      x.exe = text(paths, e, 2);
      x.argv = split_nul(text(argvs, e, 3));
      x.interpreter = text(paths, e, 4);
      x.dev = static_cast<uint64_t>(e.i64(5));
      x.ino = static_cast<uint64_t>(e.i64(6));
      x.uid = static_cast<uint32_t>(e.i64(7));
      x.gid = static_cast<uint32_t>(e.i64(8));
      x.ruid = opt_as<uint32_t>(e, 9);
      if (!e.is_null(10)) x.cwd = text(paths, e, 10);
      if (!e.is_null(11)) x.cgroup = text(paths, e, 11);
      x.env = split_nul(text(envs, e, 12));
      x.sid = opt_as<int32_t>(e, 13);
      x.pgid = opt_as<int32_t>(e, 14);
      x.tty = opt_as<int32_t>(e, 15);
      x.login_uid = opt_as<uint32_t>(e, 16);
      if (!e.is_null(17)) x.verified = e.i64(17) != 0;
      x.unverified_reason = text(paths, e, 18);
      x.exe_deleted = e.i64(19) != 0;
      p.execs.push_back(std::move(x));
    }
    e.reset();
    if (rc != SQLITE_DONE) return db.error("read", rc);
    Stmt& c = parents;
    c.bind(1, p.row).bind(2, int64_t{kChangeParent});
    while ((rc = c.step()) == SQLITE_ROW) p.parents.emplace_back(static_cast<uint64_t>(c.i64(0)), c.i64(1));
    c.reset();
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

Result<History> History::open(const std::string& path, ReadMode mode) {
  auto db = open_for_read(path, mode);
  if (!db) return db.error();
  History h;
  h.db_ = std::move(db->db);
  h.version_ = db->version;
  h.immutable_ = db->immutable;
  // A cache big enough for a scan's indexes. Neither writes the file.
  // Reads go through read(), not mmap: with schema 2's indexes a query
  // touches tens of pages, and mapping a 170 MB file, faulting each page
  // in and unmapping it cost more than the reads (why of an orphan).
  for (const char* pragma : {"PRAGMA cache_size=-16384", "PRAGMA temp_store=MEMORY"}) {
    (void)h.db_.exec(pragma);
  }
  if (h.version_ < 2) {
    // Version 1's plans scan the processes table: a read() per 4 KiB page
    // took 170 ms of the scan at 1,000,000 processes.
    (void)h.db_.exec("PRAGMA mmap_size=1073741824");
  }
  return h;
}

bool History::changed_since_open() const {
  return immutable_ && stamp_of(db_.path()) != immutable_;
}

History::Snapshot::Snapshot(const History& h) : h_(h) {
  if (h_.snapshot_depth_++ == 0) (void)h_.db_.exec("BEGIN");
}

History::Snapshot::~Snapshot() {
  if (--h_.snapshot_depth_ == 0) (void)h_.db_.exec("COMMIT");
}

int64_t History::boot_of(const std::string& boot_id) const {
  auto s = db_.prepare("SELECT id FROM boots WHERE boot_id=?1");
  if (!s) return 0;
  s->bind_text(1, boot_id);
  return s->step() == SQLITE_ROW ? s->i64(0) : 0;
}

Result<std::vector<RecordedProcess>> History::rows_of(Stmt& s) const {
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
  return out;
}

Result<std::vector<RecordedProcess>> History::load(Stmt& s) const {
  auto out = rows_of(s);
  if (!out) return out.error();
  if (auto r = fill(*out); !r) return r.error();
  return out;
}

Result<bool> History::fill(std::vector<RecordedProcess>& rows) const {
  if (rows.empty()) return true;
  // The same statements for all the rows (tree --at loads thousands):
  // preparing them per process cost more than running them.
  auto readers = cached_readers();
  if (!readers) return readers.error();
  for (auto& p : rows) {
    if (auto r = (*readers)->fill(db_, p); !r) return r.error();
  }
  return true;
}

Result<History::Readers*> History::cached_readers() const {
  if (!readers_) {
    auto r = Readers::prepare(db_, version_);
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
  if (!rows_cache_) rows_cache_ = std::make_shared<std::unordered_map<int64_t, RecordedProcess>>();
  if (auto it = rows_cache_->find(row); it != rows_cache_->end()) return std::optional<RecordedProcess>(it->second);
  if (!by_row_.valid()) {  // asked once per ancestor of a chain: prepared once
    auto s = db_.prepare(std::string("SELECT ") + kProcessColumns + kFrom + "WHERE p.id=?1");
    if (!s) return s.error();
    by_row_ = std::move(*s);
  }
  by_row_.bind(1, row);
  auto rows = load(by_row_);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<RecordedProcess>();
  if (rows_cache_->size() >= 4096) rows_cache_->clear();  // descendants walks 100,000
  rows_cache_->emplace(row, rows->front());
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
  Snapshot snapshot(*this);
  if (version_ >= 2 && !f.name.empty() && !f.pid && f.exe.empty() && !f.uid && !f.since_unix_ns && !f.until_unix_ns) {
    return query_name(f);
  }
  std::string sql = std::string("SELECT ") + kProcessColumns + kFrom + "WHERE 1";
  if (f.pid) sql += " AND p.boot IN (SELECT id FROM boots) AND p.pid=?1";
  if (!f.name.empty()) {
    // Candidates through the indexes on execs(comm) and processes(comm),
    // then sorted: scanning every process and testing it took 400 ms at
    // 1,000,000 processes.
    sql += " AND p.id IN (SELECT process FROM execs WHERE comm IN (SELECT id FROM comms WHERE instr(text, ?2) > 0)"
           " UNION SELECT id FROM processes WHERE comm IN (SELECT id FROM comms WHERE instr(text, ?2) > 0)"
           " AND NOT EXISTS (SELECT 1 FROM execs WHERE process=processes.id))";
  }
  if (!f.exe.empty()) {
    sql += " AND p.id IN (SELECT process FROM execs WHERE exe IN (SELECT id FROM paths WHERE hash=?3 AND text=?4))";
  }
  if (f.uid) {
    sql += version_ >= 4 ? " AND (p.uid=?5 OR EXISTS (SELECT 1 FROM execs e JOIN contexts c ON c.id=e.context "
                           "WHERE e.process=p.id AND c.uid=?5))"
                         : " AND (p.uid=?5 OR EXISTS (SELECT 1 FROM execs WHERE process=p.id AND uid=?5))";
  }
  if (f.until_unix_ns) sql += " AND p.start_ns + b.realtime_offset_ns <= ?6";
  if (f.since_unix_ns) sql += " AND (p.exit_ns IS NULL OR p.exit_ns + b.realtime_offset_ns >= ?7)";
  sql += " ORDER BY p.start_ns + b.realtime_offset_ns DESC, p.id DESC LIMIT ?8";
  auto s = db_.prepare(sql);
  if (!s) return s.error();
  if (f.pid) s->bind(1, int64_t{*f.pid});
  if (!f.name.empty()) s->bind_text(2, f.name);
  if (!f.exe.empty()) s->bind(3, version_ >= 4 ? text_hash(f.exe) : text_hash_v1(f.exe)).bind(4, f.exe);
  if (f.uid) s->bind(5, int64_t{*f.uid});
  if (f.until_unix_ns) s->bind(6, *f.until_unix_ns);
  if (f.since_unix_ns) s->bind(7, *f.since_unix_ns);
  s->bind(8, static_cast<int64_t>(f.limit));
  return load(*s);
}

// history NAME, newest first, on schema 2. The processes of a name are
// those with an exec of a matching comm, or forked with one (a subshell
// runs its parent's name). Each matching comm id gives two streams read
// backwards through an index, newest first: its execs by exec time
// (execs_comm_time) and its forks by start time (processes_comm_start).
// A process starts before (or when) it execs, so every process still
// unread in a stream started at or before the stream's head. Streams are
// read, highest head first, until `limit` processes have started after
// every head: those are the newest, exactly, having read about `limit`
// rows per stream instead of sorting every match (35,000 for "git").
// Times are per boot; a head is compared in Unix time with the largest
// boot offset, so a stream with other boots' rows is read further, never
// cut short.
Result<std::vector<RecordedProcess>> History::query_name(const HistoryFilter& f) const {
  constexpr size_t kMaxComms = 256;  // a name matching more: the plan of version 1
  std::vector<int64_t> comms;
  {
    auto s = db_.prepare("SELECT id FROM comms WHERE instr(text, ?1) > 0");
    if (!s) return s.error();
    s->bind_text(1, f.name);
    int rc;
    while ((rc = s->step()) == SQLITE_ROW) comms.push_back(s->i64(0));
    if (rc != SQLITE_DONE) return db_.error("read", rc);
  }
  if (comms.empty() || f.limit == 0) return std::vector<RecordedProcess>();
  std::unordered_map<int64_t, int64_t> offsets;  // boot -> realtime offset
  int64_t max_offset = INT64_MIN;
  {
    auto s = db_.prepare("SELECT id, realtime_offset_ns FROM boots");
    if (!s) return s.error();
    while (s->step() == SQLITE_ROW) {
      offsets[s->i64(0)] = s->i64(1);
      max_offset = std::max(max_offset, s->i64(1));
    }
  }
  if (offsets.empty()) return std::vector<RecordedProcess>();
  if (comms.size() > kMaxComms) {
    // Hundreds of streams cost more to open than the candidates cost to sort.
    HistoryFilter slow = f;
    slow.name.clear();
    std::string sql = std::string("SELECT ") + kProcessColumns + kFrom +
                      "WHERE p.id IN (SELECT process FROM execs WHERE comm IN (SELECT id FROM comms WHERE "
                      "instr(text, ?1) > 0) UNION SELECT id FROM processes WHERE comm IN (SELECT id FROM comms "
                      "WHERE instr(text, ?1) > 0) AND flags&16=0) ORDER BY p.start_ns + b.realtime_offset_ns DESC, p.id DESC LIMIT ?2";
    auto s = db_.prepare(sql);
    if (!s) return s.error();
    s->bind_text(1, f.name).bind(2, static_cast<int64_t>(f.limit));
    return load(*s);
  }
  auto where = db_.prepare("SELECT boot, start_ns FROM processes WHERE id=?1");
  if (!where) return where.error();

  struct Stream {
    Stmt s;
    bool execs;        // an exec stream (head: exec time), else forks (head: start)
    int64_t head = 0;  // boot ns of the current row
    int64_t process = 0;
    bool done = false;
  };
  std::vector<Stream> streams;
  for (int64_t c : comms) {
    for (bool execs : {true, false}) {
      auto s = db_.prepare(execs ? "SELECT time_ns, process FROM execs WHERE comm=?1 ORDER BY time_ns DESC"
                                 : "SELECT start_ns, id FROM processes WHERE comm=?1 AND flags&16=0 ORDER BY start_ns DESC");
      if (!s) return s.error();
      s->bind(1, c);
      streams.push_back(Stream{std::move(*s), execs});
    }
  }
  auto advance = [&](Stream& st) -> Result<bool> {
    int rc = st.s.step();
    if (rc == SQLITE_ROW) {
      st.head = st.s.i64(0), st.process = st.s.i64(1);
      return true;
    }
    st.done = true;
    if (rc != SQLITE_DONE) return db_.error("read", rc);
    return false;
  };
  for (auto& st : streams) {
    if (auto r = advance(st); !r) return r.error();
  }
  // The newest `limit` found so far, by (Unix start, row), newest first.
  using Found = std::pair<int64_t, int64_t>;
  std::vector<Found> best;
  std::unordered_map<int64_t, bool> seen;
  // An exec's time and its process's start come from different clocks'
  // readings (an event's ns, /proc's ticks): a second of slack.
  constexpr int64_t kSlackNs = 1'000'000'000;
  for (;;) {
    Stream* top = nullptr;
    for (auto& st : streams) {
      if (!st.done && (top == nullptr || st.head > top->head)) top = &st;
    }
    if (top == nullptr) break;
    int64_t bound = top->head + max_offset + (top->execs ? kSlackNs : 0);
    if (best.size() >= f.limit && bound < best.back().first) break;
    int64_t row = top->process;
    if (!seen.emplace(row, true).second) {
      if (auto r = advance(*top); !r) return r.error();
      continue;
    }
    int64_t start_unix = 0;
    where->bind(1, row);
    if (where->step() == SQLITE_ROW) {
      auto off = offsets.find(where->i64(0));
      start_unix = where->i64(1) + (off == offsets.end() ? 0 : off->second);
    }
    where->reset();
    Found found{start_unix, row};
    auto pos = std::lower_bound(best.begin(), best.end(), found, std::greater<Found>());
    best.insert(pos, found);
    if (best.size() > f.limit) best.pop_back();
    if (auto r = advance(*top); !r) return r.error();
  }
  std::vector<RecordedProcess> out;
  for (const auto& [start, row] : best) {
    auto p = by_row(row);
    if (!p) return p.error();
    if (*p) out.push_back(std::move(**p));
  }
  return out;
}

// tree --at, on schema 2: processes_span groups rows by the number of
// digits of their duration (ns). A process of L digits lasted less than
// 10^L ns, so if alive at T it started in [T - 10^L, T]: one index range
// per group and boot, plus the rows with no exit yet (the NULL group).
Result<std::vector<RecordedProcess>> History::alive_at_by_span(int64_t unix_ns, size_t max) const {
  auto boots = db_.prepare("SELECT id, realtime_offset_ns, first_ns FROM boots ORDER BY id");
  if (!boots) return boots.error();
  auto spans = db_.prepare(std::string("SELECT ") + kProcessColumns + kFrom +
                           "WHERE p.boot=?1 AND length(p.exit_ns - p.start_ns)=?2 AND p.start_ns BETWEEN ?3 AND ?4 "
                           "AND p.exit_ns > ?4");
  if (!spans) return spans.error();
  auto open = db_.prepare(std::string("SELECT ") + kProcessColumns + kFrom +
                          "WHERE p.boot=?1 AND length(p.exit_ns - p.start_ns) IS NULL AND p.start_ns <= ?2");
  if (!open) return open.error();
  std::vector<RecordedProcess> out;
  auto take = [&](Stmt& s) -> Result<bool> {
    auto rows = rows_of(s);
    if (!rows) return rows.error();
    for (auto& r : *rows) out.push_back(std::move(r));
    return true;
  };
  int rc;
  while ((rc = boots->step()) == SQLITE_ROW) {
    int64_t boot = boots->i64(0), offset = boots->i64(1), first = boots->i64(2);
    if (unix_ns < first + offset) continue;  // recording of this boot had not begun
    int64_t t = unix_ns - offset;             // T in this boot's clock
    open->bind(1, boot).bind(2, t);
    if (auto r = take(*open); !r) return r.error();
    int64_t width = 1;  // 10^digits, saturating
    for (int digits = 1; digits <= 20; ++digits) {
      width = width > INT64_MAX / 10 ? INT64_MAX : width * 10;
      spans->bind(1, boot).bind(2, int64_t{digits});
      spans->bind(3, t > INT64_MIN + width ? t - width : INT64_MIN).bind(4, t);
      if (auto r = take(*spans); !r) return r.error();
    }
  }
  if (rc != SQLITE_DONE) return db_.error("read", rc);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.row < b.row; });
  if (out.size() > max) out.resize(max);
  if (auto r = fill(out); !r) return r.error();
  return out;
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
  Snapshot snapshot(*this);
  if (version_ >= 2) return alive_at_by_span(unix_ns, max);
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

Result<std::vector<StoredFinding>> History::findings_since(int64_t unix_ns, size_t max) const {
  std::vector<StoredFinding> out;
  if (version_ < 3) return out;
  auto s = db_.prepare(
      "SELECT unix_ns, pid, start_ns, rule, severity, title, evidence, chain, related_pid FROM findings "
      "WHERE unix_ns >= ?1 ORDER BY unix_ns LIMIT ?2");
  if (!s) return s.error();
  s->bind(1, unix_ns).bind(2, static_cast<int64_t>(max));
  while (s->step() == SQLITE_ROW) {
    StoredFinding f;
    f.unix_ns = s->i64(0);
    f.key = {static_cast<int32_t>(s->i64(1)), static_cast<uint64_t>(s->i64(2))};
    f.rule = s->text(3);
    f.severity = static_cast<int>(s->i64(4));
    f.title = s->text(5);
    // Written by the recorder as JSON; a row that does not parse keeps its
    // title and loses only its evidence or chain.
    auto evidence = nlohmann::json::parse(s->text(6), nullptr, false);
    if (evidence.is_array()) {
      for (const auto& e : evidence) {
        if (e.is_string()) f.evidence.push_back(e.get<std::string>());
      }
    }
    auto chain = nlohmann::json::parse(s->text(7), nullptr, false);
    if (chain.is_array()) {
      for (const auto& link : chain) {
        if (link.is_array() && link.size() == 2 && link[0].is_number_integer() && link[1].is_string()) {
          f.chain.emplace_back(link[0].get<int32_t>(), link[1].get<std::string>());
        }
      }
    }
    f.related_pid = static_cast<int32_t>(s->i64(8));
    out.push_back(std::move(f));
  }
  return out;
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
