#include "core/process_tree.h"

#include <algorithm>
#include <numeric>

namespace lineage::core {

bool plausible_parent(const Process& parent, const Process& child) {
  return parent.key.start_time_ns <= child.key.start_time_ns && parent.pid() != child.pid();
}

void ProcessTree::rebuild(std::vector<Process> processes) {
  processes_ = std::move(processes);
  // A scan lists /proc in pid order already: sorting anyway would move
  // every (large) Process several times.
  auto by_key = [](const Process& a, const Process& b) { return a.key < b.key; };
  if (!std::is_sorted(processes_.begin(), processes_.end(), by_key)) {
    // Sort their order, then move each once (a chain comes root first).
    std::vector<size_t> order(processes_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return processes_[a].key < processes_[b].key; });
    std::vector<Process> sorted;
    sorted.reserve(processes_.size());
    for (size_t i : order) sorted.push_back(std::move(processes_[i]));
    processes_ = std::move(sorted);
  }
  const size_t n = processes_.size();
  // Sorted by key is sorted by pid: find() searches this array, one
  // allocation where a hash map made one per process.
  pids_.resize(n);
  for (size_t i = 0; i < n; ++i) pids_[i] = processes_[i].pid();

  parent_.assign(n, kNone);
  // Counting sort without a second array: the counts go in shifted by two,
  // the prefix sums make child_begin_[p + 1] where p's children start, and
  // placing each child advances it to where they end, which is where p + 1's
  // start: child_begin_[p] .. child_begin_[p + 1] at the end.
  child_begin_.assign(n + 2, 0);
  for (size_t i = 0; i < n; ++i) {
    const Process& p = processes_[i];
    if (p.ppid() <= 0) continue;
    size_t candidate = find(p.ppid());
    if (candidate != kNone && plausible_parent(processes_[candidate], p)) {
      parent_[i] = candidate;
      ++child_begin_[candidate + 2];
    }
  }
  std::partial_sum(child_begin_.begin(), child_begin_.end(), child_begin_.begin());
  child_list_.resize(child_begin_[n + 1]);
  roots_.clear();
  roots_.reserve(n - child_begin_[n + 1]);
  // Walking in key order keeps every child list sorted by pid.
  for (size_t i = 0; i < n; ++i) {
    if (parent_[i] == kNone) {
      roots_.push_back(i);
    } else {
      child_list_[child_begin_[parent_[i] + 1]++] = i;
    }
  }
  child_begin_.pop_back();
}

size_t ProcessTree::find(int32_t pid) const {
  // The first of equal pids: the earliest started, as a hash map's first
  // insertion was.
  auto it = std::lower_bound(pids_.begin(), pids_.end(), pid);
  return it == pids_.end() || *it != pid ? kNone : static_cast<size_t>(it - pids_.begin());
}

std::span<const size_t> ProcessTree::children(size_t index) const {
  return {child_list_.data() + child_begin_[index], child_begin_[index + 1] - child_begin_[index]};
}

std::vector<size_t> ProcessTree::ancestors(size_t index, size_t max_depth) const {
  std::vector<size_t> chain;
  chain.reserve(std::min<size_t>(max_depth, 16));  // most chains are shorter: one allocation
  size_t current = parent_[index];
  while (current != kNone && chain.size() < max_depth) {
    // Start times make a loop impossible in a consistent snapshot; a
    // snapshot read over time is not one, so check anyway.
    if (current == index || std::find(chain.begin(), chain.end(), current) != chain.end()) break;
    chain.push_back(current);
    current = parent_[current];
  }
  return chain;
}

}  // namespace lineage::core
