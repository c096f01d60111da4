// Google Benchmark of the live tree: the cost of one fork/exec/exit event
// and of a depth-10 lineage query. Run: ./build/bench/tree_bench
#include <benchmark/benchmark.h>

#include "core/live_tree.h"

namespace {

using lineage::core::LiveTree;
using lineage::core::ProcessKey;
using lineage::core::Event;
using lineage::core::EventKind;

Event make(EventKind kind, uint64_t t, int pid, int ppid = 0) {
  Event e;
  e.kind = kind;
  e.time_ns = t;
  e.pid = pid;
  e.tid = pid;
  e.ppid = ppid;
  e.start_time_ns = kind == EventKind::kFork ? t : 0;
  e.comm = "worker";
  return e;
}

// A chain of `depth` processes under init, the last one the parent of the
// short-lived children the benchmark forks.
LiveTree chain_tree(int depth, uint64_t& t) {
  LiveTree tree(65536);
  tree.apply(make(EventKind::kFork, ++t, 1, 0));
  for (int d = 0; d < depth; ++d) tree.apply(make(EventKind::kFork, ++t, 100 + d, d == 0 ? 1 : 99 + d));
  return tree;
}

void BM_ForkExecExit(benchmark::State& state) {
  uint64_t t = 0;
  LiveTree tree = chain_tree(10, t);
  // The events are built once: what is timed is the tree's work only.
  Event fork = make(EventKind::kFork, 0, 0, 109);
  Event exec = make(EventKind::kExec, 0, 0);
  exec.exe = "/usr/bin/true";
  exec.argv = {"/usr/bin/true"};
  exec.comm = "true";
  Event exit = make(EventKind::kExit, 0, 0);
  int pid = 1000;
  for (auto _ : state) {
    if (++pid > 30000) pid = 1000;
    fork.time_ns = fork.start_time_ns = ++t;
    fork.pid = fork.tid = pid;
    tree.apply(fork);
    exec.time_ns = ++t;
    exec.pid = exec.tid = pid;
    tree.apply(exec);
    exit.time_ns = ++t;
    exit.pid = exit.tid = pid;
    tree.apply(exit);
  }
  state.SetItemsProcessed(state.iterations() * 3);  // events
}
BENCHMARK(BM_ForkExecExit);

void BM_LineageDepth10(benchmark::State& state) {
  uint64_t t = 0;
  LiveTree tree = chain_tree(10, t);
  ProcessKey leaf = tree.find_pid(109)->key;
  for (auto _ : state) {
    auto chain = tree.lineage(leaf, t, 64);
    benchmark::DoNotOptimize(chain);
  }
}
BENCHMARK(BM_LineageDepth10);

}  // namespace

BENCHMARK_MAIN();
