#include "store/writer.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace lineage::store {
namespace {

constexpr size_t kCacheMax = 4096;  // interned strings remembered per kind
// Command lines remembered by hash, per generation (argv_ids_: 2 x 2 MiB).
constexpr size_t kArgvsRemembered = size_t{1} << 17;
// What Writer::open reads of them at most: the recorder's event source is
// open by then. Longer ones are passed over without reading their text
// (length() of a blob reads no overflow page).
constexpr size_t kArgvPreloadBytes = size_t{16} << 20;
constexpr size_t kArgvPreloadLongest = 4096;

Result<Stmt> prep(const Db& db, std::string_view sql, Stmt& out) {
  auto s = db.prepare(sql);
  if (!s) return s.error();
  out = std::move(*s);
  return Stmt();
}

}  // namespace

Result<Writer> Writer::open(const std::string& path, const RunInfo& run) {
  auto db = open_for_write(path);
  if (!db) return db.error();
  return open(std::move(*db), run);
}

Result<Writer> Writer::open(Db db, const RunInfo& run) {
  Writer w;
  w.db_ = std::move(db);
  w.tick_ns_ = run.tick_ns;
  w.run_start_ns_ = run.now_ns;
  const Db& d = w.db_;
  struct {
    Stmt* stmt;
    const char* sql;
  } const statements[] = {
      // The nearest start within a tick: events give exact times, /proc ticks.
      {&w.s_.find_process,
       "SELECT id FROM processes WHERE boot=?1 AND pid=?2 AND start_ns BETWEEN ?3-?4 AND ?3+?4 "
       "ORDER BY abs(start_ns-?3) LIMIT 1"},
      {&w.s_.insert_process,
       "INSERT INTO processes(boot,pid,start_ns,parent,ppid,fork_after,flags,comm,uid,gid) "
       "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"},
      {&w.s_.insert_ended,
       "INSERT INTO processes(boot,pid,start_ns,parent,ppid,fork_after,flags,comm,uid,gid,exit_after,status) "
       "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)"},
      {&w.s_.exit_process,
       "UPDATE processes SET exit_after=?2-start_ns, status=?3, flags=flags|?4 WHERE id=?1"},
      {&w.s_.insert_exec,
       "INSERT OR REPLACE INTO execs(process,time_ns,comm,exe,argv,file,interpreter,context,sid,pgid,"
       "verified,unverified,exe_deleted) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"},
      {&w.s_.mark_execed, "UPDATE processes SET flags=flags|16 WHERE id=?1 AND flags&16=0"},
      {&w.s_.insert_change, "INSERT OR REPLACE INTO changes(process,kind,time_ns,value) VALUES(?1,?2,?3,?4)"},
      {&w.s_.run_counters, "UPDATE runs SET events=?2, lost=?3, updated_ns=?4, rate=?5 WHERE id=?1"},
      {&w.s_.find_comm, "SELECT id FROM comms WHERE text=?1"},
      {&w.s_.insert_comm, "INSERT INTO comms(text) VALUES(?1)"},
      {&w.s_.find_path, "SELECT id, text FROM paths WHERE hash=?1"},
      {&w.s_.insert_path, "INSERT INTO paths(hash,text) VALUES(?1,?2)"},
      {&w.s_.argv_text, "SELECT text FROM argvs WHERE id=?1"},
      {&w.s_.insert_argv, "INSERT INTO argvs(text) VALUES(?1)"},
      {&w.s_.find_env, "SELECT id, text FROM envs WHERE hash=?1"},
      {&w.s_.insert_env, "INSERT INTO envs(hash,text) VALUES(?1,?2)"},
      {&w.s_.find_file, "SELECT id FROM files WHERE dev=?1 AND ino=?2 AND ctime_ns=?3"},
      {&w.s_.insert_file, "INSERT INTO files(dev,ino,ctime_ns) VALUES(?1,?2,?3)"},
      {&w.s_.find_context,
       "SELECT id FROM contexts WHERE uid IS ?1 AND gid IS ?2 AND ruid IS ?3 AND cwd IS ?4 AND cgroup IS ?5 "
       "AND tty IS ?6 AND login_uid IS ?7 AND env IS ?8 LIMIT 1"},
      {&w.s_.insert_context,
       "INSERT INTO contexts(uid,gid,ruid,cwd,cgroup,tty,login_uid,env) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)"},
      {&w.s_.insert_finding,
       "INSERT INTO findings(boot,unix_ns,pid,start_ns,rule,severity,title,evidence,chain,related_pid) "
       "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"},
  };
  for (const auto& st : statements) {
    if (auto r = prep(d, st.sql, *st.stmt); !r) return r.error();
  }

  // The boot: its id names every key of this boot's processes.
  auto find_boot = d.prepare("SELECT id, realtime_offset_ns FROM boots WHERE boot_id=?1");
  if (!find_boot) return find_boot.error();
  find_boot->bind_text(1, run.boot_id);
  if (find_boot->step() == SQLITE_ROW) {
    w.boot_ = find_boot->i64(0);
    w.offset_ = find_boot->i64(1);  // one offset per boot: times of a boot stay comparable
  } else {
    w.offset_ = run.realtime_offset_ns;
    auto ins = d.prepare("INSERT INTO boots(boot_id,realtime_offset_ns,first_ns) VALUES(?1,?2,?3)");
    if (!ins) return ins.error();
    ins->bind_text(1, run.boot_id).bind(2, run.realtime_offset_ns).bind(3, static_cast<int64_t>(run.now_ns));
    if (int rc = ins->run(); rc != SQLITE_DONE) return d.error("write", rc);
    w.boot_ = d.last_insert_rowid();
  }
  auto ins_run = d.prepare("INSERT INTO runs(boot,pid,source,started_ns) VALUES(?1,?2,?3,?4)");
  if (!ins_run) return ins_run.error();
  ins_run->bind(1, w.boot_).bind(2, int64_t{run.pid}).bind_text(3, run.source).bind(4, static_cast<int64_t>(run.now_ns));
  if (int rc = ins_run->run(); rc != SQLITE_DONE) return d.error("write", rc);
  w.run_ = d.last_insert_rowid();
  // The newest command lines are the likeliest to come again: the newest
  // row of a text (or of a hash) is the one remembered, the last that
  // retention deletes.
  auto recent = d.prepare(fmt::format("SELECT id, text FROM argvs WHERE length(text) <= {} ORDER BY id DESC LIMIT {}",
                                      kArgvPreloadLongest, kArgvsRemembered));
  if (!recent) return recent.error();
  size_t read = 0;
  while (read < kArgvPreloadBytes && recent->step() == SQLITE_ROW) {
    std::string text = recent->text(1);
    read += text.size();
    auto hash = static_cast<uint32_t>(text_hash(text));
    if (w.argv_ids_[0].find(hash) == core::FlatIndex<uint32_t, IdHash>::kNone) w.remember_argv(hash, recent->i64(0));
  }
  return w;
}

