// detect_container on hand-built chains: the verdict comes from cgroup
// paths, the names from the runtimes' state files under fixture roots.
// The docker cgroup lines are the ones a real dockerd (cgroupfs driver,
// cgroup v1 + v2 hybrid) produced on the development machine.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "explain/detectors.h"
#include "fake_procfs.h"
#include "fake_verifier.h"
#include "procfs/parsers.h"

namespace lineage::explain {
namespace {

namespace fs = std::filesystem;
using testing::FakeProcfs;

const std::string kId = "30e3fc4e3ed6493aa435837340e9d5f689f448607087800ab5a85a84c3e9650d";
const std::string kId2 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const std::string kShort = kId.substr(0, 12);

/// Exactly what /proc/PID/cgroup held for a `docker run` container here.
std::string real_docker_cgroup(const std::string& id) {
  std::string out;
  for (const char* line : {"9:name=systemd", "8:pids", "7:blkio", "6:freezer", "5:devices",
                           "4:memory", "3:cpuset", "2:cpuacct", "1:cpu", "0:"}) {
    out += std::string(line) + ":/docker/" + id + "\n";
  }
  return out;
}

core::Process proc(int32_t pid, int32_t ppid, const std::string& exe, const std::string& cgroup,
                   std::vector<int32_t> ns_pids = {}) {
  core::Process p;
  p.key = {pid, static_cast<uint64_t>(pid) * 1000};
  p.stat.pid = pid;
  p.stat.ppid = ppid;
  p.stat.comm = std::string(base_name(exe));
  p.exe = core::ExeInfo{exe, false};
  p.argv = std::vector<std::string>{exe};
  p.cgroups = procfs::parse_cgroup(cgroup);
  core::StatusInfo status;
  status.ns_pids = ns_pids.empty() ? std::vector<int32_t>{pid} : std::move(ns_pids);
  p.status = status;
  return p;
}

class ContainerDetector : public ::testing::Test {
 protected:
  ContainerDetector() {
    paths_.etc = dir_ + "/etc";
    paths_.run = dir_ + "/run";
    paths_.docker = dir_ + "/var/lib/docker";
    paths_.var_spool_cron = dir_ + "/var/spool/cron";
  }

  std::vector<Source> detect(const std::vector<core::Process>& chain) {
    std::vector<Source> out;
    detect_container(Context{chain, reader_, sys_, paths_, &verifier_}, out);
    return out;
  }

  /// init -> shim -> ... : the target last, every process given its cgroup.
  std::vector<core::Process> chain(const std::string& container_cgroup,
                                   std::vector<int32_t> target_ns_pids = {}) {
    return {proc(1, 0, "/sbin/init", "0::/init.scope\n"),
            proc(900, 1, "/usr/bin/containerd-shim-runc-v2", "0::/system.slice/containerd.service\n"),
            proc(1000, 900, "/usr/bin/sleep", container_cgroup, std::move(target_ns_pids))};
  }

  void write(const std::string& rel, const std::string& text) {
    fs::path path = dir_ + "/" + rel;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }

  void write_docker_config(const std::string& id, const std::string& labels = "{}") {
    write("var/lib/docker/containers/" + id + "/config.v2.json",
          R"({"StreamConfig":{},"State":{"Running":true,"Pid":1000},"ID":")" + id +
              R"(","Created":"2026-11-23T15:44:29Z","Path":"sleep","Args":["1000"],)"
              R"("Config":{"Hostname":"30e3fc4e3ed6","Env":["PATH=/bin"],"Cmd":["sleep","1000"],)"
              R"("Image":"lineage-busybox:test","Labels":)" +
              labels + R"(},"Image":"sha256:4f5e40ca","Name":"/lineage-web","RestartCount":0})");
  }

  FakeProcfs fake_;
  procfs::ProcReader reader_ = std::move(*procfs::ProcReader::open(fake_.root()));
  core::SystemInfo sys_ = reader_.system_info();
  std::string dir_ = fake_.root() + "/fixture";
  Paths paths_;
  // Launcher executables and cgroups trusted: verification has its own tests.
  testing::FakeVerifier verifier_;
};

std::string detail(const Source& s, const std::string& key) {
  const std::string* v = s.find_detail(key);
  return v ? *v : "<none>";
}

