// snapshot::ChainMemo: the chains it hands out equal the ones built without
// it (each ancestor copied and cut per process), and its memo is keyed by
// process identity, so a reused pid is never served another process's cut.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/process_tree.h"
#include "explain/chain.h"
#include "explain/detectors.h"
#include "explain/report.h"
#include "fake_procfs.h"
#include "output/json_writer.h"
#include "output/why_writer.h"
#include "procfs/reader.h"
#include "snapshot/chains.h"

namespace lineage {
namespace {

using testing::FakeProcess;
using testing::FakeProcfs;

constexpr core::FieldMask kFields =
    explain::kChainFields | core::kFieldEnviron | core::kFieldCwd | core::kFieldNamespaces;

// The chain as snapshot::build made it before the memo: every ancestor
// copied whole for each process, then cut.
std::vector<core::Process> unmemoized_chain(const core::ProcessTree& tree, size_t i) {
  std::vector<size_t> up = tree.ancestors(i);
  std::vector<core::Process> chain;
  for (auto it = up.rbegin(); it != up.rend(); ++it) chain.push_back(tree.at(*it));
  size_t env_from = chain.size();
  for (size_t k = 0; k < chain.size(); ++k) {
    if (explain::passes_context_in_environment(chain[k])) {
      env_from = k + 1;
      break;
    }
  }
  for (size_t k = 0; k < chain.size(); ++k) {
    core::Process& p = chain[k];
    core::FieldMask drop = core::kFieldCwd | core::kFieldLoginUid;
    if (k < env_from) drop |= core::kFieldEnviron;
    if (k != 0) drop |= core::kFieldNamespaces;
    p.read &= ~drop;
    p.unavailable &= ~drop;
    p.cwd.reset();
    p.login_uid.reset();
    p.session_id.reset();
    if (k < env_from) p.environ.reset();
    if (k != 0) p.ns = {};
  }
  chain.push_back(tree.at(i));
  return chain;
}

// Everything of a Process that a detector or the output can see.
std::string dump(const core::Process& p, const core::SystemInfo& sys) {
  output::Json j = output::process_json(p, sys);
  j["read"] = p.read;
  j["unavailable"] = p.unavailable;
  j["environ"] = p.environ ? output::Json(*p.environ) : output::Json(nullptr);
  j["ns_pid"] = p.ns.pid ? output::Json(*p.ns.pid) : output::Json(nullptr);
  j["session_id"] = p.session_id ? output::Json(*p.session_id) : output::Json(nullptr);
  return output::dump_json(j);
}

std::string dump(const std::vector<core::Process>& chain, const core::SystemInfo& sys) {
  std::string out;
  for (const auto& p : chain) out += dump(p, sys) + "\n";
  return out;
}

FakeProcess proc(int pid, int ppid, const std::string& comm, std::vector<std::string> argv, uint64_t start = 100) {
  FakeProcess p;
  p.pid = pid;
  p.ppid = ppid;
  p.comm = comm;
  p.argv = std::move(argv);
  p.start_ticks = start;
  return p;
}

// init -> sshd (passes context in its environment) -> bash -> python ->
// two workers; and init -> cron -> sh. Every process has an environment,
// a cwd and namespaces.
void machine(FakeProcfs& fs) {
  fs.add(proc(1, 0, "systemd", {"/sbin/init"}, 1));
  fs.add(proc(100, 1, "sshd", {"sshd: alice [priv]"}, 10));
  fs.link(100, "exe", "/usr/sbin/sshd");
  fs.add(proc(200, 100, "bash", {"-bash"}, 20));
  fs.add(proc(300, 200, "python3", {"python3", "job.py"}, 30));
  fs.add(proc(301, 300, "python3", {"python3", "job.py", "--worker"}, 40));
  fs.add(proc(302, 300, "python3", {"python3", "job.py", "--worker"}, 41));
  fs.add(proc(400, 1, "cron", {"/usr/sbin/cron", "-f"}, 12));
  fs.add(proc(401, 400, "sh", {"/bin/sh", "-c", "backup"}, 50));
  for (int pid : {1, 100, 200, 300, 301, 302, 400, 401}) {
    fs.write(pid, "environ", "HOME=/root\0SSH_CONNECTION=10.0.0.1 5 10.0.0.2 22\0PID=" + std::to_string(pid) +
                                 std::string(1, '\0'));
    fs.link(pid, "cwd", "/home/alice");
    fs.link(pid, "ns/pid", "pid:[4026531836]");
  }
}

core::ProcessTree scan(const FakeProcfs& fs) {
  auto reader = procfs::ProcReader::open(fs.root());
  EXPECT_TRUE(static_cast<bool>(reader));
  return core::ProcessTree(reader->scan(kFields));
}

TEST(ChainMemo, EqualsTheUnmemoizedChainsAndReports) {
  FakeProcfs fs;
  machine(fs);
  auto reader = procfs::ProcReader::open(fs.root());
  ASSERT_TRUE(static_cast<bool>(reader));
  core::SystemInfo sys = reader->system_info();
  core::ProcessTree tree(reader->scan(kFields));
  ASSERT_EQ(tree.size(), 8u);
  explain::Paths paths;
  paths.etc = fs.root() + "/none/etc";
  paths.var_spool_cron = fs.root() + "/none/spool";
  paths.docker = fs.root() + "/none/docker";
  paths.run = fs.root() + "/none/run";
  paths.lib_systemd = fs.root() + "/none/lib/systemd";

  snapshot::ChainMemo memo;
  for (size_t i = 0; i < tree.size(); ++i) {
    std::vector<core::Process> expected = unmemoized_chain(tree, i);
    std::vector<core::Process> got = memo.chain(tree, i);
    EXPECT_EQ(dump(got, sys), dump(expected, sys)) << "pid " << tree.at(i).pid();
    explain::ReportOptions ropts;
    auto a = explain::explain_chain(*reader, sys, paths, std::move(got), {}, ropts);
    auto b = explain::explain_chain(*reader, sys, paths, std::move(expected), {}, ropts);
    EXPECT_EQ(output::dump_json(output::why_json(a, sys, true)), output::dump_json(output::why_json(b, sys, true)));
  }
  // Below sshd the environment is kept, above it not: the rule is applied.
  size_t worker = tree.find(301);
  ASSERT_NE(worker, core::ProcessTree::kNone);
  auto chain = memo.chain(tree, worker);
  ASSERT_EQ(chain.size(), 5u);
  EXPECT_FALSE(chain[1].environ.has_value());  // sshd itself
  EXPECT_TRUE(chain[2].environ.has_value());   // bash, below sshd
  EXPECT_TRUE(chain[0].ns.pid.has_value());    // the root keeps its namespaces
  EXPECT_FALSE(chain[2].ns.pid.has_value());
  EXPECT_FALSE(chain[2].cwd.has_value());
  EXPECT_TRUE(chain[4].cwd.has_value());  // the target whole
  // Each ancestor (1, 100, 200, 300, 400) was cut once for all 8 chains.
  EXPECT_EQ(memo.cuts(), 5u);
}

TEST(ChainMemo, AReusedPidIsNotServedFromTheMemo) {
  snapshot::ChainMemo memo;
  {
    FakeProcfs fs;
    machine(fs);
    core::ProcessTree tree = scan(fs);
    auto chain = memo.chain(tree, tree.find(301));
    ASSERT_EQ(chain.size(), 5u);
    EXPECT_EQ(chain[3].stat.comm, "python3");
  }
  size_t before = memo.cuts();
  // The same pids a moment later: 300 ended and its pid went to another
  // process (another start time, another command) that adopted pid 301's
  // successor.
  FakeProcfs fs;
  machine(fs);
  fs.add(proc(300, 200, "node", {"node", "server.js"}, 900));
  fs.add(proc(301, 300, "node", {"node", "worker.js"}, 901));
  core::ProcessTree tree = scan(fs);
  auto chain = memo.chain(tree, tree.find(301));
  ASSERT_EQ(chain.size(), 5u);
  EXPECT_EQ(chain[3].stat.comm, "node");
  ASSERT_TRUE(chain[3].argv.has_value());
  EXPECT_EQ((*chain[3].argv)[1], "server.js");
  EXPECT_EQ(chain[3].key.start_time_ns, tree.at(tree.find(300)).key.start_time_ns);
  EXPECT_EQ(memo.cuts(), before + 1);  // only the new 300 was cut; 1, 100, 200 served
}

}  // namespace
}  // namespace lineage
