// The audit room's pure parts: severities, the allow-list, the program
// classifiers, and the order findings come out in.
#include <gtest/gtest.h>

#include <set>

#include "audit/allow.h"
#include "audit/classify.h"
#include "audit/finding.h"
#include "audit/rules.h"

namespace lineage::audit {
namespace {

core::Process proc(int32_t pid, std::string exe, std::vector<std::string> argv) {
  core::Process p;
  p.key = {pid, static_cast<uint64_t>(pid) * 1000};
  p.stat.pid = pid;
  p.stat.comm = exe.substr(exe.rfind('/') + 1).substr(0, 15);
  p.exe = core::ExeInfo{std::move(exe), false};
  p.argv = std::move(argv);
  return p;
}

TEST(AuditSeverity, NamesRoundTrip) {
  for (auto s : {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical}) {
    EXPECT_EQ(parse_severity(severity_name(s)), s);
  }
  EXPECT_FALSE(parse_severity("HIGH"));
  EXPECT_FALSE(parse_severity(""));
  EXPECT_LT(Severity::kMedium, Severity::kHigh);
}

TEST(AuditRules, RegistryIsCompleteAndUnique) {
  std::set<std::string_view> ids;
  for (const Rule& r : all_rules()) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    EXPECT_EQ(find_rule(r.id), &r);
    EXPECT_TRUE(r.check_process || r.check_scene || r.live_only) << r.id;
    EXPECT_FALSE(r.summary.empty());
  }
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(find_rule("no-such-rule"), nullptr);
  const Rule* two[] = {find_rule("ld-preload"), find_rule("outside-container")};
  core::FieldMask mask = fields_for(two);
  EXPECT_TRUE(mask & core::kFieldEnviron);
  EXPECT_TRUE(mask & core::kFieldCgroup);
  // outside-container reads namespaces on demand (Scene::namespaces), only
  // for a process below a shim or in a container's cgroup.
  EXPECT_FALSE(mask & core::kFieldNamespaces);
  EXPECT_FALSE(mask & core::kFieldCwd);
}

TEST(AuditAllow, ParsesEntriesCommentsAndQuotes) {
  auto entries = parse_allow(
      "# known good\n"
      "\n"
      "web-server-spawned-shell  chain=\"*php-fpm* > sh\"   # the PDF export\n"
      "exec-from-writable-dir exe=/tmp/ci/* user=ci\n"
      "* *cron*\n");
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].rule, "web-server-spawned-shell");
  EXPECT_EQ((*entries)[0].chain, "*php-fpm* > sh");
  EXPECT_EQ((*entries)[0].line, 3u);
  EXPECT_EQ((*entries)[1].exe, "/tmp/ci/*");
  EXPECT_EQ((*entries)[1].user, "ci");
  EXPECT_EQ((*entries)[2].rule, "*");
  EXPECT_EQ((*entries)[2].chain, "*cron*");
}

TEST(AuditAllow, RejectsMalformedLinesByNumber) {
  auto quote = parse_allow("ok-rule\nreverse-shell chain=\"*nginx\n");
  ASSERT_FALSE(quote);
  EXPECT_NE(quote.error().message.find("line 2"), std::string::npos);
  auto key = parse_allow("reverse-shell colour=red\n");
  ASSERT_FALSE(key);
  EXPECT_NE(key.error().message.find("unknown condition"), std::string::npos);
  auto id = parse_allow("Reverse_Shell\n");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().kind, ErrorKind::kUsage);
  auto escape = parse_allow("\x1b[31m\n");
  ASSERT_FALSE(escape);
}

TEST(AuditAllow, MatchesRuleChainExeAndUser) {
  auto entries = parse_allow("web-server-spawned-shell chain=\"*php-fpm* > sh\" user=www-data\n");
  ASSERT_TRUE(entries);
  const AllowEntry& e = entries->front();
  Finding f;
  f.rule = "web-server-spawned-shell";
  f.process = {42, 1};
  AllowSubject s{"systemd > php-fpm8.2 > php-fpm8.2 > sh", "/usr/bin/dash", "www-data"};
  EXPECT_TRUE(allows(e, f, s));
  s.user = "root";
  EXPECT_FALSE(allows(e, f, s));
  s.user = "www-data";
  s.chain = "systemd > nginx > sh";
  EXPECT_FALSE(allows(e, f, s));
  s.chain = "systemd > php-fpm8.2 > php-fpm8.2 > sh";
  f.rule = "reverse-shell";
  EXPECT_FALSE(allows(e, f, s));
  // a system finding matches only an entry without conditions
  auto bare = parse_allow("ld-preload\n");
  ASSERT_TRUE(bare);
  Finding system;
  system.rule = "ld-preload";
  EXPECT_TRUE(allows(bare->front(), system, {}));
  auto with_exe = parse_allow("ld-preload exe=*\n");
  ASSERT_TRUE(with_exe);
  EXPECT_FALSE(allows(with_exe->front(), system, {}));
}

