#pragma once
// What the audit rules look at: one snapshot of the process table (read with
// the fields the chosen rules need), plus what only a few processes need,
// read on demand and kept for the run: the machine's inet sockets, a
// process's fd links, the host's namespaces, the verdict on an executable.
//
// A scene built from a recording or from the live tree of `watch` has no
// reader: the on-demand reads then answer "unknown" (nullopt, empty), and
// rules must treat unknown as "no finding", never as evidence.
#include <sys/stat.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/process_tree.h"
#include "core/unique_fd.h"
#include "core/system_info.h"
#include "explain/verify.h"
#include "procfs/net.h"
#include "procfs/reader.h"

namespace lineage::audit {

class Scene {
 public:
  /// reader: null for a scene without /proc behind it. verifier: null for
  /// the real check under reader->root() (unit tests pass a fake).
  Scene(const core::ProcessTree& tree, const core::SystemInfo& sys, const procfs::ProcReader* reader,
        const explain::ExeVerifier* verifier = nullptr);

  const core::ProcessTree& tree() const { return tree_; }
  const core::SystemInfo& sys() const { return sys_; }
  const procfs::ProcReader* reader() const { return reader_; }
  /// Judge of executables (root-owned file at that path in a trusted root).
  /// Only valid with a reader (or a verifier given at construction).
  const explain::ExeVerifier& verifier() const;

  /// Every TCP and UDP socket (v4 and v6) of lineage's network namespace by
  /// inode, listed once (sock_diag). Empty without a reader or when it fails.
  const std::unordered_map<uint64_t, procfs::SocketEntry>& inet_sockets() const;

  /// The target of fd N of process i as readlink gives it ("socket:[123]",
  /// "/dev/pts/1", "pipe:[9]"); nullopt when unknown (no reader, exited,
  /// denied, or the pid now names another process).
  std::optional<std::string> fd_link(size_t i, int fd) const;

  /// Inodes of the sockets process i holds; empty when unknown. Read once
  /// per process.
  const std::vector<uint64_t>& socket_inodes(size_t i) const;

  /// The host's pid and mount namespaces: pid 1's in the tree, when known.
  std::optional<uint64_t> host_pid_ns() const;
  std::optional<uint64_t> host_mnt_ns() const;

  /// Zombie children of process i (state Z), counted once for the tree.
  size_t zombie_children(size_t i) const;

  // Added for exec-from-writable-dir and cron-runs-writable-script: the
  // mode and owner of a file as process i sees it. Never opens the file.
  /// stat of an absolute path in process i's root, through its checked pid
  /// directory ("root/PATH", so a container's /tmp is its own): lstat, or
  /// stat when follow (absolute symlinks then resolve in lineage's root).
  /// nullopt when unknown: no reader, exited, denied, no such file, or a
  /// path with "." or ".." components.
  std::optional<struct stat> stat_in_root(size_t i, const std::string& path, bool follow = false) const;
  /// stat of the file process i runs (its exe link, followed: the running
  /// file even when deleted or replaced); nullopt when unknown.
  std::optional<struct stat> stat_exe(size_t i) const;
  /// stat_in_root(i, dir) of a process whose scan read kFieldExeFile,
  /// answered once per (mount namespace, root, dir): they resolve alike.
  std::optional<struct stat> stat_dir_in_root(size_t i, const std::string& dir) const;

  /// (audit-b) The host's pid and mount namespaces for outside-container:
  /// pid 1's; where pid 1's links are denied (an init that hides them, as in
  /// some VMs and sandboxes), lineage's own (<proc root>/self/ns/...),
  /// read once. nullopt without a reader and without pid 1's.
  std::optional<uint64_t> reference_pid_ns() const;
  std::optional<uint64_t> reference_mnt_ns() const;

  /// The namespaces of process i: as the table read them (kFieldNamespaces),
  /// else read now through its checked pid directory, once per process (a
  /// rule asks only about the few processes its cheaper evidence points
  /// at). Fields stay nullopt when unknown.
  const core::Namespaces& namespaces(size_t i) const;

 private:
  const core::ProcessTree& tree_;
  core::SystemInfo sys_;
  const procfs::ProcReader* reader_;
  const explain::ExeVerifier* verifier_;
  mutable std::optional<std::unordered_map<uint64_t, procfs::SocketEntry>> sockets_;
  mutable std::unordered_map<size_t, std::vector<uint64_t>> socket_inodes_;
  mutable std::optional<std::vector<uint32_t>> zombie_children_;
  mutable std::unordered_map<size_t, core::Namespaces> namespaces_;
  // stat_in_root / stat_exe: the checked pid directory of the process last
  // asked about (a rule asks about one process several times in a row).
  int stat_dirfd(size_t i) const;
  mutable size_t stat_dir_index_ = static_cast<size_t>(-1);
  mutable UniqueFd stat_dir_;
  struct DirKey {
    uint64_t mnt_ns, root_dev, root_ino;
    std::string dir;
    bool operator==(const DirKey&) const = default;
  };
  struct DirKeyHash {
    size_t operator()(const DirKey& k) const;
  };
  mutable std::unordered_map<DirKey, std::optional<struct stat>, DirKeyHash> dir_stats_;
  mutable std::optional<std::pair<std::optional<uint64_t>, std::optional<uint64_t>>> self_ns_;  // (pid, mnt)
  std::pair<std::optional<uint64_t>, std::optional<uint64_t>> self_namespaces() const;
};

}  // namespace lineage::audit
