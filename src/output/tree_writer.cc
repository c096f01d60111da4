#include "output/tree_writer.h"

#include <algorithm>

#include "output/sanitize.h"

namespace lineage::output {
namespace {

struct Art {
  const char* branch;  // a child with siblings after it
  const char* last;    // the last child
  const char* through; // an ancestor level that continues below
  const char* blank;
};
constexpr Art kUnicode{"├─ ", "└─ ", "│  ", "   "};
constexpr Art kAscii{"|- ", "`- ", "|  ", "   "};

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kRed = "\x1b[31m";
constexpr const char* kReset = "\x1b[0m";

// A thread shown as a row: the leader's data with the thread's own.
core::Process thread_view(const core::Process& leader, int32_t tid) {
  core::Process t;
  t.status = leader.status;
  t.user = leader.user;
  t.stat = leader.stat;
  for (const auto& th : leader.threads) {
    if (th.tid != tid) continue;
    t.stat.comm = th.comm;
    t.stat.state = th.state;
    t.stat.utime_ticks = th.utime_ticks;
    t.stat.stime_ticks = th.stime_ticks;
    t.stat.start_ticks = th.start_ticks;
  }
  t.stat.ppid = leader.pid();
  t.stat.num_threads = 1;
  t.key = {tid, leader.key.start_time_ns};
  return t;
}

struct Line {
  uint32_t row;
  std::string art;
};

// Rows in display order with their line art, without recursion.
std::vector<Line> layout(const Forest& forest, const Art& art) {
  std::vector<Line> lines;
  lines.reserve(forest.rows.size());
  struct Frame {
    uint32_t row;
    size_t depth;
    bool last;
  };
  std::vector<Frame> stack;
  for (size_t k = forest.roots.size(); k-- > 0;) stack.push_back({forest.roots[k], 0, true});
  std::vector<bool> continues;  // per depth: does that ancestor have later siblings
  while (!stack.empty()) {
    Frame f = stack.back();
    stack.pop_back();
    continues.resize(f.depth);
    std::string prefix;
    for (size_t d = 1; d < f.depth; ++d) prefix += continues[d] ? art.through : art.blank;
    if (f.depth > 0) prefix += f.last ? art.last : art.branch;
    lines.push_back({f.row, std::move(prefix)});
    continues.push_back(!f.last);
    const auto& kids = forest.rows[f.row].children;
    for (size_t k = kids.size(); k-- > 0;) stack.push_back({kids[k], f.depth + 1, k + 1 == kids.size()});
  }
  return lines;
}

}  // namespace

std::string render_tree_text(const Forest& forest, const core::ProcessTree& tree,
                             const core::SystemInfo& sys, const TextOptions& options) {
  const Art& art = options.ascii ? kAscii : kUnicode;
  const auto& columns = options.columns;
  std::vector<Line> lines = layout(forest, art);

  // Cells first, escaped, so widths are measured on what is printed.
  std::vector<std::vector<std::string>> cells(lines.size());
  std::vector<size_t> widths(columns.size(), 0);
  for (size_t c = 0; c < columns.size(); ++c) widths[c] = columns[c]->header.size();
  for (size_t l = 0; l < lines.size(); ++l) {
    const Row& row = forest.rows[lines[l].row];
    const core::Process& leader = tree.at(row.index);
    core::Process thread;
    if (row.tid != 0) thread = thread_view(leader, row.tid);
    const core::Process& p = row.tid != 0 ? thread : leader;
    cells[l].reserve(columns.size());
    for (size_t c = 0; c < columns.size(); ++c) {
      std::string text = escape_text(columns[c]->text(p, sys));
      if (columns[c]->is_command) {
        if (row.tid != 0) text = "{" + escape_text(p.stat.comm) + "}";
        if (row.count > 1) text = std::to_string(row.count) + "*[" + text + "]";
        text = lines[l].art + text;
      }
      widths[c] = std::max(widths[c], display_width(text));
      cells[l].push_back(std::move(text));
    }
  }

  auto compose = [&](const std::vector<std::string>& values) {
    std::string line;
    for (size_t c = 0; c < columns.size(); ++c) {
      const std::string& v = values[c];
      size_t pad = widths[c] - std::min(widths[c], display_width(v));
      bool last = c + 1 == columns.size();
      if (columns[c]->right_align) line.append(pad, ' ');
      line += v;
      if (!last) {
        if (!columns[c]->right_align) line.append(pad, ' ');
        line += ' ';
      }
    }
    if (options.width > 0) line.resize(cut_to_width(line, options.width).size());
    return line;
  };

  std::string out;
  if (options.header) {
    std::vector<std::string> headers;
    for (const auto* c : columns) headers.emplace_back(c->header);
    out += compose(headers);
    out += '\n';
  }
  for (size_t l = 0; l < lines.size(); ++l) {
    std::string line = compose(cells[l]);
    const Row& row = forest.rows[lines[l].row];
    const char* color = nullptr;
    if (options.color) {
      if (row.target) color = kBold;
      else if (row.context) color = kDim;
      else if (tree.at(row.index).is_zombie() && row.tid == 0) color = kRed;
    }
    if (color) out += color;
    out += line;
    if (color) out += kReset;
    out += '\n';
  }
  return out;
}

}  // namespace lineage::output