TEST(AuditClassify, ProgramsByExeNotComm) {
  auto sh = proc(10, "/usr/bin/dash", {"sh", "-c", "id"});
  EXPECT_TRUE(is_shell(sh));
  auto renamed = proc(11, "/usr/bin/sleep", {"bash"});
  renamed.stat.comm = "bash";
  EXPECT_FALSE(is_shell(renamed));  // comm and argv[0] are claims; exe decides
  auto applet = proc(12, "/bin/busybox", {"nc", "-l", "-p", "4444"});
  EXPECT_TRUE(is_netcat_like(applet));
  EXPECT_FALSE(is_shell(applet));
  auto login = proc(13, "/usr/bin/bash", {"-bash"});
  EXPECT_EQ(argv0_name(login), "bash");
  EXPECT_TRUE(is_interpreter(proc(14, "/usr/bin/python3.11", {"python3"})));
  EXPECT_FALSE(is_interpreter(proc(15, "/usr/bin/pythonista", {"x"})));
}

TEST(AuditClassify, OneLiners) {
  EXPECT_TRUE(is_one_liner(proc(1, "/usr/bin/python3.11", {"python3", "-c", "import os"})));
  EXPECT_TRUE(is_one_liner(proc(1, "/usr/bin/python3.11", {"python3", "-uc", "import os"})));
  EXPECT_FALSE(is_one_liner(proc(1, "/usr/bin/python3.11", {"python3", "app.py", "-c", "x"})));
  EXPECT_FALSE(is_one_liner(proc(1, "/usr/bin/python3.11", {"python3", "-m", "http.server"})));
  EXPECT_TRUE(is_one_liner(proc(1, "/usr/bin/perl", {"perl", "-e", "print 1"})));
  EXPECT_FALSE(is_one_liner(proc(1, "/usr/bin/perl", {"perl", "script.pl", "-e"})));
  EXPECT_TRUE(is_one_liner(proc(1, "/usr/bin/node", {"node", "--eval", "1"})));
  EXPECT_TRUE(is_one_liner(proc(1, "/usr/bin/php8.2", {"php", "-r", "system('id');"})));
  EXPECT_FALSE(is_one_liner(proc(1, "/usr/bin/dash", {"sh", "-c", "id"})));  // a shell, not an interpreter
}

TEST(AuditClassify, WritablePlaces) {
  EXPECT_EQ(writable_by_path("/tmp/x"), "in /tmp");
  EXPECT_EQ(writable_by_path("/dev/shm/.a/b"), "in /dev/shm");
  EXPECT_EQ(writable_by_path("/memfd:payload (deleted)"), "a memfd");
  EXPECT_EQ(writable_by_path("/home/u/.cache/x"), "a hidden path");
  EXPECT_EQ(writable_by_path("/usr/bin/../bin/ls"), "");
  EXPECT_EQ(writable_by_path("/usr/bin/./ls"), "");
  EXPECT_EQ(writable_by_path("/usr/bin/ls"), "");
  EXPECT_EQ(writable_by_path("/tmpfoo/x"), "");
  EXPECT_TRUE(in_system_dir("/usr/sbin/nginx"));
  EXPECT_FALSE(in_system_dir("/usrx/nginx"));
  EXPECT_FALSE(in_system_dir("/home/u/bin/x"));
}

// A rule that finds every process, to see evaluate's order and filters.
void every_process(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::Process& p = scene.tree().at(index);
  Finding f;
  f.rule = "test-rule";
  f.severity = p.pid() % 2 == 0 ? Severity::kHigh : Severity::kLow;
  f.process = p.key;
  out.push_back(f);
}

TEST(AuditEvaluate, MostSevereFirstThenPidAndKernelThreadsSkipped) {
  std::vector<core::Process> ps = {proc(1, "/sbin/init", {"init"}), proc(2, "/x", {}), proc(3, "/y", {"y"}),
                                   proc(4, "/z", {"z"})};
  ps[1].stat.flags = core::kPfKthread;
  ps[1].exe.reset();
  for (auto& p : ps) p.stat.ppid = p.pid() == 1 ? 0 : 1;
  core::ProcessTree tree(std::move(ps));
  core::SystemInfo sys;
  Scene scene(tree, sys, nullptr);
  Rule rule{"test-rule", Severity::kLow, "test", core::kFieldStat, every_process};
  const Rule* rules[] = {&rule};
  auto found = evaluate(scene, rules);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].process.pid, 4);
  EXPECT_EQ(found[1].process.pid, 1);
  EXPECT_EQ(found[2].process.pid, 3);
  // Without a reader, on-demand reads answer "unknown".
  EXPECT_FALSE(scene.fd_link(0, 0));
  EXPECT_TRUE(scene.socket_inodes(0).empty());
  EXPECT_TRUE(scene.inet_sockets().empty());
}

}  // namespace
}  // namespace lineage::audit
