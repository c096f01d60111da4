// top's text and lineage.top/v1 output on a hand-made report.
#include <gtest/gtest.h>

#include "output/format.h"
#include "output/top_writer.h"

namespace lineage::output {
namespace {

core::Process proc(int32_t pid, int32_t ppid, const std::string& comm) {
  core::Process p;
  p.key = {pid, 5'000'000'000ull};
  p.stat.pid = pid;
  p.stat.ppid = ppid;
  p.stat.comm = comm;
  return p;
}

struct Fixture {
  std::vector<core::Process> after{proc(601, 600, "sh"), proc(700, 601, "python3"), proc(900, 1, "evil\x1b[2J")};
  explain::ProcessContext cron, evil;
  std::vector<const explain::ProcessContext*> contexts{&cron, &cron, &evil};
  core::LoadReport report;
  core::SystemInfo sys;
  Fixture() {
    auto c = std::make_shared<explain::LaunchContext>();
    c->key = "cron:/etc/cron.d/analyze:3";
    c->kind = "cron";
    c->label = "cron job /etc/cron.d/analyze:3";
    c->root = after[0].key;
    c->root_comm = "sh";
    c->launcher_pid = 500;
    c->details = {{"crontab", "/etc/cron.d/analyze"}, {"line", "3"}};
    cron.context = c;
    auto e = std::make_shared<explain::LaunchContext>();
    e->key = "process:900";
    e->kind = "process";
    e->label = "evil\x1b[2J (pid 900) of root";
    evil.context = e;
    report.interval_s = 1.0;
    report.processes = 3;
    report.exited = 2;
    report.groups_total = 3;
    core::GroupLoad g;
    g.key = c->key;
    g.kind = "cron";
    g.label = c->label;
    g.cpu_percent = 195.04;
    g.cpu_ticks = 195;
    g.rss_bytes = 3 * 1024 * 1024;
    g.processes = 2;
    g.first_index = 0;
    g.top = {{1, 99, 99.0, 1024 * 1024, true}};
    report.groups.push_back(g);
    core::GroupLoad h;
    h.key = e->key;
    h.kind = "process";
    h.label = e->label;
    h.processes = 1;
    h.first_index = 2;
    report.groups.push_back(h);
    sys.realtime_ns_now = 1'800'000'000'000'000'000;
    sys.boot_ns_now = 100'000'000'000;
  }
  TopView view() {
    TopView v{report, after, contexts, "context", {}, sys, 2};
    v.command = [this](size_t i) { return i == 1 ? std::string("python3 analyze_data.py") : after[i].stat.comm; };
    return v;
  }
};

TEST(TopText, GroupsProcessesAndFootnotes) {
  Fixture f;
  std::string text = render_top_text(f.view(), {});
  EXPECT_NE(text.find("  195.0    3.0M      2     0.0  cron job /etc/cron.d/analyze:3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("700 python3 analyze_data.py  (new)"), std::string::npos) << text;
  EXPECT_NE(text.find("evil\\e[2J (pid 900)"), std::string::npos) << text;  // escaped, never raw
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("(1 more groups, less busy"), std::string::npos);
  EXPECT_NE(text.find("(2 processes exited during the interval: their last CPU time is not counted)"),
            std::string::npos);
}

TEST(TopJson, SchemaGroupsAndTheLaunchContext) {
  Fixture f;
  Json j = top_json(f.view());
  EXPECT_EQ(j["schema"], "lineage.top/v1");
  EXPECT_EQ(j["by"], "context");
  EXPECT_EQ(j["sampler"], "proc");
  TopView bpf = f.view();
  bpf.sampler = "bpf";
  EXPECT_EQ(top_json(bpf)["sampler"], "bpf");
  EXPECT_EQ(j["exited"], 2);
  ASSERT_EQ(j["groups"].size(), 2u);
  const Json& g = j["groups"][0];
  EXPECT_EQ(g["label"], "cron job /etc/cron.d/analyze:3");
  EXPECT_EQ(g["cpu_percent"], 195.0);
  EXPECT_EQ(g["root"]["pid"], 601);
  EXPECT_EQ(g["launcher_pid"], 500);
  EXPECT_EQ(g["details"]["line"], "3");
  ASSERT_EQ(g["top"].size(), 1u);
  EXPECT_EQ(g["top"][0]["pid"], 700);
  EXPECT_EQ(g["top"][0]["command"], "python3 analyze_data.py");
  EXPECT_EQ(g["top"][0]["started"], true);
  EXPECT_EQ(g["top"][0]["start_time"], format_rfc3339(f.sys.realtime_ns_now - 95'000'000'000));
}

TEST(TopText, Bytes) {
  EXPECT_EQ(format_bytes(0), "0K");
  EXPECT_EQ(format_bytes(512 * 1024), "512K");
  EXPECT_EQ(format_bytes(3 * 1024 * 1024 + 300 * 1024), "3.3M");
  EXPECT_EQ(format_bytes(1536ull * 1024 * 1024), "1.5G");
}

}  // namespace
}  // namespace lineage::output
