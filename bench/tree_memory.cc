// Memory per tracked process: builds a tree of N processes from events
// (half still alive, half exited but kept as ancestors of live ones), with
// realistic strings, and reports heap bytes per process (mallinfo2).
// Run: ./build/bench/tree_memory [N]
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/live_tree.h"

int main(int argc, char** argv) {
  using lineage::core::Event;
  using lineage::core::EventKind;
  const int n = argc > 1 ? std::atoi(argv[1]) : 100000;
  size_t before = mallinfo2().uordblks;
  {
    lineage::core::LiveTree tree(static_cast<size_t>(n) + 16);
    uint64_t t = 0;
    Event e;
    e.kind = EventKind::kFork;
    e.pid = 1;
    e.time_ns = e.start_time_ns = ++t;
    e.comm = "init";
    tree.apply(e);
    for (int i = 0; i < n; ++i) {
      int pid = 2 + i;
      Event f;
      f.kind = EventKind::kFork;
      f.pid = f.tid = pid;
      f.ppid = i % 2 == 0 ? 1 : pid - 1;  // odd ones are children of the previous
      f.time_ns = f.start_time_ns = ++t;
      tree.apply(f);
      Event x;
      x.kind = EventKind::kExec;
      x.pid = x.tid = pid;
      x.time_ns = ++t;
      x.comm = "python3";
      x.exe = "/usr/bin/python3.11";
      x.argv = {"/usr/bin/python3", "/srv/app/worker.py", "--queue", "q" + std::to_string(i)};
      tree.apply(x);
      if (i % 2 == 0) {  // the parent exits; its child (next) keeps it
        Event d;
        d.kind = EventKind::kExit;
        d.pid = pid;
        d.time_ns = ++t;
        // exit after the child forks: delay by applying at the next step
        if (i + 1 < n) {
          Event c;
          c.kind = EventKind::kFork;
          c.pid = c.tid = pid + 1;
          c.ppid = pid;
          c.time_ns = c.start_time_ns = ++t;
          tree.apply(c);
          Event cx = x;
          cx.pid = cx.tid = pid + 1;
          cx.time_ns = ++t;
          tree.apply(cx);
          ++i;
        }
        d.time_ns = ++t;
        tree.apply(d);
      }
    }
    size_t after = mallinfo2().uordblks;
    std::printf("%zu processes tracked (%zu alive), heap %.1f MiB, %.0f bytes per process\n", tree.size(),
                tree.size() / 2, (after - before) / 1048576.0,
                static_cast<double>(after - before) / static_cast<double>(tree.size()));
  }
  return 0;
}
