#pragma once
// A process of a hand-built chain for detector tests (pure logic, no /proc):
// a root process running `exe` with `argv`, its own session and group
// leader, an empty environment.
#include <cstdint>
#include <string>
#include <vector>

#include "core/process.h"
#include "explain/context.h"

namespace lineage::testing {

inline core::Process proc(int32_t pid, int32_t ppid, std::string exe, std::vector<std::string> argv,
                                   uint64_t start = 0) {
  core::Process p;
  p.key = {pid, start ? start : static_cast<uint64_t>(pid) * 1000};
  p.stat.pid = pid;
  p.stat.ppid = ppid;
  p.stat.sid = pid;
  p.stat.pgid = pid;
  p.stat.state = 'S';
  p.stat.comm = std::string(explain::base_name(exe)).substr(0, 15);
  p.exe = core::ExeInfo{std::move(exe), false};
  p.argv = std::move(argv);
  p.status = core::StatusInfo{};
  p.user = "root";
  p.environ = std::vector<std::string>{};
  return p;
}

}  // namespace lineage::testing