std::vector<std::string> keys(const Source& s) {
  std::vector<std::string> out;
  for (const auto& [k, v] : s.details) out.push_back(k);
  return out;
}

bool has_evidence(const Source& s, const std::string& text) {
  for (const auto& e : s.evidence) {
    if (e == text) return true;
  }
  return false;
}

bool evidence_contains(const Source& s, const std::string& part) {
  for (const auto& e : s.evidence) {
    if (e.find(part) != std::string::npos) return true;
  }
  return false;
}

using Keys = std::vector<std::string>;

TEST_F(ContainerDetector, DockerCgroupfsLayoutAsOnARealDaemon) {
  write_docker_config(kId);
  auto sources = detect(chain(real_docker_cgroup(kId), {1000, 1}));
  ASSERT_EQ(sources.size(), 1u);
  const Source& s = sources[0];
  EXPECT_EQ(s.kind, "container");
  EXPECT_EQ(s.name, "lineage-web");
  EXPECT_EQ(s.pid, 1000);
  EXPECT_EQ(s.anchor, 2u);
  EXPECT_EQ(keys(s), (Keys{"runtime", "id", "name", "image", "pid_in_container"}));
  EXPECT_EQ(detail(s, "runtime"), "docker");
  EXPECT_EQ(detail(s, "id"), kId);
  EXPECT_EQ(detail(s, "name"), "lineage-web");
  EXPECT_EQ(detail(s, "image"), "lineage-busybox:test");
  EXPECT_EQ(detail(s, "pid_in_container"), "1");
  ASSERT_GE(s.evidence.size(), 3u);
  // The v2 line is the one cited when it names the container.
  EXPECT_EQ(s.evidence[0], "cgroup 0::/docker/" + kId);
  EXPECT_EQ(s.evidence[1], "verified: cgroup made by root (fake)");
  EXPECT_EQ(s.evidence[2], "name and image from " + paths_.docker + "/containers/" + kId +
                               "/config.v2.json");
}

// A cgroup a user made (a delegated subtree) named like a container: the
// container is that user's claim.
TEST_F(ContainerDetector, ContainerCgroupAUserMadeIsAClaim) {
  write_docker_config(kId);
  verifier_.cgroups_trusted = false;
  auto sources = detect({proc(1, 0, "/sbin/init", "0::/init.scope\n"), proc(900, 1, "/bin/sleep", "0::/docker/" + kId + "\n")});
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_FALSE(sources[0].verified);
  EXPECT_EQ(sources[0].unverified_reason, "cgroup /docker/" + kId + ", owned by lbuser");
}

TEST_F(ContainerDetector, DockerOnCgroupV1LinesOnly) {
  write_docker_config(kId);
  // Older runtimes leave the v2 line at the parent's cgroup.
  std::string cgroup = "4:memory:/docker/" + kId + "\n3:cpuset:/docker/" + kId + "\n0::/\n";
  auto sources = detect(chain(cgroup));
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].evidence[0], "cgroup 4:memory:/docker/" + kId);
  EXPECT_EQ(detail(sources[0], "name"), "lineage-web");
  // Same pid namespace as the host: nothing to translate.
  EXPECT_EQ(sources[0].find_detail("pid_in_container"), nullptr);
}

TEST_F(ContainerDetector, DockerSystemdScopeAnchorsAtTheContainersFirstProcess) {
  write_docker_config(kId);
  std::string scope = "0::/system.slice/docker-" + kId + ".scope\n";
  std::vector<core::Process> c = {
      proc(1, 0, "/sbin/init", "0::/init.scope\n"),
      proc(900, 1, "/usr/bin/containerd-shim-runc-v2", "0::/system.slice/containerd.service\n"),
      proc(1000, 900, "/usr/sbin/nginx", scope, {1000, 1}),
      proc(1001, 1000, "/usr/sbin/nginx", scope, {1001, 7})};
  auto sources = detect(c);
  ASSERT_EQ(sources.size(), 1u);
  const Source& s = sources[0];
  EXPECT_EQ(s.pid, 1000);
  EXPECT_EQ(s.anchor, 2u);
  EXPECT_EQ(detail(s, "runtime"), "docker");
  EXPECT_EQ(detail(s, "pid_in_container"), "7");
  EXPECT_TRUE(has_evidence(s, "cgroup 0::/system.slice/docker-" + kId + ".scope"));
  EXPECT_TRUE(has_evidence(s, "pid 1000 is the first process of the chain in this container"));
}

