#include "audit/scene.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "core/unique_fd.h"
#include "procfs/parsers.h"

namespace lineage::audit {

Scene::Scene(const core::ProcessTree& tree, const core::SystemInfo& sys, const procfs::ProcReader* reader,
             const explain::ExeVerifier* verifier)
    : tree_(tree), sys_(sys), reader_(reader), verifier_(verifier) {}

const explain::ExeVerifier& Scene::verifier() const {
  if (verifier_) return *verifier_;
  return explain::default_verifier(reader_ ? reader_->root() : std::string("/proc"));
}

const std::unordered_map<uint64_t, procfs::SocketEntry>& Scene::inet_sockets() const {
  if (!sockets_) {
    sockets_.emplace();
    if (reader_) {
      if (auto all = procfs::list_sockets()) {
        for (auto& s : *all) {
          if (s.inode != 0) sockets_->emplace(s.inode, std::move(s));
        }
      }
    }
  }
  return *sockets_;
}

namespace {

// The pid directory of p, checked to still name p (its start time): a pid
// reused since the scan would answer for another process.
UniqueFd open_checked(const procfs::ProcReader& reader, const core::Process& p) {
  UniqueFd dirfd;
  auto again = reader.read(p.pid(), core::kFieldStat, &dirfd);
  if (!again || !core::same_start(again->key.start_time_ns, p.key.start_time_ns, reader.tick_ns())) {
    return UniqueFd();
  }
  return dirfd;
}

}  // namespace

std::optional<std::string> Scene::fd_link(size_t i, int fd) const {
  if (!reader_ || i >= tree_.size() || tree_.at(i).recorded) return std::nullopt;
  UniqueFd dirfd = open_checked(*reader_, tree_.at(i));
  if (!dirfd.valid()) return std::nullopt;
  std::string name = "fd/" + std::to_string(fd);
  char buf[4096];
  ssize_t n = readlinkat(dirfd.get(), name.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

const std::vector<uint64_t>& Scene::socket_inodes(size_t i) const {
  auto [it, fresh] = socket_inodes_.try_emplace(i);
  if (fresh && reader_ && i < tree_.size() && !tree_.at(i).recorded) {
    UniqueFd dirfd = open_checked(*reader_, tree_.at(i));
    if (dirfd.valid()) it->second = procfs::socket_inodes_at(dirfd.get());
  }
  return it->second;
}

const core::Namespaces& Scene::namespaces(size_t i) const {
  const core::Process& p = tree_.at(i);
  if ((p.read & core::kFieldNamespaces) || !reader_ || p.recorded) return p.ns;
  auto [it, fresh] = namespaces_.try_emplace(i, p.ns);
  if (fresh) {
    auto now = reader_->read(p.pid(), core::kFieldStat | core::kFieldNamespaces);
    if (now && core::same_start(now->key.start_time_ns, p.key.start_time_ns, reader_->tick_ns())) {
      it->second = now->ns;
    }
  }
  return it->second;
}

std::optional<uint64_t> Scene::host_pid_ns() const {
  size_t init = tree_.find(1);
  if (init == core::ProcessTree::kNone) return std::nullopt;
  return namespaces(init).pid;
}

std::optional<uint64_t> Scene::host_mnt_ns() const {
  size_t init = tree_.find(1);
  if (init == core::ProcessTree::kNone) return std::nullopt;
  return namespaces(init).mnt;
}

size_t Scene::zombie_children(size_t i) const {
  if (!zombie_children_) {
    zombie_children_.emplace(tree_.size(), 0);
    for (size_t k = 0; k < tree_.size(); ++k) {
      size_t parent = tree_.parent(k);
      if (tree_.at(k).is_zombie() && parent != core::ProcessTree::kNone) ++(*zombie_children_)[parent];
    }
  }
  return i < zombie_children_->size() ? (*zombie_children_)[i] : 0;
}

// (audit-b) lineage's own namespaces, the reference where pid 1's are denied.
std::pair<std::optional<uint64_t>, std::optional<uint64_t>> Scene::self_namespaces() const {
  if (!self_ns_) {
    self_ns_.emplace();
    if (reader_) {
      auto read = [&](const char* kind) -> std::optional<uint64_t> {
        std::string path = reader_->root() + "/self/ns/" + kind;
        char buf[128];
        ssize_t n = readlink(path.c_str(), buf, sizeof buf);
        if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return std::nullopt;
        return procfs::parse_ns_link(std::string_view(buf, static_cast<size_t>(n)));
      };
      self_ns_->first = read("pid");
      self_ns_->second = read("mnt");
    }
  }
  return *self_ns_;
}

std::optional<uint64_t> Scene::reference_pid_ns() const {
  if (auto ns = host_pid_ns()) return ns;
  return self_namespaces().first;
}

std::optional<uint64_t> Scene::reference_mnt_ns() const {
  if (auto ns = host_mnt_ns()) return ns;
  return self_namespaces().second;
}

}  // namespace lineage::audit

// Added for exec-from-writable-dir and cron-runs-writable-script.
namespace lineage::audit {
namespace {

bool clean_absolute(const std::string& path) {
  if (path.empty() || path[0] != '/' || path.find('\0') != std::string::npos) return false;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t next = path.find('/', pos + 1);
    std::string comp = path.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    if (comp == "." || comp == "..") return false;
    if (next == std::string::npos) break;
    pos = next;
  }
  return true;
}

}  // namespace

int Scene::stat_dirfd(size_t i) const {
  if (!reader_ || i >= tree_.size() || tree_.at(i).recorded) return -1;
  if (stat_dir_index_ != i) {
    stat_dir_ = open_checked(*reader_, tree_.at(i));
    stat_dir_index_ = i;
  }
  return stat_dir_.valid() ? stat_dir_.get() : -1;
}

std::optional<struct stat> Scene::stat_in_root(size_t i, const std::string& path, bool follow) const {
  if (!clean_absolute(path)) return std::nullopt;
  int dirfd = stat_dirfd(i);
  if (dirfd < 0) return std::nullopt;
  struct stat st {};
  std::string rel = "root" + (path == "/" ? std::string() : path);
  if (fstatat(dirfd, rel.c_str(), &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) return std::nullopt;
  return st;
}

size_t Scene::DirKeyHash::operator()(const DirKey& k) const {
  size_t h = std::hash<std::string>()(k.dir);
  for (uint64_t v : {k.mnt_ns, k.root_dev, k.root_ino}) h = h * 1000003u ^ std::hash<uint64_t>()(v);
  return h;
}

std::optional<struct stat> Scene::stat_dir_in_root(size_t i, const std::string& dir) const {
  const core::Process& p = tree_.at(i);
  if (!p.exe_file || !p.exe_file->root || !p.exe_file->mnt_ns) return stat_in_root(i, dir);
  DirKey key{*p.exe_file->mnt_ns, p.exe_file->root->dev, p.exe_file->root->ino, dir};
  auto it = dir_stats_.find(key);
  if (it == dir_stats_.end()) it = dir_stats_.emplace(std::move(key), stat_in_root(i, dir)).first;
  return it->second;
}

std::optional<struct stat> Scene::stat_exe(size_t i) const {
  const core::Process& p = tree_.at(i);
  if (p.exe_file) {  // read by the scan, through the same checked directory
    if (!p.exe_file->exe) return std::nullopt;
    struct stat st {};
    st.st_dev = p.exe_file->exe->dev;
    st.st_ino = p.exe_file->exe->ino;
    st.st_mode = p.exe_file->exe->mode;
    st.st_uid = p.exe_file->exe->uid;
    st.st_gid = p.exe_file->exe->gid;
    return st;
  }
  int dirfd = stat_dirfd(i);
  if (dirfd < 0) return std::nullopt;
  struct stat st {};
  if (fstatat(dirfd, "exe", &st, 0) != 0) return std::nullopt;
  return st;
}

}  // namespace lineage::audit
