#include "store/schema.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include <fmt/format.h>

namespace lineage::store {
namespace {

// Version 1. Strings are interned per kind: comms and paths are few,
// argv and context environments many. Long strings are found through a
// hash index (8 bytes a row) rather than a unique index on the text, which
// would store every command line twice (from version 5 command lines have
// none: writer.cc finds them).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID;
CREATE TABLE boots(
  id INTEGER PRIMARY KEY,
  boot_id TEXT NOT NULL UNIQUE,
  realtime_offset_ns INTEGER NOT NULL,  -- Unix ns = boot ns + this
  first_ns INTEGER NOT NULL             -- boot ns where recording of this boot began
);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY,
  boot INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  source TEXT NOT NULL,
  started_ns INTEGER NOT NULL,
  stopped_ns INTEGER,
  updated_ns INTEGER,        -- boot ns of the last commit
  events INTEGER NOT NULL DEFAULT 0,
  lost INTEGER NOT NULL DEFAULT 0,
  rate REAL                  -- events/s over the last minute
);
CREATE TABLE comms(id INTEGER PRIMARY KEY, text BLOB NOT NULL UNIQUE);
CREATE TABLE paths(id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, text BLOB NOT NULL);
CREATE INDEX paths_hash ON paths(hash);
CREATE TABLE argvs(id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, text BLOB NOT NULL);
CREATE INDEX argvs_hash ON argvs(hash);
CREATE TABLE envs(id INTEGER PRIMARY KEY, hash INTEGER NOT NULL, text BLOB NOT NULL);
CREATE INDEX envs_hash ON envs(hash);
CREATE TABLE processes(
  id INTEGER PRIMARY KEY,
  boot INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  parent INTEGER,            -- fork parent's row; NULL: unknown
  ppid INTEGER NOT NULL DEFAULT 0,
  fork_ns INTEGER NOT NULL,
  exit_ns INTEGER,           -- NULL: alive when last seen
  status INTEGER,            -- wait status (exit code << 8 | signal)
  flags INTEGER NOT NULL DEFAULT 0,
  comm INTEGER,              -- at fork: the parent's, until an exec
  uid INTEGER, gid INTEGER,
  UNIQUE(boot, pid, start_ns)
);
CREATE INDEX processes_parent ON processes(parent);
CREATE INDEX processes_comm ON processes(comm);  -- history NAME: forked, not exec'd
CREATE TABLE execs(
  process INTEGER NOT NULL,
  time_ns INTEGER NOT NULL,
  comm INTEGER, exe INTEGER, argv INTEGER, interpreter INTEGER,
  dev INTEGER, ino INTEGER, ctime_ns INTEGER,
  uid INTEGER, gid INTEGER, ruid INTEGER,
  cwd INTEGER, cgroup INTEGER, env INTEGER,
  sid INTEGER, pgid INTEGER, tty INTEGER, login_uid INTEGER,
  verified INTEGER,          -- NULL: not a launcher; 1 verified; 0 not
  unverified INTEGER,        -- paths row: why not
  exe_deleted INTEGER,
  PRIMARY KEY(process, time_ns)
) WITHOUT ROWID;
CREATE INDEX execs_comm ON execs(comm);
CREATE TABLE changes(
  process INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  time_ns INTEGER NOT NULL,
  value INTEGER,
  PRIMARY KEY(process, kind, time_ns)
) WITHOUT ROWID;
)sql";

// Version 2: indexes for the queries that must not scan 1,000,000 rows.
// - history NAME, newest first with a LIMIT: the execs of a comm in time
//   order (replacing execs_comm, which held the same columns in row order),
//   and the processes that never exec'd (flag 16, kept by the writer) by
//   fork comm and start (replacing processes_comm over every process: a
//   forked child that exec'd git is git, not its parent's bash), read
//   backwards until the LIMIT is sure.
// - tree --at T: the processes alive at T. A process of duration d alive at
//   T started in [T - d, T]; grouped by the number of digits of d (ns), each
//   group is one range of start times no wider than 10x its durations.
//   Rows still open (exit_ns NULL) form the NULL group.
// Readers open a version-1 file as it is and take the slower plans.
constexpr const char* kMigrateV1toV2 = R"sql(
DROP INDEX IF EXISTS execs_comm;
CREATE INDEX execs_comm_time ON execs(comm, time_ns);
DROP INDEX IF EXISTS processes_comm;
UPDATE processes SET flags=flags|16 WHERE flags&16=0 AND id IN (SELECT process FROM execs);
CREATE INDEX processes_forked ON processes(comm, start_ns) WHERE flags&16=0;
CREATE INDEX processes_span ON processes(boot, length(exit_ns - start_ns), start_ns);
)sql";

