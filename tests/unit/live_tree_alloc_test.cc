// The live tree's hot path allocates nothing: once the tree has reached its
// working size, a fork and an exit (and an exec of a command line it has
// seen) make no heap allocation. Its own binary, because it replaces the
// global operator new to count.
#include <cstdlib>
#include <new>

#include <gtest/gtest.h>

#include "core/live_tree.h"

namespace {
thread_local bool g_counting = false;
thread_local size_t g_allocations = 0;
}  // namespace

void* operator new(size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace lineage::core {
namespace {

using core::Event;
using core::EventKind;

Event event(EventKind kind, uint64_t t, int pid, int ppid = 0) {
  Event e;
  e.kind = kind;
  e.time_ns = t;
  e.pid = e.tid = pid;
  e.ppid = ppid;
  e.start_time_ns = kind == EventKind::kFork ? t : 0;
  e.comm = "worker";
  return e;
}

TEST(LiveTreeAllocations, ForkExecExitAllocateNothingInSteadyState) {
  LiveTree tree(1000);
  uint64_t t = 1;
  tree.apply(event(EventKind::kFork, t++, 1));
  tree.apply(event(EventKind::kFork, t++, 10, 1));
  Event fork = event(EventKind::kFork, 0, 0, 10);
  Event exec = event(EventKind::kExec, 0, 0);
  exec.exe = "/usr/bin/cc";
  exec.argv = {"cc", "-c", "x.c"};
  exec.comm = "cc";
  Event exit = event(EventKind::kExit, 0, 0);
  auto cycle = [&](int pid) {
    fork.time_ns = fork.start_time_ns = t++;
    fork.pid = fork.tid = pid;
    tree.apply(fork);
    exec.time_ns = t++;
    exec.pid = exec.tid = pid;
    tree.apply(exec);
    exit.time_ns = t++;
    exit.pid = exit.tid = pid;
    tree.apply(exit);
  };
  for (int i = 0; i < 5000; ++i) cycle(100 + i % 20000);  // reach the budget, evicting
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 5000; ++i) cycle(100 + (5000 + i) % 20000);
  g_counting = false;
  EXPECT_EQ(g_allocations, 0u);
  EXPECT_LE(tree.size(), 1000u);
  EXPECT_GE(tree.counters().evicted, 9000u);
}

}  // namespace
}  // namespace lineage::core
