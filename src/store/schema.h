#pragma once
// The history database's schema and its versions. `PRAGMA user_version`
// names the schema a file was written with; opening for writing migrates an
// older file forward, one version at a time, in one transaction. A file of
// a newer version, another application's database or a corrupt file is
// refused with a one-line error and never modified.
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "store/sqlite.h"

namespace lineage::store {

inline constexpr int kSchemaVersion = 3;
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
/// of FNV's, and stays so: every stored hash column uses it), a lookup key only.
int64_t text_hash(std::string_view s);

/// The SQL that creates schema `version` from nothing (tests write every
/// earlier version with it, then open the file with today's code).
const char* schema_sql(int version);

/// Opens (creating if absent) for the recorder: WAL, checks, migrations.
Result<Db> open_for_write(const std::string& path);
/// Opens an existing database for queries; never writes to it. A file of
/// an older version is read as it is (every version keeps the tables and
/// columns of version 1; only indexes were added): History picks slower
/// plans for it. kNotFound when the file does not exist.
Result<Db> open_for_read(const std::string& path);

}  // namespace lineage::store