// Version 3: audit findings (`record` judges every exec with the audit
// rules; `audit --since` reads them back). Self-contained rows: a finding
// outlives the processes retention prunes, and its chain is kept as it was
// seen (JSON [[pid, comm], ...], root first), with its evidence (JSON
// array of strings). Times are Unix ns, the unit --since is given in.
constexpr const char* kMigrateV2toV3 = R"sql(
CREATE TABLE findings(
  id INTEGER PRIMARY KEY,
  boot INTEGER NOT NULL REFERENCES boots(id),
  unix_ns INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  rule TEXT NOT NULL,
  severity INTEGER NOT NULL,
  title TEXT NOT NULL,
  evidence TEXT NOT NULL,
  chain TEXT NOT NULL,
  related_pid INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX findings_time ON findings(unix_ns);
)sql";

// Version 4: fewer bytes per recorded process (a process storm of unique
// 4-argument command lines took 255 B a process, 200 B is the goal).
// - Hashes of interned strings keep their low 32 bits, sign-extended: 4
//   bytes in the row and in its hash index instead of 8. A lookup compares
//   the text anyway, and at 1,000,000 command lines one lookup in 4,000
//   meets a collision.
// - An exec's file identity (dev, ino, ctime) is interned in `files`: the
//   same binary runs again and again, and its 16 bytes become one id.
// - An exec's context, what the processes of one session, job or build
//   share (uid, gid, real uid, cwd, cgroup, tty, login uid, context
//   environment), is interned in `contexts`: eight values and their eight
//   column headers become one id. Session and process group ids stay in
//   the exec: each job has its own.
// - A login uid is stored as a signed 32-bit value: unset (4294967295, 6
//   bytes) is -1 (1 byte); it reads back as the same uint32_t.
// execs is rebuilt with its new columns (every column of a record costs a
// header byte, NULL or not).
constexpr const char* kMigrateV3toV4 = R"sql(
UPDATE paths SET hash=(hash<<32)>>32;
UPDATE argvs SET hash=(hash<<32)>>32;
UPDATE envs SET hash=(hash<<32)>>32;
UPDATE execs SET login_uid=login_uid-4294967296 WHERE login_uid >= 2147483648;
CREATE TABLE files(
  id INTEGER PRIMARY KEY,
  dev INTEGER NOT NULL, ino INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
  UNIQUE(dev, ino, ctime_ns)
);
INSERT OR IGNORE INTO files(dev, ino, ctime_ns)
  SELECT dev, ino, coalesce(ctime_ns, 0) FROM execs WHERE dev IS NOT NULL AND ino IS NOT NULL;
CREATE TABLE contexts(
  id INTEGER PRIMARY KEY,
  uid INTEGER, gid INTEGER, ruid INTEGER, cwd INTEGER, cgroup INTEGER, tty INTEGER, login_uid INTEGER,
  env INTEGER
);
-- Looked up with IS (a NULL matches a NULL), one row per distinct context.
CREATE INDEX contexts_all ON contexts(uid, gid, ruid, cwd, cgroup, tty, login_uid, env);
INSERT INTO contexts(uid, gid, ruid, cwd, cgroup, tty, login_uid, env)
  SELECT DISTINCT uid, gid, ruid, cwd, cgroup, tty, login_uid, env FROM execs;
