// Golden tests of `lineage why` output: a chain read from a fake proc tree,
// a report filled by hand (sources, warnings, a listener, git), rendered as
// text and JSON as a user sees them. Set LINEAGE_UPDATE_GOLDEN=1 to rewrite
// the files, then review the diff.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "explain/chain.h"
#include "explain/report.h"
#include "fake_procfs.h"
#include "golden.h"
#include "output/sanitize.h"
#include "output/why_writer.h"
#include "procfs/users.h"

namespace lineage::output {
namespace {

using testing::FakeProcfs;

//   1 init
//   └─ 100 sshd -D                     /usr/sbin/sshd, the real daemon
//      └─ 200 sshd: alice [priv]
//         └─ 210 -bash                 nobody, pts/0
//            └─ 250 sshd               /home/alice/sshd: a copy of bash named sshd
//               └─ 300 python3 app.py  argv with a zero width space and an ESC
struct Fixture {
  FakeProcfs fs{1000.0};
  core::SystemInfo sys;
  explain::Report report;

  Fixture() {
    fs.add({.pid = 1, .comm = "init", .start_ticks = 0, .argv = {"/sbin/init"}});
    fs.add({.pid = 100, .ppid = 1, .comm = "sshd", .start_ticks = 500, .argv = {"/usr/sbin/sshd", "-D"}});
    fs.add({.pid = 200, .ppid = 100, .comm = "sshd", .start_ticks = 9000, .argv = {"sshd: alice [priv]"}});
    fs.add({.pid = 210, .ppid = 200, .comm = "bash", .start_ticks = 9100, .uid = 65534, .argv = {"-bash"},
            .tty_nr = 34816, .tpgid = 300});
    fs.add({.pid = 250, .ppid = 210, .comm = "sshd", .start_ticks = 9200, .uid = 65534,
            .argv = {"/home/alice/sshd", "-c", "sleep"}, .sid = 210, .tty_nr = 34816, .tpgid = 300});
    fs.add({.pid = 300, .ppid = 250, .comm = "python3", .start_ticks = 9500, .uid = 65534,
            .argv = {"python3", "app\u200b.py", "--title=\x1b[2Jhi"}, .pgid = 300, .sid = 210,
            .tty_nr = 34816, .tpgid = 300});
    fs.link(1, "exe", "/sbin/init");
    fs.link(100, "exe", "/usr/sbin/sshd");
    fs.link(200, "exe", "/usr/sbin/sshd");
    fs.link(210, "exe", "/usr/bin/bash");
    fs.link(250, "exe", "/home/alice/sshd");
    fs.link(300, "exe", "/usr/bin/python3.11");
    fs.link(300, "cwd", "/srv/app");

    auto reader = procfs::ProcReader::open(fs.root());
    EXPECT_TRUE(reader);
    sys = reader->system_info();
    sys.realtime_ns_now = 1'780'000'000'000'000'000;  // a fixed wall clock: 2026-05-28
    auto chain = explain::build_chain(*reader, 300);
    EXPECT_TRUE(chain);
    report.chain = std::move(*chain);
    report.chain.dirfds.clear();
    procfs::UserNames users;  // as explain_pid does
    for (auto& p : report.chain.processes) users.fill(p);

    explain::Source fake;
    fake.kind = "ssh";
    fake.name = "sshd";
    fake.pid = 250;
    fake.anchor = 4;
    fake.verified = false;
    fake.unverified_reason = "runs /home/alice/sshd, owned by nobody";
    fake.detail("user", "alice");
    fake.detail("from", "10.0.0.9");
    fake.evidence.push_back("unverified: pid 250 runs /home/alice/sshd, owned by nobody, writable by its owner");
    fake.evidence.push_back("claim: SSH_CONNECTION=10.0.0.9 5000 10.0.0.1 22 in the environment of pid 300, "
                            "below an unverified launcher");
    explain::Source real;
    real.kind = "ssh";
    real.name = "sshd";
    real.pid = 200;
    real.anchor = 2;
    real.detail("user", "alice");
    real.detail("from", "192.0.2.7 port 52144");
    real.detail("tty", "pts/0");
    real.evidence.push_back("ancestor pid 100 runs /usr/sbin/sshd (verified: root-owned, same inode as the host's)");
    real.evidence.push_back("SSH_CONNECTION=192.0.2.7 52144 192.0.2.1 22 in the environment of pid 210");
    report.sources = {fake, real};
    report.warnings = {{"unverified-launcher", "pid 250 is named sshd but runs /home/alice/sshd, owned by nobody"},
                       {"listening-public", "listens on 0.0.0.0:8080 (all interfaces)"}};
    report.summary = "ssh session of alice from 192.0.2.7 (pid 250 claims to be sshd: unverified)";
    report.listeners = {{"tcp", "0.0.0.0", 8080, true}, {"tcp6", "::1", 9090, false}};
    report.git = explain::GitInfo{"/srv/app", "main"};
  }

  std::string text(size_t width, bool color = false) const {
    WhyTextOptions o;
    o.width = width;
    o.color = color;
    return render_why_text(report, sys, o);
  }
};

using testing::expect_golden;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// The text a terminal shows: escape sequences (ESC [ ... m) removed.
std::string visible(const std::string& line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b') {
      i = line.find('m', i);
      if (i == std::string::npos) break;
      continue;
    }
    out += line[i];
  }
  return out;
}

TEST(WhyOutput, TextGolden) {
  Fixture f;
  ASSERT_EQ(f.report.chain.processes.size(), 6u);
  expect_golden("why_text.txt", f.text(0));
}

