#include "events/libbpf_util.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "procfs/reader.h"

namespace lineage::events {
namespace {

constexpr size_t kMaxLibbpfLog = 2048;  // tail of libbpf's messages kept for an error
std::string* g_log = nullptr;

int capture_libbpf(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG || g_log == nullptr) return 0;
  char line[1024];
  int n = std::vsnprintf(line, sizeof line, format, args);
  if (n > 0) g_log->append(line, std::min<size_t>(static_cast<size_t>(n), sizeof line - 1));
  if (g_log->size() > 4 * kMaxLibbpfLog) g_log->erase(0, g_log->size() - kMaxLibbpfLog);
  return 0;
}

bool has_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

bool may_load_tracing() {
  return has_capability(CAP_SYS_ADMIN) || (has_capability(CAP_BPF) && has_capability(CAP_PERFMON));
}

}  // namespace

LibbpfLogCapture::LibbpfLogCapture(std::string* log) : previous_(libbpf_set_print(capture_libbpf)) {
  g_log = log;
}

LibbpfLogCapture::~LibbpfLogCapture() {
  libbpf_set_print(previous_);
  g_log = nullptr;
}

Error bpf_load_error(std::string_view what, std::string_view step, int err, const std::string& log) {
  err = err < 0 ? -err : err;
  bool permission = err == EPERM || (err == EACCES && !may_load_tracing());
  std::string message = std::string(what) + ": " + std::string(step) + ": " + std::strerror(err);
  if (!log.empty()) {
    std::string tail = log.size() > kMaxLibbpfLog ? log.substr(log.size() - kMaxLibbpfLog) : log;
    while (!tail.empty() && tail.back() == '\n') tail.pop_back();
    message += "\n" + tail;
  }
  return {permission ? ErrorKind::kPermission : ErrorKind::kInternal, std::move(message)};
}

bool in_initial_pid_ns() {
  struct stat st {};
  return ::stat("/proc/self/ns/pid", &st) == 0 && st.st_ino == procfs::ProcReader::kInitialPidNamespace;
}

}  // namespace lineage::events
