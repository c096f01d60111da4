#pragma once
// The pieces every whole-table /proc scan shares (sockets' owners in
// net.cc, a file's holders in holders.cc): a pid directory's entries read
// with getdents64 into the caller's buffer, pids spread over a few threads,
// and the tally of processes that exited or could not be read.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>
#include <vector>

#include "core/unique_fd.h"
#include "procfs/reader.h"

namespace lineage::procfs::scan {

/// Calls fn(name) for each entry of dirfd but "." and ".." (and other dot
/// names), with no DIR allocation per process; fn returns false to stop.
template <class Fn>
void for_each_entry(int dirfd, std::vector<char>& buf, Fn fn) {
  for (;;) {
    ssize_t n = ::getdents64(dirfd, buf.data(), buf.size());
    if (n <= 0) return;
    for (ssize_t off = 0; off < n;) {
      auto* d = reinterpret_cast<dirent64*>(buf.data() + off);
      if (d->d_reclen == 0) return;
      off += d->d_reclen;
      if (d->d_name[0] == '.') continue;
      if (!fn(d->d_name)) return;
    }
  }
}

inline void count(ScanStats& stats, ReadError err) {
  if (err == ReadError::kGone) ++stats.vanished;
  if (err == ReadError::kDenied) ++stats.denied;
}

/// Runs work(part, pid) over all pids on up to four threads, in chunks (as
/// ProcReader::scan); returns the parts for the caller to merge.
template <class Part, class Work>
std::vector<Part> for_pids_parallel(const std::vector<int32_t>& pids, Work work) {
  constexpr size_t kChunk = 128;
  constexpr size_t kMinPidsPerWorker = 512;
  size_t workers = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  workers = std::min(workers, std::max<size_t>(1, pids.size() / kMinPidsPerWorker));
  std::atomic<size_t> next{0};
  std::vector<Part> parts(workers);
  auto run = [&](Part& part) {
    for (size_t begin; (begin = next.fetch_add(kChunk)) < pids.size();) {
      for (size_t i = begin; i < std::min(begin + kChunk, pids.size()); ++i) work(part, pids[i]);
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) {
    try {
      threads.emplace_back(run, std::ref(parts[w]));
    } catch (const std::system_error&) {
      break;  // the chunks left are taken by the workers that did start
    }
  }
  run(parts[0]);
  for (auto& t : threads) t.join();
  return parts;
}

inline UniqueFd open_root(const ProcReader& reader) {
  return UniqueFd(::open(reader.root().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
}

}  // namespace lineage::procfs::scan