CREATE TABLE execs_v4(
  process INTEGER NOT NULL,
  time_ns INTEGER NOT NULL,
  comm INTEGER, exe INTEGER, argv INTEGER, file INTEGER, interpreter INTEGER,
  context INTEGER, sid INTEGER, pgid INTEGER,
  verified INTEGER,          -- NULL: not a launcher; 1 verified; 0 not
  unverified INTEGER,        -- paths row: why not
  exe_deleted INTEGER,
  PRIMARY KEY(process, time_ns)
) WITHOUT ROWID;
INSERT INTO execs_v4
  SELECT process, time_ns, comm, exe, argv,
    (SELECT id FROM files f WHERE f.dev=e.dev AND f.ino=e.ino AND f.ctime_ns=coalesce(e.ctime_ns, 0)),
    interpreter,
    (SELECT id FROM contexts c WHERE c.uid IS e.uid AND c.gid IS e.gid AND c.ruid IS e.ruid AND c.cwd IS e.cwd
       AND c.cgroup IS e.cgroup AND c.tty IS e.tty AND c.login_uid IS e.login_uid AND c.env IS e.env),
    sid, pgid, verified, unverified, exe_deleted
  FROM execs e;
DROP TABLE execs;
ALTER TABLE execs_v4 RENAME TO execs;
CREATE INDEX execs_comm_time ON execs(comm, time_ns);
)sql";

// Version 5: under 200 bytes a recorded process when every command line
// is new (a storm of unique 4-argument command lines took 220-225 B).
// - A process's fork and exit times are kept as offsets from its start
//   (a fork event comes microseconds after it, an exit milliseconds to
//   hours: 2-5 bytes instead of 6 each). fork_ns and exit_ns stay as
//   VIRTUAL generated columns, which the record does not hold, so every
//   query reads them as before.
// - ppid is NULL when it is the pid of the parent row (the writer finds
//   the parent by that pid): 0 bytes instead of 3. Readers take the
//   parent row's pid then.
// - argvs loses its hash column and its hash index (18 bytes a command
//   line): nothing reads a command line by its text, and the writer finds
//   the ones it wrote through a hash table in memory (writer.cc).
// Rebuilding processes keeps its ids (execs, changes and parents name
// them) and remakes its indexes as they were.
constexpr const char* kMigrateV4toV5 = R"sql(
CREATE TABLE processes_v5(
  id INTEGER PRIMARY KEY,
  boot INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  start_ns INTEGER NOT NULL,
  parent INTEGER,            -- fork parent's row; NULL: unknown
  ppid INTEGER,              -- NULL: the parent row's pid
  fork_after INTEGER NOT NULL DEFAULT 0,  -- fork_ns - start_ns
  exit_after INTEGER,        -- exit_ns - start_ns; NULL: alive when last seen
  status INTEGER,            -- wait status (exit code << 8 | signal)
  flags INTEGER NOT NULL DEFAULT 0,
  comm INTEGER,              -- at fork: the parent's, until an exec
  uid INTEGER, gid INTEGER,
  fork_ns INTEGER GENERATED ALWAYS AS (start_ns + fork_after) VIRTUAL,
  exit_ns INTEGER GENERATED ALWAYS AS (start_ns + exit_after) VIRTUAL,
  UNIQUE(boot, pid, start_ns)
);
INSERT INTO processes_v5(id, boot, pid, start_ns, parent, ppid, fork_after, exit_after, status, flags, comm, uid, gid)
  SELECT p.id, p.boot, p.pid, p.start_ns, p.parent,
    CASE WHEN p.ppid IS (SELECT q.pid FROM processes q WHERE q.id=p.parent) THEN NULL ELSE p.ppid END,
    p.fork_ns - p.start_ns, p.exit_ns - p.start_ns, p.status, p.flags, p.comm, p.uid, p.gid
  FROM processes p;
DROP TABLE processes;
ALTER TABLE processes_v5 RENAME TO processes;
CREATE INDEX processes_parent ON processes(parent);
CREATE INDEX processes_forked ON processes(comm, start_ns) WHERE flags&16=0;
CREATE INDEX processes_span ON processes(boot, length(exit_ns - start_ns), start_ns);
DROP INDEX argvs_hash;
ALTER TABLE argvs DROP COLUMN hash;
)sql";

