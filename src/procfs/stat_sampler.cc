#include "procfs/stat_sampler.h"

#include <dirent.h>
#include <fcntl.h>

#include <cstdio>

#include <fmt/format.h>

#include "procfs/parsers.h"
#include "procfs/reader.h"

namespace lineage::procfs {
namespace {

// A stat line is a few hundred bytes; comm is at most 64.
constexpr size_t kMaxStatBytes = 4096;

bool pid_name(const char* name, int32_t& pid) {
  int64_t v = 0;
  if (*name == '\0') return false;
  for (const char* c = name; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9' || v > 0x7fffffff / 10) return false;
    v = v * 10 + (*c - '0');
  }
  pid = static_cast<int32_t>(v);
  return pid > 0;
}

}  // namespace

Result<StatSampler> StatSampler::open(const std::string& root) {
  UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return not_found(fmt::format("cannot open {}", root));
  return StatSampler(std::move(fd), 1'000'000'000ull / ProcReader::ticks_per_second());
}

std::vector<core::Process> StatSampler::sample(size_t* vanished) {
  std::vector<core::Process> out;
  out.reserve(last_count_ + last_count_ / 8 + 16);
  UniqueDir dir = UniqueDir::from_fd(UniqueFd(::openat(root_fd_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
  if (!dir) return out;
  char name[32];
  while (dirent* entry = ::readdir(dir.get())) {
    int32_t pid = 0;
    if (!pid_name(entry->d_name, pid)) continue;
    std::snprintf(name, sizeof name, "%d/stat", pid);
    if (read_file_at(root_fd_.get(), name, buf_, kMaxStatBytes, nullptr, true) != ReadError::kNone) {
      if (vanished != nullptr) ++*vanished;
      continue;
    }
    auto stat = parse_stat(buf_);
    if (!stat || stat->pid != pid) continue;
    core::Process& p = out.emplace_back();  // built in place: a Process is large
    p.key = {pid, stat->start_ticks * tick_ns_};
    p.stat = std::move(*stat);
    p.read = core::kFieldStat;
  }
  last_count_ = out.size();
  return out;
}

}  // namespace lineage::procfs
