#include "output/forest.h"

#include <algorithm>
#include <map>

namespace lineage::output {
namespace {

using core::ProcessTree;

enum class Mark : uint8_t { kHidden, kShown, kContext };

std::vector<Mark> select(const ProcessTree& tree, const ForestOptions& options) {
  auto visible = [&](size_t i) { return !options.visible || options.visible(tree.at(i)); };
  std::vector<Mark> marks(tree.size(), Mark::kHidden);
  if (options.targets.empty()) {
    for (size_t i = 0; i < tree.size(); ++i) marks[i] = visible(i) ? Mark::kShown : Mark::kHidden;
    return marks;
  }
  std::vector<size_t> stack;
  for (size_t target : options.targets) {
    marks[target] = Mark::kShown;
    for (size_t a : tree.ancestors(target)) {
      if (marks[a] == Mark::kHidden) marks[a] = Mark::kContext;
    }
    stack.assign(tree.children(target).begin(), tree.children(target).end());
    while (!stack.empty()) {
      size_t i = stack.back();
      stack.pop_back();
      if (visible(i)) marks[i] = Mark::kShown;
      for (size_t c : tree.children(i)) stack.push_back(c);
    }
  }
  return marks;
}

// Orders sibling lists by the sort keys, then pid; values computed once.
void sort_rows(Forest& forest, const ProcessTree& tree, const core::SystemInfo& sys,
               const std::vector<SortKey>& keys) {
  std::vector<std::vector<SortValue>> values(keys.empty() ? 0 : forest.rows.size());
  for (size_t r = 0; r < values.size(); ++r) {
    for (const auto& key : keys) values[r].push_back(key.column->sort_value(tree.at(forest.rows[r].index), sys));
  }
  auto pid_of = [&](uint32_t r) {
    const Row& row = forest.rows[r];
    return row.tid != 0 ? row.tid : tree.at(row.index).pid();
  };
  auto less = [&](uint32_t a, uint32_t b) {
    bool a_thread = forest.rows[a].tid != 0, b_thread = forest.rows[b].tid != 0;
    if (a_thread != b_thread) return a_thread;  // threads first, as pstree
    for (size_t k = 0; k < keys.size(); ++k) {
      if (values[a][k] == values[b][k]) continue;
      return keys[k].descending ? values[b][k] < values[a][k] : values[a][k] < values[b][k];
    }
    return pid_of(a) < pid_of(b);
  };
  std::sort(forest.roots.begin(), forest.roots.end(), less);
  for (auto& row : forest.rows) std::sort(row.children.begin(), row.children.end(), less);
}

// Folds leaf siblings with the same command and user into the first one.
void compact(Forest& forest, const ProcessTree& tree) {
  auto fold = [&](std::vector<uint32_t>& list) {
    std::map<std::pair<std::string, uint32_t>, uint32_t> first;
    std::vector<uint32_t> kept;
    for (uint32_t r : list) {
      Row& row = forest.rows[r];
      const core::Process& p = tree.at(row.index);
      if (!row.children.empty() || row.target) {
        kept.push_back(r);
        continue;
      }
      std::string name = row.tid != 0 ? "{thread}" : p.command_line();
      uint32_t uid = p.status ? p.status->uid.effective : UINT32_MAX;
      auto [it, inserted] = first.emplace(std::pair{std::move(name), uid}, r);
      if (inserted) {
        kept.push_back(r);
      } else {
        Row& head = forest.rows[it->second];
        ++head.count;
        head.folded_pids.push_back(row.tid != 0 ? row.tid : p.pid());
      }
    }
    list = std::move(kept);
  };
  fold(forest.roots);
  for (size_t r = 0; r < forest.rows.size(); ++r) fold(forest.rows[r].children);
}

}  // namespace

Forest build_forest(const ProcessTree& tree, const core::SystemInfo& sys,
                    const ForestOptions& options) {
  std::vector<Mark> marks = select(tree, options);
  std::vector<bool> is_target(tree.size(), false);
  for (size_t t : options.targets) is_target[t] = true;
  Forest forest;
  // Depth-first from the tree's roots; each entry carries the row of the
  // nearest shown ancestor, so hidden processes are skipped over.
  constexpr uint32_t kNoRow = UINT32_MAX;
  std::vector<std::pair<size_t, uint32_t>> stack;
  for (size_t root : tree.roots()) stack.emplace_back(root, kNoRow);
  while (!stack.empty()) {
    auto [i, parent_row] = stack.back();
    stack.pop_back();
    uint32_t row_here = parent_row;
    if (marks[i] != Mark::kHidden) {
      row_here = static_cast<uint32_t>(forest.rows.size());
      Row row;
      row.index = i;
      row.context = marks[i] == Mark::kContext;
      row.target = is_target[i];
      forest.rows.push_back(std::move(row));
      (parent_row == kNoRow ? forest.roots : forest.rows[parent_row].children).push_back(row_here);
      if (options.threads) {
        for (const auto& t : tree.at(i).threads) {
          Row thread;
          thread.index = i;
          thread.tid = t.tid;
          forest.rows.push_back(std::move(thread));
          forest.rows[row_here].children.push_back(static_cast<uint32_t>(forest.rows.size() - 1));
        }
      }
    }
    for (size_t c : tree.children(i)) stack.emplace_back(c, row_here);
  }
  sort_rows(forest, tree, sys, options.sort);
  if (options.compact) compact(forest, tree);
  return forest;
}

}  // namespace lineage::output