// Forward migrations: kMigrations[v] turns version v into v + 1.
constexpr const char* kMigrations[] = {
    nullptr,  // 0 -> 1 is the creation of version 1
    kMigrateV1toV2,
    kMigrateV2toV3,
    kMigrateV3toV4,
    kMigrateV4toV5,
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// Checks what a file holds before anything is written to it.
Result<int64_t> check(const Db& db) {
  auto app = db.scalar("PRAGMA application_id");
  if (!app) {
    return Error{ErrorKind::kInternal,
                 fmt::format("{} is not a lineage history database (unreadable or corrupt: {})", db.path(),
                             printable(sqlite3_errmsg(db.get())))};
  }
  auto version = db.scalar("PRAGMA user_version");
  auto tables = db.scalar("SELECT count(*) FROM sqlite_master");
  if (!version || !tables) {
    return Error{ErrorKind::kInternal,
                 fmt::format("{} is not a lineage history database (corrupt: {})", db.path(),
                             printable(sqlite3_errmsg(db.get())))};
  }
  if (*tables == 0 && *app == 0) return int64_t{0};  // empty: a new database
  if (*app != kApplicationId) {
    return Error{ErrorKind::kInternal, fmt::format("{} is not a lineage history database", db.path())};
  }
  if (*version > kSchemaVersion) {
    return Error{ErrorKind::kInternal,
                 fmt::format("{} was written by a newer lineage (schema {}, this one reads up to {}); "
                             "left unchanged",
                             db.path(), *version, kSchemaVersion)};
  }
  return *version;
}

}  // namespace

int64_t text_hash_v1(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return static_cast<int64_t>(h);
}

int64_t text_hash(std::string_view s) { return static_cast<int32_t>(static_cast<uint32_t>(text_hash_v1(s))); }

const char* schema_sql(int version) {
  static const std::string v2 = std::string(kSchemaV1) + kMigrateV1toV2;
  static const std::string v3 = v2 + kMigrateV2toV3;
  static const std::string v4 = v3 + kMigrateV3toV4;
  static const std::string v5 = v4 + kMigrateV4toV5;
  if (version == 1) return kSchemaV1;
  if (version == 2) return v2.c_str();
  if (version == 3) return v3.c_str();
  if (version == 4) return v4.c_str();
  if (version == 5) return v5.c_str();
  return nullptr;
}

namespace {

// A file made without auto-vacuum (before schema 4, or one whose VACUUM
// failed): one VACUUM turns it on, and gives back the pages a migration
// freed (the old execs table); the WAL it filled is emptied at once. 1.6 s
// at 1,000,000 processes. It writes the whole file again into the WAL and
// a copy into the temporary directory: without twice the file's size free
// beside it, it is not tried (it would fill the disk at every start). The
// file then stays as it is and its free pages are reused; `notice` says
// so, and the next start tries again. False when auto-vacuum was on.
bool turn_on_auto_vacuum(Db& db, const std::string& path, std::string* notice) {
  auto mode = db.scalar("PRAGMA auto_vacuum");
  if (!mode || *mode == 2) return false;
  constexpr const char* kStays =
      "the file stays without auto-vacuum: its free pages are reused, but --max-size cannot shrink it; "
      "the next start tries again";
  struct stat st {};
  struct statvfs fs {};
  if (::stat(path.c_str(), &st) == 0 && ::statvfs(path.c_str(), &fs) == 0) {
    const uint64_t room = uint64_t{fs.f_bavail} * fs.f_frsize, need = 2 * static_cast<uint64_t>(st.st_size);
    if (room < need) {
      if (notice) {
        *notice = fmt::format("{}: VACUUM needs about {} MiB free beside it, {} MiB are: {}", path, need >> 20,
                              room >> 20, kStays);
      }
      return true;
    }
  }
  (void)db.exec("PRAGMA auto_vacuum=INCREMENTAL");
  if (auto r = db.exec("VACUUM"); !r && notice) {
    *notice = fmt::format("VACUUM: {}: {}", r.error().message, kStays);  // the error names the file
  }
  (void)db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return true;
}

}  // namespace