TEST_F(ContainerDetector, KubernetesPodFromDockerLabels) {
  write_docker_config(kId, R"({"io.kubernetes.pod.name":"web-7d4b9","io.kubernetes.pod.namespace":"shop",)"
                           R"("io.kubernetes.container.name":"nginx","io.kubernetes.pod.uid":"x"})");
  for (const std::string& cgroup : std::vector<std::string>{
       "11:memory:/kubepods/burstable/pod0c9f6a3e-4b1d-4c47-9a55-8f0d7a3e2b11/" + kId + "\n0::/\n",
        "0::/kubepods.slice/kubepods-burstable.slice/"
        "kubepods-burstable-pod0c9f6a3e_4b1d_4c47_9a55_8f0d7a3e2b11.slice/docker-" +
            kId + ".scope\n"}) {
    SCOPED_TRACE(cgroup);
    auto sources = detect(chain(cgroup));
    ASSERT_EQ(sources.size(), 1u);
    const Source& s = sources[0];
    EXPECT_EQ(keys(s), (Keys{"runtime", "id", "name", "image", "pod", "namespace", "container",
                             "pod_uid"}));
    EXPECT_EQ(detail(s, "runtime"), "docker");
    EXPECT_EQ(detail(s, "pod"), "web-7d4b9");
    EXPECT_EQ(detail(s, "namespace"), "shop");
    EXPECT_EQ(detail(s, "container"), "nginx");
    EXPECT_EQ(detail(s, "pod_uid"), "0c9f6a3e-4b1d-4c47-9a55-8f0d7a3e2b11");
    EXPECT_TRUE(evidence_contains(s, "name, image, pod, namespace and container from "));
  }
}

TEST_F(ContainerDetector, KubernetesPodFromContainerdAnnotations) {
  // Another namespace first: the task may live in any of them.
  fs::create_directories(dir_ + "/run/containerd/io.containerd.runtime.v2.task/moby");
  write("run/containerd/io.containerd.runtime.v2.task/k8s.io/" + kId + "/config.json",
        R"({"ociVersion":"1.0.2","process":{"args":["/pause"]},"annotations":{)"
        R"("io.kubernetes.cri.container-type":"container",)"
        R"("io.kubernetes.cri.container-name":"api",)"
        R"("io.kubernetes.cri.image-name":"registry.example/api:1.4",)"
        R"("io.kubernetes.cri.sandbox-name":"api-5f6c","io.kubernetes.cri.sandbox-namespace":"prod"}})");
  auto sources = detect(chain(
      "0::/kubepods.slice/kubepods-besteffort.slice/"
      "kubepods-besteffort-pod11112222_3333_4444_5555_666677778888.slice/cri-containerd-" +
      kId + ".scope\n"));
  ASSERT_EQ(sources.size(), 1u);
  const Source& s = sources[0];
  EXPECT_EQ(s.name, "api");
  EXPECT_EQ(keys(s), (Keys{"runtime", "id", "name", "image", "pod", "namespace", "container",
                           "pod_uid"}));
  EXPECT_EQ(detail(s, "runtime"), "containerd");
  EXPECT_EQ(detail(s, "image"), "registry.example/api:1.4");
  EXPECT_EQ(detail(s, "pod"), "api-5f6c");
  EXPECT_EQ(detail(s, "namespace"), "prod");
  EXPECT_EQ(detail(s, "container"), "api");
  EXPECT_EQ(detail(s, "pod_uid"), "11112222-3333-4444-5555-666677778888");
  EXPECT_TRUE(has_evidence(s, "name, image, pod, namespace and container from " + dir_ +
                                  "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + kId +
                                  "/config.json"));
}

