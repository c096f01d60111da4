// The live tree under arbitrary event streams: forks, execs, exits, threads,
// reapers, losses and /proc reconciles in any order, over a few pids (so
// reuse, re-parenting and eviction under tiny budgets happen all the time).
// ASan/UBSan catch a broken intrusive list or a dangling slot; the check
// below catches a lineage that loops.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/live_tree.h"

namespace {

struct Bytes {
  const uint8_t* p;
  size_t n;
  uint8_t next() {
    if (n == 0) return 0;
    --n;
    return *p++;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using lineage::core::LiveTree;
  using lineage::core::ProcessKey;
  using lineage::core::Event;
  using lineage::core::EventKind;
  Bytes in{data, size};
  LiveTree tree(8 + in.next() % 8, 1000, in.next() % 6);
  uint64_t t = 1;
  static const char* kStrings[] = {"", "/bin/sh", "/usr/bin/cc1", "a", "/lib64/ld-linux-x86-64.so.2"};
  while (in.n > 0) {
    uint8_t op = in.next();
    t += in.next() % 4;  // sometimes the same time
    Event e;
    e.time_ns = t;
    e.pid = 1 + in.next() % 12;
    e.tid = e.pid;
    e.ppid = in.next() % 12;
    e.start_time_ns = (in.next() % 3) ? t - (in.next() % 3) : 0;
    e.parent_start_time_ns = in.next() % 2 ? t / 2 : 0;
    switch (op % 8) {
      case 0:
      case 1: e.kind = EventKind::kFork; break;
      case 2:
        e.kind = EventKind::kExec;
        e.exe = kStrings[in.next() % 5];
        e.interpreter = kStrings[in.next() % 5];
        for (int i = in.next() % 3; i > 0; --i) e.argv.emplace_back(kStrings[in.next() % 5]);
        e.exe_ino = in.next();
        break;
      case 3:
        e.kind = EventKind::kExit;
        e.reaper_pid = in.next() % 12;
        e.reaper_start_time_ns = in.next() % 2 ? t / 3 : 0;
        break;
      case 4:
        e.kind = in.next() % 2 ? EventKind::kFork : EventKind::kExit;
        e.thread = true;
        e.tid = 100 + in.next() % 16;
        e.thread_start_time_ns = t;
        break;
      case 5:
        e.kind = EventKind::kLost;
        e.lost = in.next();
        break;
      case 6: {
        std::vector<lineage::core::Process> snap;
        for (int i = in.next() % 6; i > 0; --i) {
          lineage::core::Process p;
          p.key = {1 + in.next() % 12, t - in.next() % 4};
          p.stat.ppid = in.next() % 12;
          p.stat.comm = kStrings[in.next() % 5];
          snap.push_back(p);
        }
        tree.reconcile(snap, t);
        continue;
      }
      default: e.kind = EventKind::kFork; e.comm = "x"; break;
    }
    tree.apply(e);
    // Queries over every live pid, now and in the past.
    for (int32_t pid = 1; pid <= 12; ++pid) {
      const auto* p = tree.find_pid(pid);
      if (p == nullptr) continue;
      for (bool fork_parents : {true, false}) {
        auto chain = tree.lineage(p->key, t - (op % 3), 64, fork_parents);
        for (size_t i = 0; i < chain.size(); ++i) {
          for (size_t j = i + 1; j < chain.size(); ++j) {
            if (chain[i] == chain[j]) std::abort();  // a loop reported as lineage
          }
        }
      }
      (void)tree.at(p->key, t / 2);
      (void)tree.at(p->key, t);
      (void)tree.children(p->key);
      (void)tree.descendants(p->key, t, 64);
      (void)tree.threads(p->key);
    }
  }
  return 0;
}
