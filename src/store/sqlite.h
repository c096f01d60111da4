#pragma once
// A thin RAII layer over SQLite's C API: the connection and each prepared
// statement are owned once and finalised once; errors come back as Result.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace lineage::store {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

/// A prepared statement: bind by position (1-based, as SQLite counts),
/// step, read columns (0-based), reset for the next use.
class Stmt {
 public:
  Stmt() = default;
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  bool valid() const { return s_ != nullptr; }

  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(s_.get(), i, v);
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_blob(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_text(int i, std::string_view v) {
    sqlite3_bind_text(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, double v) {
    sqlite3_bind_double(s_.get(), i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_.get(), i);
    return *this;
  }
  Stmt& bind(int i, std::optional<int64_t> v) { return v ? bind(i, *v) : bind_null(i); }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_.get()); }
  /// Steps once to SQLITE_DONE and resets; the error code otherwise.
  int run();
  void reset() {
    sqlite3_reset(s_.get());
    sqlite3_clear_bindings(s_.get());
  }

  double real(int col) const { return sqlite3_column_double(s_.get(), col); }
  bool is_null(int col) const { return sqlite3_column_type(s_.get(), col) == SQLITE_NULL; }
  int64_t i64(int col) const { return sqlite3_column_int64(s_.get(), col); }
  std::optional<int64_t> opt(int col) const {
    if (is_null(col)) return std::nullopt;
    return i64(col);
  }
  std::string text(int col) const;

 private:
  std::unique_ptr<sqlite3_stmt, StmtFinalizer> s_;
};

/// One connection. Read-only connections never write to the file (not even
/// a WAL checkpoint), so a corrupt or newer database is left as it was.
/// SQLite's message as one printable line: about a malformed schema it
/// quotes the file's own bytes (newlines, terminal escapes).
std::string printable(std::string_view message);

class Db {
 public:
  /// kImmutable: read-only and told the file cannot change while open
  /// (URI immutable=1): no locks, no WAL, no -shm created or mapped. Only
  /// for a file no writer has open and whose WAL is empty (store/schema.h
  /// open_for_read decides).
  enum class Mode { kReadOnly, kReadWrite, kImmutable };
  static Result<Db> open(const std::string& path, Mode mode);

  sqlite3* get() const { return db_.get(); }
  const std::string& path() const { return path_; }
  Result<Stmt> prepare(std::string_view sql) const;
  /// Runs statements with no result rows (DDL, PRAGMA, BEGIN/COMMIT).
  Result<bool> exec(const std::string& sql) const;
  /// The first column of the first row of a query, as an integer.
  Result<int64_t> scalar(std::string_view sql) const;
  /// The message of the connection's last error, with the path.
  Error error(std::string_view what, int code) const;
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_.get()); }

 private:
  std::unique_ptr<sqlite3, DbCloser> db_;
  std::string path_;
};

}  // namespace lineage::store