TEST_F(ContainerDetector, KubernetesBareIdIsWhicheverRuntimeHoldsItsState) {
  std::string cgroup = "0::/kubepods/besteffort/pod1234abcd/" + kId2 + "\n";
  // Neither runtime knows it: still a container, and the evidence says so.
  auto unknown = detect(chain(cgroup));
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(detail(unknown[0], "runtime"), "containerd");
  EXPECT_EQ(unknown[0].name, kId2.substr(0, 12));
  EXPECT_TRUE(evidence_contains(unknown[0], "state not found: neither "));

  write("run/containerd/io.containerd.runtime.v2.task/k8s.io/" + kId2 + "/config.json",
        R"({"annotations":{"io.kubernetes.cri.container-name":"worker"}})");
  auto sources = detect(chain(cgroup));
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(detail(sources[0], "runtime"), "containerd");
  EXPECT_EQ(sources[0].name, "worker");
  EXPECT_EQ(detail(sources[0], "pod_uid"), "1234abcd");

  write_docker_config(kId2);
  auto docker = detect(chain(cgroup));
  ASSERT_EQ(docker.size(), 1u);
  EXPECT_EQ(detail(docker[0], "runtime"), "docker");
}

TEST_F(ContainerDetector, PodmanFromContainersStorage) {
  write("var/lib/containers/storage/overlay-containers/containers.json",
        R"([{"id":")" + kId2 + R"(","names":["other"],"metadata":"{}"},)"
        R"({"id":")" + kId + R"(","names":["db"],"image":"5b1e3a",)"
        R"("metadata":"{\"image-name\":\"docker.io/library/postgres:16\",\"name\":\"db\"}"}])");
  auto sources = detect(chain("0::/machine.slice/libpod-" + kId + ".scope/container\n"));
  ASSERT_EQ(sources.size(), 1u);
  const Source& s = sources[0];
  EXPECT_EQ(detail(s, "runtime"), "podman");
  EXPECT_EQ(s.name, "db");
  EXPECT_EQ(detail(s, "image"), "docker.io/library/postgres:16");
  // cgroupfs manager: no ".scope".
  auto cgroupfs = detect(chain("0::/libpod_parent/libpod-" + kId + "\n"));
  ASSERT_EQ(cgroupfs.size(), 1u);
  EXPECT_EQ(cgroupfs[0].name, "db");
  // conmon, the monitor beside the container, is not in it.
  EXPECT_TRUE(detect(chain("0::/machine.slice/libpod-conmon-" + kId + ".scope\n")).empty());
}

TEST_F(ContainerDetector, CriOFromItsBundleAnnotations) {
  write("run/containers/storage/overlay-containers/" + kId + "/userdata/config.json",
        R"({"annotations":{"io.kubernetes.cri-o.ImageName":"quay.io/app/cache:2",)"
        R"("io.kubernetes.cri-o.Labels":"{\"io.kubernetes.container.name\":\"cache\",)"
        R"(\"io.kubernetes.pod.name\":\"cache-0\",\"io.kubernetes.pod.namespace\":\"infra\"}"}})");
  std::string pod = "0::/kubepods.slice/kubepods-podaaaa_bbbb.slice/";
  auto sources = detect(chain(pod + "crio-" + kId + ".scope\n"));
  ASSERT_EQ(sources.size(), 1u);
  const Source& s = sources[0];
  EXPECT_EQ(detail(s, "runtime"), "cri-o");
  EXPECT_EQ(s.name, "cache");
  EXPECT_EQ(detail(s, "image"), "quay.io/app/cache:2");
  EXPECT_EQ(detail(s, "pod"), "cache-0");
  EXPECT_EQ(detail(s, "namespace"), "infra");
  EXPECT_EQ(detail(s, "pod_uid"), "aaaa-bbbb");
  EXPECT_TRUE(detect(chain(pod + "crio-conmon-" + kId + ".scope\n")).empty());
}

TEST_F(ContainerDetector, LxcInEachCgroupLayout) {
  for (const std::string& cgroup : std::vector<std::string>{
           "4:memory:/lxc/web1\n0::/\n", "0::/lxc.payload.web1\n",
           "0::/lxc.payload/web1/init.scope\n"}) {
    SCOPED_TRACE(cgroup);
    auto sources = detect(chain(cgroup, {1000, 1}));
    ASSERT_EQ(sources.size(), 1u);
    EXPECT_EQ(sources[0].name, "web1");
    EXPECT_EQ(keys(sources[0]), (Keys{"runtime", "id", "pid_in_container"}));
    EXPECT_EQ(detail(sources[0], "runtime"), "lxc");
    EXPECT_EQ(detail(sources[0], "id"), "web1");
  }
  // The monitor process runs beside the container, not in it.
  EXPECT_TRUE(detect(chain("0::/lxc.monitor.web1\n")).empty());
}