Result<Db> open_for_write(const std::string& path, std::string* notice) {
  auto db = Db::open(path, Db::Mode::kReadWrite);
  if (!db) return db.error();
  auto version = check(*db);
  if (!version) return version.error();
  // auto_vacuum first: it is chosen once, when the file is initialized,
  // and journal_mode=WAL initializes it (in the other order, every file
  // before schema 4 was made without auto-vacuum).
  for (auto pragma : {"PRAGMA auto_vacuum=INCREMENTAL", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                      "PRAGMA foreign_keys=OFF"}) {
    if (auto r = db->exec(pragma); !r) return r.error();
  }
  const int64_t from = *version;
  if (from == kSchemaVersion) {
    turn_on_auto_vacuum(*db, path, notice);
    return db;
  }
  if (auto r = db->exec("BEGIN IMMEDIATE"); !r) return r.error();
  std::string sql;
  if (*version == 0) {
    sql = kSchemaV1;
    *version = 1;
  }
  for (int64_t v = *version; v < kSchemaVersion; ++v) {
    if (const char* step = kMigrations[v]) sql += step;
  }
  sql += fmt::format("PRAGMA application_id={}; PRAGMA user_version={};", kApplicationId, kSchemaVersion);
  if (auto r = db->exec(sql); !r) {
    (void)db->exec("ROLLBACK");
    return r.error();
  }
  if (auto r = db->exec("COMMIT"); !r) return r.error();
  // A file with auto-vacuum (schema 4 on) gives back the pages its
  // migration freed (schema 5 rebuilds the processes table) at once.
  if (from > 0 && !turn_on_auto_vacuum(*db, path, notice)) {
    (void)db->exec("PRAGMA incremental_vacuum");
    (void)db->exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  return db;
}

namespace {

FileStamp stamp(const struct stat& st) {
  return FileStamp{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino), st.st_size,
                   st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

// Absent or empty: nothing committed waits in it.
bool empty_or_absent(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return errno == ENOENT;
  return S_ISREG(st.st_mode) && st.st_size == 0;
}

}  // namespace

std::optional<FileStamp> stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return stamp(st);
}

bool recorder_may_write(const std::string& path) {
  int fd = ::open((path + ".lock").c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return errno != ENOENT;  // no lock file: no recorder ever wrote it
  // A probe, released at once: a recorder starting now retries its own
  // LOCK_EX for a moment (record_command.cc), so it is never refused
  // because of a reader.
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

Result<ReadDb> open_for_read(const std::string& path, ReadMode mode) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return not_found(fmt::format("no history database at {}", path));
    return Error{ErrorKind::kPermission, fmt::format("cannot read history database {}: {}", path, strerror(errno))};
  }
  if (!S_ISREG(st.st_mode)) {
    return Error{ErrorKind::kInternal, fmt::format("{} is not a lineage history database (not a file)", path)};
  }
  // Immutable only when no writer can change the file under the reader:
  // no recorder holds the lock, and neither the WAL nor a rollback journal
  // holds anything the main file lacks (a recorder killed with -9 leaves
  // its last commits in the WAL; those need the normal WAL reader).
  // Then SQLite neither creates nor maps the -shm nor takes locks, which
  // was most of the cost of `why ORPHAN --db` on an idle database.
  bool immutable = mode == ReadMode::kAuto && !recorder_may_write(path) && empty_or_absent(path + "-wal") &&
                   empty_or_absent(path + "-journal");
  auto db = Db::open(path, immutable ? Db::Mode::kImmutable : Db::Mode::kReadOnly);
  if (!db) return db.error();
  auto version = check(*db);
  if (!version) return version.error();
  if (*version == 0) {
    return Error{ErrorKind::kInternal, fmt::format("{} is not a lineage history database (empty)", path)};
  }
  ReadDb out{std::move(*db), *version, std::nullopt};
  if (immutable) out.immutable = stamp(st);
  return out;
}

}  // namespace lineage::store