Result<bool> Writer::sql(Stmt& s, std::string_view what) {
  if (intern_rc_ != 0) {
    // A string insert failed, and SQLITE_FULL rolls back the whole
    // transaction: run now, the statement would commit on its own,
    // naming rows that are gone.
    s.reset();
    return db_.error(what, std::exchange(intern_rc_, 0));
  }
  int rc = s.run();
  if (rc != SQLITE_DONE) return db_.error(what, rc);
  return true;
}

template <class Cache, class Key, class Find, class Bind>
int64_t Writer::interned(Cache& cache, const Key& key, Stmt& insert, Find&& find, Bind&& bind) {
  if (intern_rc_ != 0) return 0;  // the batch has failed: write nothing more
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  int64_t id = find();
  if (id == 0) {
    bind(insert);
    if (int rc = insert.run(); rc != SQLITE_DONE) {
      intern_rc_ = rc;  // the batch fails at its next statement
      return 0;
    }
    id = db_.last_insert_rowid();
  }
  if (cache.size() >= kCacheMax) cache.clear();
  cache.emplace(key, id);
  return id;
}

int64_t Writer::intern(Stmt& find, Stmt& insert, TextCache& cache, std::string_view s, bool hashed) {
  int64_t h = 0;  // by text_hash, the text compared (schema 4's 32-bit hashes collide)
  return interned(
      cache, s, insert,
      [&] {
        if (hashed) find.bind(1, h = text_hash(s));
        else find.bind(1, s);
        int64_t id = 0;
        while (id == 0 && find.step() == SQLITE_ROW) {
          if (!hashed || find.text(1) == s) id = find.i64(0);
        }
        find.reset();
        return id;
      },
      [&](Stmt& i) {
        if (hashed) i.bind(1, h).bind(2, s);
        else i.bind(1, s);
      });
}