TEST(WhyOutput, NarrowTextGolden) {
  Fixture f;
  std::string out = f.text(40);
  for (const auto& l : lines_of(out)) EXPECT_LE(display_width(l), 40u) << l;
  expect_golden("why_text_narrow.txt", out);
}

TEST(WhyOutput, JsonGolden) {
  Fixture f;
  Json j = why_json(f.report, f.sys, false);
  EXPECT_EQ(j["truncated"], false);
  ASSERT_EQ(j["sources"].size(), 2u);
  EXPECT_EQ(j["sources"][0]["verified"], false);
  EXPECT_EQ(j["sources"][0]["unverified_reason"], "runs /home/alice/sshd, owned by nobody");
  EXPECT_EQ(j["sources"][1]["verified"], true);
  EXPECT_FALSE(j["sources"][1].contains("unverified_reason"));
  EXPECT_EQ(j["target"]["cmdline"][1], "app\u200b.py");  // exact strings, not escaped
  EXPECT_EQ(j["target"]["cmdline"][2], "--title=\x1b[2Jhi");
  auto parsed = nlohmann::json::parse(dump_json(j));  // throws on invalid JSON or UTF-8
  EXPECT_EQ(parsed["schema"], "lineage.why/v1");
  expect_golden("why.json", j.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

TEST(WhyOutput, UnverifiedSourceIsAClaimInText) {
  Fixture f;
  std::string out = f.text(0);
  EXPECT_NE(out.find("  ssh        claims to be sshd (pid 250) (unverified: runs /home/alice/sshd, owned by nobody)\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("  ssh        sshd (pid 200)\n"), std::string::npos) << out;
}

TEST(WhyOutput, HostileTextEscaped) {
  Fixture f;
  std::string out = f.text(0);
  EXPECT_NE(out.find("python3 app\\u{200b}.py --title=\\e[2Jhi"), std::string::npos) << out;
  for (char c : out) {
    auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 || c == '\n') << "raw control byte " << int(u);
  }
}

// Whatever the width, a painted line is cut before it is painted: its last
// bytes are the reset, and escape bytes never count as columns.
TEST(WhyOutput, ColourResetSurvivesEveryWidth) {
  Fixture f;
  size_t painted = 0;
  for (size_t width : {0, 1, 2, 5, 8, 12, 20, 33, 40, 60, 200}) {
    std::string out = f.text(width, true);
    std::string plain = f.text(width, false);
    auto lines = lines_of(out);
    auto plain_lines = lines_of(plain);
    ASSERT_EQ(lines.size(), plain_lines.size());
    for (size_t k = 0; k < lines.size(); ++k) {
      const std::string& l = lines[k];
      if (l.find("\x1b[") != std::string::npos) {
        ++painted;
        ASSERT_GE(l.size(), 4u);
        EXPECT_EQ(l.substr(l.size() - 4), "\x1b[0m") << "width " << width << ": " << l;
      }
      EXPECT_EQ(visible(l), plain_lines[k]) << "width " << width;  // same columns as without colour
    }
  }
  EXPECT_GT(painted, 20u);  // the target, Why, evidence, unverified and warning lines
}

TEST(WhyOutput, TruncatedChainSaysSo) {
  Fixture f;
  EXPECT_EQ(f.text(0).find("chain cut"), std::string::npos);
  f.report.chain.truncated = true;
  std::string out = f.text(0);
  EXPECT_NE(out.find("      └─ python3 300  python3 app\\u{200b}.py --title=\\e[2Jhi\n"
                     "  (chain cut after 5 ancestors: an origin above may be missing)\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(why_json(f.report, f.sys, false)["truncated"], true);
}

// An orphan's session leader chain: its own section in text, and
// "session_chain" in JSON (absent when there is none, as in the goldens).
TEST(WhyOutput, SessionChainOfAnOrphan) {
  Fixture f;
  EXPECT_EQ(f.text(0).find("Session of pid"), std::string::npos);
  EXPECT_FALSE(why_json(f.report, f.sys, false).contains("session_chain"));
  const auto& procs = f.report.chain.processes;
  f.report.session_chain.assign(procs.begin(), procs.begin() + 4);  // init ... -bash 210
  std::string out = f.text(0);
  EXPECT_NE(out.find("\nSession of pid 210 (leader, alive): its chain, where sources \"via session\" were found\n"
                     "  init 1  /sbin/init\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\n        └─ bash 210  -bash\n\nSources\n"), std::string::npos) << out;
  Json j = why_json(f.report, f.sys, false);
  ASSERT_EQ(j["session_chain"].size(), 4u);
  EXPECT_EQ(j["session_chain"].back()["pid"], 210);
}

// A chain hundreds deep (issue 8: nesting must not hide an origin) keeps
// its lower lines readable: the indentation stops growing.
TEST(WhyOutput, DeepChainIndentIsBounded) {
  Fixture f;
  auto& procs = f.report.chain.processes;
  core::Process target = procs.back();
  procs.pop_back();
  for (int32_t k = 0; k < 300; ++k) {
    core::Process p = procs[3];  // bash
    p.key.pid = p.stat.pid = 1000 + k;
    procs.push_back(p);
  }
  procs.push_back(target);
  f.report.chain.truncated = true;
  std::string out = f.text(80);
  EXPECT_NE(out.find("  (chain cut after 305 ancestors: an origin above may be missing)\n"), std::string::npos);
  const std::string deepest(2 + 3 * 16, ' ');
  EXPECT_NE(out.find("\n" + deepest + "└─ bash 1299  -bash\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\n" + deepest + "└─ python3 300  python3"), std::string::npos) << out;
}

}  // namespace
}  // namespace lineage::output
