#pragma once
// The history database's schema and its versions. `PRAGMA user_version`
// names the schema a file was written with; opening for writing migrates an
// older file forward, one version at a time, in one transaction. A file of
// a newer version, another application's database or a corrupt file is
// refused with a one-line error and never modified.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/sqlite.h"

namespace lineage::store {

inline constexpr int kSchemaVersion = 5;
/// PRAGMA application_id of a lineage history ("LNAG").
inline constexpr int64_t kApplicationId = 0x4c4e4147;

/// Flags of a recorded process (processes.flags).
enum ProcessFlag : int64_t {
  kFlagBackfilled = 1,     // found in /proc when recording started, not forked under the recorder
  kFlagExitUnseen = 2,     // gone without an exit event: exit time approximate
  kFlagPlaceholder = 4,    // known only as someone's parent
  kFlagParentAssumed = 8,  // current parent assumed to be init
  kFlagExeced = 16,        // has an execs row (schema 2): its name is its execs' comm, not its fork comm
};

/// Kinds of versioned change (changes.kind).
enum ChangeKind : int64_t {
  kChangeParent = 1,  // value: the new current parent's process row
  kChangeUid = 2,
  kChangeGid = 3,
  kChangeCgroup = 4,  // value: paths row
};

/// A 64-bit FNV-1a-style hash of the bytes (its offset basis is one digit short
/// of FNV's, and stays so), a lookup key only: the hash columns of schemas 1-3.
int64_t text_hash_v1(std::string_view s);
/// The hash columns of schema 4 on: text_hash_v1's low 32 bits, sign-extended
/// (4 bytes in SQLite's record format; the migration computes the same).
int64_t text_hash(std::string_view s);

/// The SQL that creates schema `version` from nothing (tests write every
/// earlier version with it, then open the file with today's code).
const char* schema_sql(int version);

/// Opens (creating if absent) for the recorder: WAL, checks, migrations.
/// `notice` (when given) receives what the user should hear of once: a
/// file without auto-vacuum (from before schema 4) whose VACUUM failed or
/// found no room stays so, and never shrinks; each open tries again.
Result<Db> open_for_write(const std::string& path, std::string* notice = nullptr);
/// Opens an existing database for queries; never writes to it. A file of
/// an older version is read as it is: History picks slower plans for
/// versions 1 and 2 (fewer indexes), and reads the execs of versions 1-3
/// with their file identity and context in the row (64-bit string hashes).
/// kNotFound when the file does not exist.
///
/// When no recorder holds DB.lock and the WAL is empty (every committed
/// transaction is in the main file), the file is opened immutable: no
/// -wal/-shm is created or mapped and no lock is taken. `stamp` then
/// identifies the main file as it was opened: a reader that sees it
/// changed (a recorder started and checkpointed meanwhile) reads again
/// through a normal read-only connection.
struct FileStamp {
  uint64_t dev = 0, ino = 0;
  int64_t size = 0, mtime_sec = 0, mtime_nsec = 0;
  bool operator==(const FileStamp&) const = default;
};
struct ReadDb {
  Db db;
  int64_t version = 0;
  std::optional<FileStamp> immutable;  // set when opened immutable
};
enum class ReadMode { kAuto, kShared };  // kShared: never immutable
Result<ReadDb> open_for_read(const std::string& path, ReadMode mode = ReadMode::kAuto);
/// The stamp of path now (nullopt: cannot be read).
std::optional<FileStamp> stamp_of(const std::string& path);
/// Whether a writer may have the database open: a recorder holds an
/// exclusive flock on DB.lock (cli/record_command.cc) for its whole run.
bool recorder_may_write(const std::string& path);

}  // namespace lineage::store