template <size_t N>
int64_t Writer::intern_ints(Stmt& find, Stmt& insert, IntsCache<N>& cache, const Ints<N>& k) {
  auto bind = [&](Stmt& s) {
    for (size_t i = 0; i < N; ++i) s.bind(static_cast<int>(i + 1), k[i]);
  };
  return interned(
      cache, k, insert,
      [&] {
        bind(find);
        int64_t id = find.step() == SQLITE_ROW ? find.i64(0) : 0;
        find.reset();
        return id;
      },
      bind);
}

int64_t Writer::comm_id(std::string_view s) { return intern(s_.find_comm, s_.insert_comm, comms_, s, false); }
int64_t Writer::path_id(std::string_view s) { return intern(s_.find_path, s_.insert_path, paths_, s, true); }

// A command line's id. The file has no index to find one by its text
// (schema 5: the hash and its index cost 18 bytes a command line, most of
// them written once), so the writer remembers the ids of those it wrote
// or met by hash. A command line forgotten is written again: bytes, never
// a wrong answer.
int64_t Writer::argv_id(std::string_view s) {
  const auto hash = static_cast<uint32_t>(text_hash(s));
  int64_t id = interned(
      argvs_, s, s_.insert_argv, [&] { return remembered_argv(s, hash); }, [&](Stmt& i) { i.bind(1, s); });
  if (id != 0) remember_argv(hash, id);
  return id;
}

// The id remembered for a command line's hash, checked against its row's
// text: it may name a row retention deleted, one a failed batch rolled
// back, or another command line of the same hash. 0: none.
int64_t Writer::remembered_argv(std::string_view s, uint32_t hash) {
  for (const auto& ids : argv_ids_) {
    uint32_t known = ids.find(hash);
    if (known == core::FlatIndex<uint32_t, IdHash>::kNone) continue;
    Stmt& q = s_.argv_text;
    q.bind(1, argv_base_ + known);
    bool same = q.step() == SQLITE_ROW && q.text(0) == s;
    q.reset();
    if (same) return argv_base_ + known;
  }
  return 0;
}

// Two generations: when the newer is full it becomes the older and the
// older is dropped, so what keeps coming back stays (met again in the
// older, it moves to the newer). Ids are kept as 32-bit offsets from
// argv_base_; ids only grow, and one past the offsets' reach starts both
// generations anew from it.
void Writer::remember_argv(uint32_t hash, int64_t id) {
  constexpr int64_t kReach = int64_t{core::FlatIndex<uint32_t, IdHash>::kNone};
  if (id <= argv_base_) return;
  if (id - argv_base_ >= kReach) {
    argv_ids_[0].clear();
    argv_ids_[1].clear();
    argv_base_ = id - 1;
  }
  if (argv_ids_[0].size() >= kArgvsRemembered) {
    std::swap(argv_ids_[0], argv_ids_[1]);
    argv_ids_[0].clear();
  }
  argv_ids_[0].put(hash, static_cast<uint32_t>(id - argv_base_));
}

Result<int64_t> Writer::row(const core::ProcessKey& key, bool create) {
  if (auto it = rows_.find(key); it != rows_.end()) return it->second;
  Stmt& f = s_.find_process;
  f.bind(1, boot_).bind(2, int64_t{key.pid}).bind(3, static_cast<int64_t>(key.start_time_ns));
  f.bind(4, static_cast<int64_t>(tick_ns_));
  int rc = f.step();
  int64_t id = rc == SQLITE_ROW ? f.i64(0) : 0;
  f.reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return db_.error("read", rc);
  if (id == 0 && create) {
    // Known only through another record: a placeholder, filled in if its
    // own records come later.
    Stmt& ins = s_.insert_process;
    ins.bind(1, boot_).bind(2, int64_t{key.pid}).bind(3, static_cast<int64_t>(key.start_time_ns));
    ins.bind(5, int64_t{0}).bind(6, int64_t{0}).bind(7, kFlagPlaceholder);
    if (auto r = sql(ins, "write"); !r) return r.error();
    id = db_.last_insert_rowid();
  }
  if (id != 0) rows_[key] = id;
  return id;
}

