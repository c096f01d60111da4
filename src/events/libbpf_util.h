#pragma once
// What every libbpf user here needs: libbpf's own messages captured for the
// error a user sees, and an errno told apart as "not allowed" or "failed".
#include <bpf/libbpf.h>

#include <string>
#include <string_view>

#include "core/result.h"

namespace lineage::events {

/// libbpf reports through a process-wide print callback. While one of these
/// lives it points at `log`, so a failure carries libbpf's explanation (for
/// example the verifier's log) instead of a bare errno. One at a time.
class LibbpfLogCapture {
 public:
  explicit LibbpfLogCapture(std::string* log);
  ~LibbpfLogCapture();
  LibbpfLogCapture(const LibbpfLogCapture&) = delete;
  LibbpfLogCapture& operator=(const LibbpfLogCapture&) = delete;

 private:
  libbpf_print_fn_t previous_;
};

/// "<what>: <step>: <strerror>" plus the tail of libbpf's log. kPermission
/// for EPERM, and for EACCES when the process lacks the capabilities to load
/// tracing programs (EACCES is also the verifier rejecting a program).
Error bpf_load_error(std::string_view what, std::string_view step, int err, const std::string& log);

/// Whether lineage runs in the initial pid namespace, where the pids an
/// iterator program reports (global ones) are the pids /proc shows.
bool in_initial_pid_ns();

}  // namespace lineage::events