TEST_F(ContainerDetector, MissingStateStillReportsTheContainer) {
  auto sources = detect(chain("0::/system.slice/docker-" + kId + ".scope\n"));
  ASSERT_EQ(sources.size(), 1u);
  const Source& s = sources[0];
  EXPECT_EQ(s.name, kShort);
  EXPECT_EQ(keys(s), (Keys{"runtime", "id"}));
  EXPECT_TRUE(has_evidence(s, "state not found: " + paths_.docker + "/containers/" + kId +
                                  "/config.v2.json"));
}

TEST_F(ContainerDetector, HostileStateFilesAreReportedNotTrusted) {
  std::string path = "var/lib/docker/containers/" + kId + "/config.v2.json";
  std::string full = dir_ + "/" + path;
  std::string cgroup = "0::/docker/" + kId + "\n";
  struct Case {
    std::string content;
    std::string evidence_part;
  };
  std::vector<Case> cases = {
      {"{\"Name\":\"/x\",", "is read but not valid JSON"},
      {"\xff\xfe{}", "is read but not valid JSON"},
      {R"({"ID":")" + kId2 + R"(","Name":"/impostor"})", "is read but it names another container"},
      {R"({"Name":["/x"],"Config":{"Image":7}})", "but it holds no name or image"},
      {R"({"Name":"/)" + std::string(5000, 'a') + R"("})", "but it holds no name or image"},
      {std::string(100000, '[') + std::string(100000, ']'), "but it holds no name or image"},
      {std::string(4 * 1024 * 1024 + 1, ' '), "state not read: " + full + " (too large)"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.evidence_part);
    write(path, c.content);
    auto sources = detect(chain(cgroup));
    ASSERT_EQ(sources.size(), 1u);
    EXPECT_EQ(sources[0].name, kShort);
    EXPECT_EQ(keys(sources[0]), (Keys{"runtime", "id"}));
    EXPECT_TRUE(evidence_contains(sources[0], c.evidence_part)) << sources[0].evidence.back();
  }
  // A FIFO must not block the reader.
  fs::remove(full);
  ASSERT_EQ(::mkfifo(full.c_str(), 0600), 0);
  auto sources = detect(chain(cgroup));
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_TRUE(has_evidence(sources[0], "state not read: " + full + " (not a regular file)"));
}

TEST_F(ContainerDetector, StateBehindAUsersSymlinkIsNotRead) {
  // The state file, or a directory on the way to it, is a link in a
  // directory any user can write: not followed, and the evidence says why.
  write("elsewhere/config.v2.json", R"({"ID":")" + kId + R"(","Name":"/forged"})");
  std::string dir = dir_ + "/var/lib/docker/containers/" + kId;
  fs::create_directories(dir);
  fs::create_symlink(dir_ + "/elsewhere/config.v2.json", dir + "/config.v2.json");
  fs::permissions(dir, fs::perms::all);
  auto sources = detect(chain("0::/docker/" + kId + "\n"));
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].name, kShort);
  EXPECT_TRUE(has_evidence(sources[0], "state not read: " + dir +
                                           "/config.v2.json (not followed: a symlink a non-root "
                                           "user could have made)"))
      << sources[0].evidence.back();

  // containerd's namespaces are listed only through links root made.
  write("elsewhere/ns/k8s.io/" + kId2 + "/config.json",
        R"({"annotations":{"io.kubernetes.cri.container-name":"forged"}})");
  fs::create_directories(dir_ + "/run/containerd");
  fs::create_directory_symlink(dir_ + "/elsewhere/ns",
                               dir_ + "/run/containerd/io.containerd.runtime.v2.task");
  fs::permissions(dir_ + "/run/containerd", fs::perms::all);
  auto listed = detect(chain("0::/kubepods/besteffort/pod1234abcd/" + kId2 + "\n"));
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, kId2.substr(0, 12));
  EXPECT_TRUE(evidence_contains(listed[0], "state not found: neither ")) << listed[0].evidence.back();
}