Result<bool> Writer::put(const ForkRecord& r) {
  int64_t parent = 0;
  if (r.parent.pid != 0) {
    auto p = row(r.parent);
    if (!p) return p.error();
    parent = *p;
  }
  // A process forked after this run began has no row yet unless this run
  // wrote one (then rows_ knows it): no lookup, unless a failed batch made
  // rows_ forget some (a placeholder committed earlier keeps its row).
  const bool fresh = rows_whole_ && (r.flags & kFlagBackfilled) == 0 && r.key.start_time_ns > run_start_ns_ + tick_ns_;
  auto known = rows_.find(r.key);
  auto existing = fresh ? Result<int64_t>(known != rows_.end() ? known->second : 0) : row(r.key, false);
  if (!existing) return existing.error();
  if (*existing != 0) {
    // Seen before as a placeholder (or recorded by an earlier run): fill in.
    auto upd = db_.prepare(
        "UPDATE processes SET parent=coalesce(parent,?2), "
        "ppid=nullif(?3, (SELECT q.pid FROM processes q WHERE q.id=coalesce(processes.parent,?2))), "
        "fork_after=?4-start_ns, flags=(flags&~4)|?5, "
        "comm=coalesce(comm,?6), uid=coalesce(uid,?7), gid=coalesce(gid,?8) WHERE id=?1");
    if (!upd) return upd.error();
    upd->bind(1, *existing).bind(2, parent ? std::optional<int64_t>(parent) : std::nullopt);
    upd->bind(3, int64_t{r.parent.pid}).bind(4, static_cast<int64_t>(r.fork_ns)).bind(5, r.flags);
    upd->bind(6, comm_id(r.comm)).bind(7, int64_t{r.uid}).bind(8, int64_t{r.gid});
    return sql(*upd, "write");
  }
  // Its exec and exit later in this batch go into the same row now.
  Fold* fold = this->fold(r.key);
  const ExitRecord* ended = fold != nullptr ? fold->exit : nullptr;
  int64_t flags = r.flags;
  if (fold != nullptr && fold->exec) {
    flags |= kFlagExeced;
    fold->exec_marked = true;
  }
  if (ended != nullptr) {
    if (ended->unseen) flags |= kFlagExitUnseen;
    fold->exit_written = true;
  }
  Stmt& ins = ended != nullptr ? s_.insert_ended : s_.insert_process;
  const auto start = static_cast<int64_t>(r.key.start_time_ns);
  ins.bind(1, boot_).bind(2, int64_t{r.key.pid}).bind(3, start);
  // ppid only when no parent row names it (row() found the parent by it).
  if (parent) ins.bind(4, parent);
  else ins.bind(5, int64_t{r.parent.pid});
  ins.bind(6, static_cast<int64_t>(r.fork_ns) - start).bind(7, flags);
  ins.bind(8, comm_id(r.comm)).bind(9, int64_t{r.uid}).bind(10, int64_t{r.gid});
  if (ended != nullptr) {
    ins.bind(11, static_cast<int64_t>(ended->time_ns) - start);
    ins.bind(12, ended->status ? std::optional<int64_t>(*ended->status) : std::nullopt);
  }
  if (auto res = sql(ins, "write"); !res) return res;
  rows_[r.key] = db_.last_insert_rowid();
  return true;
}

