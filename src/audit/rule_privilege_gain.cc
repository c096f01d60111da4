// privilege-gain: a process running as root (effective uid 0), or holding
// capabilities in the initial user namespace that its parent lacks, below a
// parent whose real and effective uids are both non-root. That is what a
// setuid-root or file-capability executable does: through a known helper
// (sudo, su, ping ...) whose file is the root-owned system one it is info;
// through anything else it is high (critical when the file is in /tmp, a
// hidden path ...).
#include <fmt/format.h>

#include "audit/classify.h"
#include "audit/rules.h"
#include "procfs/reader.h"

namespace lineage::audit {

namespace {

bool known_helper(std::string_view name) {
  for (std::string_view h :
       {"sudo", "sudoedit", "su", "pkexec", "passwd", "chsh", "chfn", "newgrp", "sg", "gpasswd", "mount", "umount",
        "fusermount", "fusermount3", "ping", "ping6", "unix_chkpwd", "ssh-keysign", "Xorg.wrap", "Xorg",
        "dbus-daemon-launch-helper", "polkit-agent-helper-1", "at", "crontab", "doas", "newuidmap", "newgidmap",
        "mtr-packet", "arping", "traceroute6.iputils", "bwrap", "snap-confine", "chrome-sandbox",
        "gnome-keyring-daemon", "ntfs-3g", "mount.nfs", "mount.cifs", "dumpcap", "exim4", "sendmail"}) {
    if (name == h) return true;
  }
  return false;
}

// The user namespace p's capabilities act in: nullopt when unknown.
std::optional<uint64_t> user_ns(const Scene& scene, const core::Process& p) {
  if (p.ns.user) return p.ns.user;
  if (scene.reader() && !p.recorded) return scene.reader()->user_namespace(p.key);
  return std::nullopt;
}

}  // namespace

void check_privilege_gain(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::ProcessTree& tree = scene.tree();
  const core::Process& p = tree.at(index);
  size_t pi = tree.parent(index);
  if (!p.status || pi == core::ProcessTree::kNone) return;
  const core::Process& parent = tree.at(pi);
  if (!parent.status || parent.is_zombie()) return;
  const core::Ids& pu = parent.status->uid;
  const core::Ids& u = p.status->uid;
  if (pu.real == 0 || pu.effective == 0) return;
  // A user's service manager (systemd --user) adopts its orphans as a
  // subreaper: `sudo -b` run from a desktop session ends up below it. It
  // is not the process that ran the program.
  if (exe_name(parent) == "systemd") return;

  std::string gained;
  if (u.effective == 0) {
    gained = fmt::format("uid {} euid 0", u.real);
  } else {
    uint64_t added = p.status->cap_effective & ~parent.status->cap_effective;
    if (added == 0) return;
    // Capabilities in a user namespace of its own (unshare -r, a rootless
    // container, a browser sandbox) act only there: no gain on the host.
    uint64_t initial = scene.reader() ? scene.reader()->initial_user_namespace()
                                      : procfs::ProcReader::kInitialUserNamespace;
    if (user_ns(scene, p) != initial) return;
    gained = fmt::format("uid {} euid {} with capabilities 0x{:x} its parent lacks", u.real, u.effective, added);
  }

  Finding f;
  f.rule = "privilege-gain";
  f.process = p.key;
  f.related_pid = parent.pid();
  std::string exe = p.exe ? p.exe->path + (p.exe->deleted ? " (deleted)" : "") : std::string();
  std::string_view name = exe_name(p);
  explain::Verification v;
  if (p.exe && !p.recorded) {
    v = scene.verifier().check_exe(p);
  } else {
    v.text = p.exe ? "not checked (a recorded process)" : "its executable could not be read";
  }
  if (known_helper(name) && v.verified) {
    f.severity = Severity::kInfo;
    f.title = fmt::format("runs as root through the setuid helper {}", name);
    if (u.effective != 0) f.title = fmt::format("gains capabilities through the helper {}", name);
  } else {
    std::string where = p.exe ? writable_by_path(p.exe->path) : std::string();
    f.severity = where.empty() ? Severity::kHigh : Severity::kCritical;
    f.title = fmt::format("{} below a non-root parent: {}{}", u.effective == 0 ? "runs as root" : "gains capabilities",
                          exe.empty() ? std::string(name) : exe, known_helper(name) ? " (named like a setuid helper)" : "");
    if (!where.empty()) f.evidence.push_back("the executable is " + where);
  }
  f.evidence.insert(f.evidence.begin(),
                    {fmt::format("parent pid {} ({}) uid {} euid {}", parent.pid(), parent.stat.comm, pu.real, pu.effective),
                     "process " + gained, exe.empty() ? "exe not readable" : "exe " + exe,
                     std::string(v.verified ? "verified: " : "not verified: ") + v.text});
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