TEST_F(ContainerDetector, NoContainerWithoutContainerCgroupEvidence) {
  write_docker_config(kId);
  std::vector<std::string> not_containers = {
      "0::/user.slice/user-1000.slice/session-3.scope\n",
      "0::/system.slice/docker.service\n",  // dockerd itself
      "0::/system.slice/containerd.service\n",
      "0::/docker\n",
      "0::/docker/not-a-container-id\n",
      "0::/docker/" + kId.substr(1) + "\n",
      "0::/docker/" + kId + "0\n",
      "0::/system.slice/docker-" + kId.substr(0, 12) + ".scope\n",
      "0::/system.slice/docker-" + kId + ".service\n",
      "0::/kubepods/burstable\n",
      "0::/" + kId + "\n",  // a bare id outside a Kubernetes pod
      "0::/lxc/../etc\n",
      "0::/\n",
      ""};
  for (const std::string& cgroup : not_containers) {
    SCOPED_TRACE(cgroup);
    // Names that look like runtimes prove nothing.
    std::vector<core::Process> c = {proc(1, 0, "/sbin/init", "0::/init.scope\n"),
                                    proc(900, 1, "/usr/bin/containerd-shim-runc-v2", cgroup),
                                    proc(1000, 900, "/usr/bin/docker", cgroup, {1000, 1})};
    c.back().stat.comm = "docker";
    EXPECT_TRUE(detect(c).empty());
  }
  // No cgroup read at all.
  auto c = chain("0::/docker/" + kId + "\n");
  c.back().cgroups.reset();
  EXPECT_TRUE(detect(c).empty());
}

TEST_F(ContainerDetector, RootlessRuntimeStateIsNotTakenFromTheSystemStore) {
  // A user's delegated subtree can hold any cgroup name, including one that
  // copies a real system container's id: the system state must not name it.
  write("var/lib/containers/storage/overlay-containers/containers.json",
        R"([{"id":")" + kId + R"(","names":["system-db"],"metadata":"{}"}])");
  auto sources = detect(chain("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" +
                              kId + ".scope\n"));
  ASSERT_EQ(sources.size(), 1u);
  const Source& s = sources[0];
  EXPECT_EQ(s.name, kShort);
  EXPECT_EQ(keys(s), (Keys{"runtime", "id", "rootless_uid"}));
  EXPECT_EQ(detail(s, "runtime"), "podman");
  EXPECT_EQ(detail(s, "rootless_uid"), "1000");
  EXPECT_TRUE(evidence_contains(s, "under user@1000.service"));
}

TEST_F(ContainerDetector, NestedContainersInnermostFirst) {
  write_docker_config(kId);
  std::string inner = "0::/lxc.payload.host1/system.slice/docker-" + kId + ".scope\n";
  std::vector<core::Process> c = {
      proc(1, 0, "/sbin/init", "0::/init.scope\n"),
      proc(500, 1, "/sbin/init", "0::/lxc.payload.host1/init.scope\n", {500, 1}),
      proc(900, 500, "/usr/bin/containerd-shim-runc-v2",
           "0::/lxc.payload.host1/system.slice/containerd.service\n", {900, 80}),
      proc(1000, 900, "/usr/bin/sleep", inner, {1000, 120, 1})};
  auto sources = detect(c);
  ASSERT_EQ(sources.size(), 2u);
  EXPECT_EQ(detail(sources[0], "runtime"), "docker");
  EXPECT_EQ(sources[0].pid, 1000);
  EXPECT_EQ(sources[0].anchor, 3u);
  EXPECT_EQ(detail(sources[0], "pid_in_container"), "1");
  EXPECT_EQ(detail(sources[1], "runtime"), "lxc");
  EXPECT_EQ(sources[1].name, "host1");
  EXPECT_EQ(sources[1].pid, 500);
  EXPECT_EQ(sources[1].anchor, 1u);
  EXPECT_EQ(sources[1].find_detail("pid_in_container"), nullptr);
}

}  // namespace
}  // namespace lineage::explain