Result<bool> Writer::put(const ExecRecord& r) {
  auto p = row(r.key);
  if (!p) return p.error();
  Stmt& s = s_.insert_exec;
  auto opt = [](const auto& o) -> std::optional<int64_t> {
    if (!o) return std::nullopt;
    return static_cast<int64_t>(*o);
  };
  s.bind(1, *p).bind(2, static_cast<int64_t>(r.time_ns)).bind(3, comm_id(r.comm));
  if (!r.exe.empty()) s.bind(4, path_id(r.exe));
  if (!r.argv.empty()) s.bind(5, argv_id(r.argv));
  if (r.dev) {
    Ints<3> file{static_cast<int64_t>(r.dev), static_cast<int64_t>(r.ino), static_cast<int64_t>(r.ctime_ns)};
    s.bind(6, intern_ints(s_.find_file, s_.insert_file, files_, file));
  }
  if (!r.interpreter.empty()) s.bind(7, path_id(r.interpreter));
  Ints<8> context{int64_t{r.uid}, int64_t{r.gid}, opt(r.ruid)};
  if (r.cwd) context[3] = path_id(*r.cwd);
  if (r.cgroup) context[4] = path_id(*r.cgroup);
  context[5] = opt(r.tty);
  // As a signed 32-bit value: unset (4294967295) is -1, one byte instead
  // of six; it reads back as the same uint32_t.
  if (r.login_uid) context[6] = int64_t{static_cast<int32_t>(*r.login_uid)};
  if (r.env && !r.env->empty()) context[7] = intern(s_.find_env, s_.insert_env, envs_, *r.env, true);
  s.bind(8, intern_ints(s_.find_context, s_.insert_context, contexts_, context));
  s.bind(9, opt(r.sid)).bind(10, opt(r.pgid));
  if (r.verified) {
    s.bind(11, int64_t{*r.verified});
    if (!*r.verified && !r.unverified_reason.empty()) s.bind(12, path_id(r.unverified_reason));
  }
  if (r.exe_deleted) s.bind(13, int64_t{1});
  if (auto res = sql(s, "write"); !res) return res;
  if (const Fold* f = fold(r.key); f != nullptr && f->exec_marked) return true;
  // Out of processes_forked: its name is now its exec's comm.
  s_.mark_execed.bind(1, *p);
  return sql(s_.mark_execed, "write");
}

Result<bool> Writer::put(const ExitRecord& r) {
  if (const Fold* f = fold(r.key); f != nullptr && f->exit_written) {
    rows_.erase(r.key);
    return true;
  }
  auto p = row(r.key);
  if (!p) return p.error();
  Stmt& s = s_.exit_process;
  s.bind(1, *p).bind(2, static_cast<int64_t>(r.time_ns));
  s.bind(3, r.status ? std::optional<int64_t>(*r.status) : std::nullopt);
  s.bind(4, r.unseen ? kFlagExitUnseen : int64_t{0});
  auto res = sql(s, "write");
  rows_.erase(r.key);
  return res;
}

Result<bool> Writer::put(const ChangeRecord& r) {
  auto p = row(r.key);
  if (!p) return p.error();
  int64_t value = r.value;
  if (r.kind == kChangeParent) {
    auto parent = row(r.parent);
    if (!parent) return parent.error();
    value = *parent;
  } else if (r.kind == kChangeCgroup) {
    value = path_id(r.text);
  }
  Stmt& s = s_.insert_change;
  s.bind(1, *p).bind(2, int64_t{r.kind}).bind(3, static_cast<int64_t>(r.time_ns)).bind(4, value);
  return sql(s, "write");
}

