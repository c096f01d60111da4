// Golden tests of `lineage tree` on a fake proc tree: text and JSON as a
// user sees them. Set LINEAGE_UPDATE_GOLDEN=1 to rewrite the files, then
// review the diff.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/tree_command.h"
#include "fake_procfs.h"
#include "golden.h"

namespace lineage::cli {
namespace {

using testing::FakeProcess;
using testing::FakeProcfs;

constexpr uint32_t kKthread = 0x00208040;

//   1 init
//   ├─ 2 kthreadd (kernel)            hidden unless --kernel
//   │  └─ 3 kworker/0:1 (kernel)
//   ├─ 100 sshd -D
//   │  └─ 200 sshd: alice [priv]
//   │     └─ 210 -bash (nobody, pts/0)
//   │        ├─ 300 comm "a) (b<ESC>[31m", argv with a newline and an OSC
//   │        └─ 310 zombie
//   └─ 400 nginx: master
//      └─ 401..404 nginx: worker process (identical leaves)
void build(FakeProcfs& fs) {
  fs.add({.pid = 1, .comm = "init", .start_ticks = 0, .argv = {"/sbin/init"}});
  fs.add({.pid = 2, .comm = "kthreadd", .start_ticks = 0, .flags = kKthread});
  fs.add({.pid = 3, .ppid = 2, .comm = "kworker/0:1", .start_ticks = 1, .flags = kKthread});
  fs.add({.pid = 100, .ppid = 1, .comm = "sshd", .start_ticks = 500, .argv = {"/usr/sbin/sshd", "-D"}});
  fs.add({.pid = 200, .ppid = 100, .comm = "sshd", .start_ticks = 9000, .argv = {"sshd: alice [priv]"}});
  fs.add({.pid = 210, .ppid = 200, .comm = "bash", .start_ticks = 9100, .uid = 65534,
          .argv = {"-bash"}, .tty_nr = 34816, .tpgid = 300});
  fs.add({.pid = 300, .ppid = 210, .comm = "a) (b\x1b[31m", .state = 'R', .start_ticks = 9500,
          .uid = 65534, .argv = {"evil\nline", "\x1b]0;pwned\x07", "\xff"}, .pgid = 300, .sid = 210,
          .tty_nr = 34816, .tpgid = 300});
  fs.add({.pid = 310, .ppid = 210, .comm = "defunct", .state = 'Z', .start_ticks = 9600,
          .uid = 65534, .sid = 210});
  fs.add({.pid = 400, .ppid = 1, .comm = "nginx", .start_ticks = 600, .argv = {"nginx: master"}});
  for (int pid = 401; pid <= 404; ++pid) {
    fs.add({.pid = pid, .ppid = 400, .comm = "nginx", .start_ticks = 700, .uid = 65534,
            .argv = {"nginx: worker process"}, .pgid = 400, .sid = 400});
  }
}

using testing::expect_golden;

std::string run(const std::function<void(TreeOptions&)>& configure) {
  FakeProcfs fs(100.0);  // 100 s after boot
  build(fs);
  TreeOptions options;
  options.common.proc_root = fs.root();
  configure(options);
  auto out = run_tree(options);
  EXPECT_TRUE(out) << out.error().message;
  return out ? *out : "";
}

TEST(TreeOutput, DefaultColumns) {
  expect_golden("tree_default.txt", run([](TreeOptions&) {}));
}

TEST(TreeOutput, AsciiCompactKernelCustomColumns) {
  expect_golden("tree_ascii_compact.txt", run([](TreeOptions& o) {
                  o.ascii = o.compact = o.kernel = true;
                  o.columns = "pid,s,tty,rss,comm";
                }));
}

TEST(TreeOutput, TargetShowsAncestorsAndSubtree) {
  expect_golden("tree_target.txt", run([](TreeOptions& o) { o.target = resolve::TargetSpec{resolve::TargetKind::kAuto, "210"}; }));
}

TEST(TreeOutput, SortUserFilterAndWidth) {
  expect_golden("tree_sorted_user.txt", run([](TreeOptions& o) {
                  o.sort = "-pid";
                  o.user = "nobody";
                  o.width = 30;
                  o.columns = "pid,user,cmd";
                }));
}

TEST(TreeOutput, TextHasNoRawControlBytes) {
  std::string out = run([](TreeOptions& o) { o.kernel = true; });
  for (char c : out) {
    auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 || c == '\n') << "raw control byte " << int(u);
  }
  EXPECT_NE(out.find("evil\\nline \\e]0;pwned\\x07 \\xff"), std::string::npos) << out;
}

TEST(TreeOutput, JsonIsValidAndNested) {
  std::string out = run([](TreeOptions& o) { o.common.json = true; });
  auto doc = nlohmann::json::parse(out);  // throws on invalid JSON or UTF-8
  EXPECT_EQ(doc["schema"], "lineage.tree/v1");
  // Fields that depend on the wall clock are normalised for the golden file.
  doc["generated_at"] = "T";
  std::vector<nlohmann::json*> stack;
  for (auto& p : doc["processes"]) stack.push_back(&p);
  while (!stack.empty()) {
    auto* p = stack.back();
    stack.pop_back();
    (*p)["start_time"] = "T";
    for (auto& c : (*p)["children"]) stack.push_back(&c);
  }
  const auto& init = doc["processes"][0];
  EXPECT_EQ(init["pid"], 1);
  const auto& evil = init["children"][0]["children"][0]["children"][0]["children"][0];
  EXPECT_EQ(evil["pid"], 300);
  EXPECT_EQ(evil["comm"], "a) (b\x1b[31m");  // exact bytes survive JSON
  EXPECT_EQ(evil["cmdline"][0], "evil\nline");
  EXPECT_EQ(evil["cmdline"][2], "\xEF\xBF\xBD");  // invalid UTF-8 replaced
  expect_golden("tree.json", doc.dump(1) + "\n");
}

TEST(TreeOutput, BadInputIsAUsageError) {
  FakeProcfs fs;
  build(fs);
  TreeOptions o;
  o.common.proc_root = fs.root();
  o.user = "no-such-user-here";
  EXPECT_EQ(run_tree(o).error().kind, ErrorKind::kUsage);
  o.user.clear();
  o.columns = "pid,nope";
  EXPECT_EQ(run_tree(o).error().kind, ErrorKind::kUsage);
  o.columns.clear();
  o.target = resolve::TargetSpec{resolve::TargetKind::kAuto, "0"};
  EXPECT_EQ(run_tree(o).error().kind, ErrorKind::kUsage);
  o.target = resolve::TargetSpec{resolve::TargetKind::kAuto, "4242"};
  EXPECT_EQ(run_tree(o).error().kind, ErrorKind::kNotFound);
  o.target = resolve::TargetSpec{resolve::TargetKind::kAuto, "no-such-name"};
  EXPECT_EQ(run_tree(o).error().kind, ErrorKind::kNotFound);
}

}  // namespace
}  // namespace lineage::cli
