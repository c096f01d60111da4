#include "store/sqlite.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

namespace lineage::store {

std::string printable(std::string_view message) {
  std::string out(message.substr(0, 300));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
  }
  return out;
}

int Stmt::run() {
  int rc = step();
  reset();
  return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

std::string Stmt::text(int col) const {
  const void* p = sqlite3_column_blob(s_.get(), col);
  int n = sqlite3_column_bytes(s_.get(), col);
  if (p == nullptr || n <= 0) return {};
  return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
}

namespace {

// A path as an SQLite URI: every byte but the unreserved ones and '/' is
// percent-encoded ('?', '#' and '%' would end or escape the path).
std::string file_uri(const std::string& path, std::string_view query) {
  std::string out = "file:";
  for (unsigned char c : path) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '/' || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  out += '?';
  out += query;
  return out;
}

}  // namespace

Result<Db> Db::open(const std::string& path, Mode mode) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
  std::string name = path;
  if (mode == Mode::kReadWrite) {
    flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  } else {
    flags |= SQLITE_OPEN_READONLY;
  }
  if (mode == Mode::kImmutable) {
    flags |= SQLITE_OPEN_URI;
    name = file_uri(path, "immutable=1");
  }
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  Db db;
  db.db_.reset(raw);
  db.path_ = path;
  if (rc != SQLITE_OK) {
    ErrorKind kind = rc == SQLITE_CANTOPEN || rc == SQLITE_PERM ? ErrorKind::kPermission : ErrorKind::kInternal;
    std::string msg = printable(raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
    if ((rc & 0xff) == SQLITE_CANTOPEN) {
      // SQLite says only "unable to open database file": the system's
      // reason, as this process (its effective ids and capabilities) would
      // meet it. Asked without opening the file: another connection of
      // this process may hold POSIX locks on it, which a close would drop.
      int want = mode == Mode::kReadWrite ? R_OK | W_OK : R_OK;
      if (::faccessat(AT_FDCWD, path.c_str(), want, AT_EACCESS) != 0 && errno != ENOENT) msg = strerror(errno);
    }
    return Error{kind, fmt::format("cannot open history database {}: {}", path, msg)};
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 2000);
  return db;
}

Result<Stmt> Db::prepare(std::string_view sql) const {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &s,
                              nullptr);
  if (rc != SQLITE_OK) return error("prepare", rc);
  return Stmt(s);
}

Result<bool> Db::exec(const std::string& sql) const {
  char* msg = nullptr;
  int rc = sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &msg);
  if (msg != nullptr) sqlite3_free(msg);
  if (rc != SQLITE_OK) return error("write", rc);
  return true;
}

Result<int64_t> Db::scalar(std::string_view sql) const {
  auto s = prepare(sql);
  if (!s) return s.error();
  int rc = s->step();
  if (rc == SQLITE_ROW) return s->i64(0);
  if (rc == SQLITE_DONE) return int64_t{0};
  return error("read", rc);
}

Error Db::error(std::string_view what, int code) const {
  int primary = code & 0xff;
  ErrorKind kind = ErrorKind::kInternal;
  if (primary == SQLITE_PERM || primary == SQLITE_CANTOPEN || primary == SQLITE_READONLY ||
      primary == SQLITE_AUTH) {
    kind = ErrorKind::kPermission;
  }
  // The connection's message only while it is about this error: a bind or
  // a reset since then leaves "not an error".
  const char* msg = db_ && sqlite3_extended_errcode(db_.get()) == code ? sqlite3_errmsg(db_.get())
                                                                        : sqlite3_errstr(code);
  return Error{kind, fmt::format("history database {}: {} failed: {}", path_, what, printable(msg))};
}

}  // namespace lineage::store