Result<bool> Writer::put(const FindingRecord& r) {
  nlohmann::json evidence = r.evidence;
  nlohmann::json chain = nlohmann::json::array();
  for (const auto& [pid, comm] : r.chain) chain.push_back({pid, comm});
  auto text = [](const nlohmann::json& j) { return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
  Stmt& s = s_.insert_finding;
  s.bind(1, boot_).bind(2, static_cast<int64_t>(r.time_ns) + offset_).bind(3, int64_t{r.key.pid});
  s.bind(4, static_cast<int64_t>(r.key.start_time_ns)).bind_text(5, r.rule).bind(6, int64_t{r.severity});
  s.bind_text(7, r.title).bind_text(8, text(evidence)).bind_text(9, text(chain)).bind(10, int64_t{r.related_pid});
  return sql(s, "write");
}

Writer::Fold* Writer::fold(const core::ProcessKey& key) {
  uint32_t i = fold_index_.find(key);
  return i == core::FlatIndex<core::ProcessKey, core::KeyHash>::kNone ? nullptr : &folds_[i];
}

Writer::Fold& Writer::fold_for(const core::ProcessKey& key) {
  if (Fold* f = fold(key)) return *f;
  fold_index_.put(key, static_cast<uint32_t>(folds_.size()));
  return folds_.emplace_back();
}

void Writer::clear_folds() {
  folds_.clear();
  fold_index_.clear();
}

Result<bool> Writer::write(const std::vector<Record>& records) {
  if (auto r = db_.exec("BEGIN IMMEDIATE"); !r) return r;
  auto fail = [&](Error e) -> Result<bool> {
    (void)db_.exec("ROLLBACK");
    // Rows and strings inserted by the failed transaction are gone: forget
    // their ids (they are found again, or inserted, on the next try).
    rows_.clear();
    clear_folds();
    rows_whole_ = false;
    comms_.clear(), paths_.clear(), argvs_.clear(), envs_.clear(), files_.clear(), contexts_.clear();
    return e;
  };
  clear_folds();
  for (const Record& rec : records) {
    if (const auto* x = std::get_if<ExecRecord>(&rec)) fold_for(x->key).exec = true;
    if (const auto* x = std::get_if<ExitRecord>(&rec)) fold_for(x->key).exit = x;
  }
  for (const Record& rec : records) {
    auto r = std::visit([&](const auto& x) { return put(x); }, rec);
    if (!r) return fail(r.error());
  }
  s_.run_counters.bind(1, run_).bind(2, static_cast<int64_t>(events_)).bind(3, static_cast<int64_t>(lost_));
  s_.run_counters.bind(4, static_cast<int64_t>(updated_ns_));
  s_.run_counters.bind(5, rate_);
  if (auto r = sql(s_.run_counters, "write"); !r) return fail(r.error());
  if (auto r = db_.exec("COMMIT"); !r) return fail(r.error());
  return true;
}

Result<size_t> Writer::close_unseen(const std::vector<core::ProcessKey>& alive, uint64_t now_ns) {
  auto q = db_.prepare("SELECT id, pid, start_ns FROM processes WHERE boot=?1 AND exit_ns IS NULL");
  if (!q) return q.error();
  q->bind(1, boot_);
  std::unordered_multimap<int32_t, uint64_t> live;  // pid -> start (/proc's, to the tick)
  for (const auto& k : alive) live.emplace(k.pid, k.start_time_ns);
  std::vector<int64_t> gone;
  while (q->step() == SQLITE_ROW) {
    auto [first, last] = live.equal_range(static_cast<int32_t>(q->i64(1)));
    uint64_t start = static_cast<uint64_t>(q->i64(2));
    auto same = [&](const auto& e) { return e.second == start || core::same_start(e.second, start, tick_ns_); };
    if (std::none_of(first, last, same)) {
      gone.push_back(q->i64(0));
    }
  }
  q->reset();
  // Other boots' open processes ended with their boot.
  auto other = db_.prepare(
      "UPDATE processes SET exit_after=coalesce((SELECT max(time_ns) FROM execs WHERE process=processes.id),fork_ns)"
      "-start_ns, flags=flags|2 WHERE boot<>?1 AND exit_after IS NULL");
  if (!other) return other.error();
  other->bind(1, boot_);
  if (auto r = db_.exec("BEGIN IMMEDIATE"); !r) return r.error();
  if (int rc = other->run(); rc != SQLITE_DONE) {
    (void)db_.exec("ROLLBACK");
    return db_.error("write", rc);
  }
  for (int64_t id : gone) {
    s_.exit_process.bind(1, id).bind(2, static_cast<int64_t>(now_ns)).bind(4, kFlagExitUnseen);
    if (auto r = sql(s_.exit_process, "write"); !r) {
      (void)db_.exec("ROLLBACK");
      return r.error();
    }
  }
  if (auto r = db_.exec("COMMIT"); !r) return r.error();
  return gone.size();
}

Result<bool> Writer::stop(uint64_t now_ns) {
  auto s = db_.prepare("UPDATE runs SET stopped_ns=?2, events=?3, lost=?4 WHERE id=?1");
  if (!s) return s.error();
  s->bind(1, run_).bind(2, static_cast<int64_t>(now_ns)).bind(3, static_cast<int64_t>(events_));
  s->bind(4, static_cast<int64_t>(lost_));
  if (auto r = sql(*s, "write"); !r) return r;
  return db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

int64_t Writer::size_bytes() const {
  auto pages = db_.scalar("PRAGMA page_count");
  auto free = db_.scalar("PRAGMA freelist_count");
  auto size = db_.scalar("PRAGMA page_size");
  if (!pages || !free || !size) return 0;
  return (*pages - *free) * *size;
}

Result<size_t> Writer::prune(const Retention& r, int64_t now_unix_ns, size_t budget) {
  bool over_size = r.max_bytes != 0 && size_bytes() > static_cast<int64_t>(r.max_bytes);
  if (r.keep_ns == 0 && !over_size) return size_t{0};
  // Oldest exits first (row order is fork order, close enough to age for a
  // bounded step); a process with a recorded child stays, so an ancestor
  // of anything still recorded is never cut out of a chain.
  std::string where = "p.exit_ns IS NOT NULL AND NOT EXISTS (SELECT 1 FROM processes c WHERE c.parent=p.id)";
  if (!over_size) {
    where += fmt::format(" AND p.exit_ns + (SELECT realtime_offset_ns FROM boots WHERE id=p.boot) < {}",
                         now_unix_ns - static_cast<int64_t>(r.keep_ns));
  }
  std::string ids = fmt::format("SELECT p.id FROM processes p WHERE {} ORDER BY p.id LIMIT {}", where, budget);
  std::string sql_text = fmt::format(
      "CREATE TEMP TABLE IF NOT EXISTS doomed(id INTEGER PRIMARY KEY); DELETE FROM doomed;"
      "INSERT INTO doomed {0};"
      "DELETE FROM execs WHERE process IN (SELECT id FROM doomed);"
      "DELETE FROM changes WHERE process IN (SELECT id FROM doomed);"
      "DELETE FROM processes WHERE id IN (SELECT id FROM doomed);",
      ids);

  if (auto res = db_.exec("BEGIN IMMEDIATE"); !res) return res.error();
  if (auto res = db_.exec(sql_text); !res) {
    (void)db_.exec("ROLLBACK");
    return res.error();
  }
  int64_t n = sqlite3_changes(db_.get());
  pruned_since_gc_ += n;
  // Findings past --keep go too (they hold their own chain: no process
  // row keeps them).
  if (r.keep_ns != 0) {
    auto old = db_.exec(fmt::format("DELETE FROM findings WHERE id IN (SELECT id FROM findings WHERE unix_ns < {} "
                                    "ORDER BY unix_ns LIMIT {});",
                                    now_unix_ns - static_cast<int64_t>(r.keep_ns), budget));
    if (!old) {
      (void)db_.exec("ROLLBACK");
      return old.error();
    }
  }
  auto count = db_.scalar("SELECT count(*) FROM processes");
  // Strings no process refers to any more, once a tenth of the table went.
  if (count && pruned_since_gc_ > *count / 10) {
    auto gc = db_.exec(
        "DELETE FROM argvs WHERE id NOT IN (SELECT argv FROM execs WHERE argv IS NOT NULL);"
        "DELETE FROM files WHERE id NOT IN (SELECT file FROM execs WHERE file IS NOT NULL);"
        "DELETE FROM contexts WHERE id NOT IN (SELECT context FROM execs WHERE context IS NOT NULL);"
        "DELETE FROM envs WHERE id NOT IN (SELECT env FROM contexts WHERE env IS NOT NULL);");
    if (!gc) {
      (void)db_.exec("ROLLBACK");
      return gc.error();
    }
    pruned_since_gc_ = 0;
    argvs_.clear(), envs_.clear(), files_.clear(), contexts_.clear();
  }
  if (auto res = db_.exec("COMMIT"); !res) return res.error();
  if (over_size) (void)db_.exec("PRAGMA incremental_vacuum(1024)");
  return static_cast<size_t>(n);
}

}  // namespace lineage::store
