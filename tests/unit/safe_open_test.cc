// open_safe and find_git on a temporary tree: files a process points at are
// opened without following a symlink a non-root user could have made, and
// only regular files are read.
//
//   TMP/                      mode 0777 (anyone may plant links here)
//   ├─ secret                 "ref: refs/heads/SECRET"
//   ├─ plain                  a regular file
//   ├─ link -> secret         refused
//   ├─ sub/ -> real/          refused as a directory on the way
//   ├─ real/file
//   └─ fifo                   kNotRegular, without blocking
//
// Every case runs through open_safe (openat2 when the kernel has it) and
// through the per-component walk alone. Tests that need a root-owned tree
// or chown run only as root and skip with the reason otherwise.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "explain/file_read.h"
#include "explain/report.h"

namespace lineage::explain {
namespace {

namespace fs = std::filesystem;

class TempTree {
 public:
  TempTree() {
    std::string templ = (fs::temp_directory_path() / "lineage-safe-XXXXXX").string();
    root_ = ::mkdtemp(templ.data());
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const std::string& root() const { return root_; }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }
  void write(const std::string& rel, const std::string& text) const {
    fs::create_directories(fs::path(path(rel)).parent_path());
    std::ofstream(path(rel)) << text;
  }

 private:
  std::string root_;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool is_root() { return ::geteuid() == 0; }

// A file read through open_safe and through the walk alone: both must agree.
FileStatus read_both(const std::string& path, std::string& text) {
  std::string walked;
  FileStatus by_walk = FileStatus::kError;
  if (OpenedFile f = open_safe_walk(AT_FDCWD, path, OpenAs::kRead); f.ok()) {
    by_walk = read_bounded_fd(f.fd.get(), f.st, 1 << 20, walked);
  } else {
    by_walk = f.status;
  }
  FileStatus fast = read_bounded(path, 1 << 20, text);
  EXPECT_EQ(fast, by_walk) << path;
  EXPECT_EQ(text, walked) << path;
  return fast;
}

// A FIFO opened for reading without O_NONBLOCK waits for a writer forever:
// the alarm turns a hang into a failure.
class Watchdog {
 public:
  Watchdog() { ::alarm(10); }
  ~Watchdog() { ::alarm(0); }
};

struct stat stat_of(uid_t uid, mode_t mode) {
  struct stat st {};
  st.st_uid = uid;
  st.st_mode = S_IFDIR | mode;
  return st;
}

TEST(TrustedLinkDir, OnlyRootsDirectoriesNobodyElseCanWrite) {
  EXPECT_TRUE(trusted_link_dir(stat_of(0, 0755)));
  EXPECT_TRUE(trusted_link_dir(stat_of(0, 0555)));
  EXPECT_FALSE(trusted_link_dir(stat_of(0, 0775)));    // a group can write
  EXPECT_FALSE(trusted_link_dir(stat_of(0, 0757)));    // anyone can write
  EXPECT_FALSE(trusted_link_dir(stat_of(0, 01777)));   // /tmp: sticky is not enough
  EXPECT_FALSE(trusted_link_dir(stat_of(0, 01730)));   // crontabs spool: group crontab
  EXPECT_FALSE(trusted_link_dir(stat_of(1000, 0755)));  // a user's home
  EXPECT_FALSE(trusted_link_dir(stat_of(1000, 0555)));  // theirs even when read-only
}

TEST(SafeOpen, ReadsARegularFile) {
  TempTree t;
  t.write("real/file", "hello\n");
  std::string text;
  EXPECT_EQ(read_both(t.path("real/file"), text), FileStatus::kOk);
  EXPECT_EQ(text, "hello\n");
  EXPECT_EQ(read_both(t.path("real//./file"), text), FileStatus::kOk);
  EXPECT_EQ(read_both(t.path("real/../real/file"), text), FileStatus::kOk);
  EXPECT_EQ(text, "hello\n");
}

TEST(SafeOpen, RelativeToADirectoryFd) {
  TempTree t;
  t.write("real/file", "x");
  UniqueFd dir(::open(t.root().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  std::string text;
  EXPECT_EQ(read_bounded_at(dir.get(), "real/file", 16, text), FileStatus::kOk);
  EXPECT_EQ(text, "x");
  OpenedFile walked = open_safe_walk(dir.get(), "real/file", OpenAs::kRead);
  EXPECT_TRUE(walked.ok());
}

TEST(SafeOpen, MissingAndTooLarge) {
  TempTree t;
  t.write("plain", std::string(100, 'a'));
  std::string text;
  EXPECT_EQ(read_both(t.path("absent"), text), FileStatus::kNotFound);
  EXPECT_EQ(read_both(t.path("plain/below"), text), FileStatus::kNotFound);  // ENOTDIR
  EXPECT_EQ(read_bounded(t.path("plain"), 99, text), FileStatus::kTooLarge);
  EXPECT_EQ(read_bounded(t.path("plain"), 100, text), FileStatus::kOk);
}

TEST(SafeOpen, SymlinkInAWritableDirectoryIsRefused) {
  TempTree t;
  t.write("secret", "ref: refs/heads/SECRET\n");
  t.write("real/file", "behind a link\n");
  fs::create_symlink(t.path("secret"), t.path("link"));
  fs::create_symlink("real", t.path("sub"));
  fs::permissions(t.root(), fs::perms::all);  // 0777: any user could have made the links
  std::string text;
  EXPECT_EQ(read_both(t.path("link"), text), FileStatus::kUntrustedLink);
  EXPECT_EQ(text, "");
  EXPECT_EQ(read_both(t.path("sub/file"), text), FileStatus::kUntrustedLink);
  EXPECT_EQ(open_safe(t.path("sub"), OpenAs::kDirectory).status, FileStatus::kUntrustedLink);
  EXPECT_EQ(open_safe(t.path("link"), OpenAs::kPath).status, FileStatus::kUntrustedLink);
  EXPECT_EQ(open_safe_walk(AT_FDCWD, t.path("sub"), OpenAs::kPath).status,
            FileStatus::kUntrustedLink);
}

TEST(SafeOpen, SymlinkInADirectoryOwnedByAnotherUserIsRefused) {
  if (!is_root()) GTEST_SKIP() << "chown to another uid needs root (as a user, the temp dir is "
                                  "already not root's: SymlinkInAWritableDirectoryIsRefused)";
  TempTree t;
  t.write("secret", "s");
  fs::create_directory(t.path("home"));
  fs::create_symlink(t.path("secret"), t.path("home/link"));
  ASSERT_EQ(::chmod(t.path("home").c_str(), 0755), 0);
  ASSERT_EQ(::chown(t.path("home").c_str(), 65534, 65534), 0);
  std::string text;
  EXPECT_EQ(read_both(t.path("home/link"), text), FileStatus::kUntrustedLink);
}

TEST(SafeOpen, SymlinkInARootOwnedDirectoryIsFollowed) {
  if (!is_root()) GTEST_SKIP() << "a root-owned directory of links needs root to make";
  TempTree t;
  t.write("real/file", "followed\n");
  fs::create_directory(t.path("links"));
  fs::create_symlink("../real", t.path("links/rel"));
  fs::create_symlink(t.path("real/file"), t.path("links/abs"));
  ASSERT_EQ(::chmod(t.path("links").c_str(), 0755), 0);
  std::string text;
  EXPECT_EQ(read_both(t.path("links/rel/file"), text), FileStatus::kOk);
  EXPECT_EQ(text, "followed\n");
  EXPECT_EQ(read_both(t.path("links/abs"), text), FileStatus::kOk);
  EXPECT_EQ(text, "followed\n");
  // The same directory made writable by its group: the links are refused.
  ASSERT_EQ(::chmod(t.path("links").c_str(), 0775), 0);
  EXPECT_EQ(read_both(t.path("links/abs"), text), FileStatus::kUntrustedLink);
}

TEST(SafeOpen, LinkHopsAreBounded) {
  if (!is_root()) GTEST_SKIP() << "a root-owned directory of links needs root to make";
  TempTree t;
  t.write("file", "end");
  fs::create_directory(t.path("l"));
  fs::create_symlink("../file", t.path("l/0"));
  for (int i = 1; i <= 40; ++i) fs::create_symlink(std::to_string(i - 1), t.path("l/" + std::to_string(i)));
  fs::create_symlink("loop-b", t.path("l/loop-a"));
  fs::create_symlink("loop-a", t.path("l/loop-b"));
  ASSERT_EQ(::chmod(t.path("l").c_str(), 0755), 0);
  std::string text;
  EXPECT_EQ(read_both(t.path("l/39"), text), FileStatus::kOk);  // 40 links
  EXPECT_EQ(text, "end");
  EXPECT_EQ(read_both(t.path("l/40"), text), FileStatus::kError);  // 41
  EXPECT_EQ(read_both(t.path("l/loop-a"), text), FileStatus::kError);
}

TEST(SafeOpen, SystemLinksAreFollowed) {
  // Debian's merged /usr: /lib -> usr/lib, /sbin -> usr/sbin, and
  // /etc/os-release -> ../usr/lib/os-release, all made by root.
  struct stat st {};
  if (::lstat("/lib", &st) != 0 || !S_ISLNK(st.st_mode) || ::access("/lib/os-release", R_OK) != 0) {
    GTEST_SKIP() << "no merged /usr here (/lib is not a link to a directory with os-release)";
  }
  std::string text;
  EXPECT_EQ(read_both("/lib/os-release", text), FileStatus::kOk);
  EXPECT_EQ(text, slurp("/usr/lib/os-release"));
  if (::lstat("/etc/os-release", &st) == 0 && S_ISLNK(st.st_mode)) {
    EXPECT_EQ(read_both("/etc/os-release", text), FileStatus::kOk);
    EXPECT_EQ(text, slurp("/usr/lib/os-release"));
  }
  if (::lstat("/sbin", &st) == 0 && S_ISLNK(st.st_mode)) {
    OpenedFile sbin = open_safe_walk(AT_FDCWD, "/sbin", OpenAs::kDirectory);
    ASSERT_TRUE(sbin.ok()) << describe(sbin.status);
    struct stat usr_sbin {};
    ASSERT_EQ(::stat("/usr/sbin", &usr_sbin), 0);
    EXPECT_EQ(sbin.st.st_ino, usr_sbin.st_ino);
  }
}

TEST(SafeOpen, ProcMagicLinksAreNotFollowed) {
  // /proc/self is /proc's own plain link; /proc/self/cwd is a magic link the
  // process set (its text, read as a path, would not even be its target).
  TempTree t;
  t.write("file", "x");
  std::string text;
  // cmdline: a file of /proc that does not change between the two reads.
  EXPECT_EQ(read_both("/proc/self/cmdline", text), FileStatus::kOk);
  EXPECT_NE(text.find("unit_tests"), std::string::npos);
  std::string before = fs::current_path().string();
  fs::current_path(t.root());
  FileStatus through_cwd = read_both("/proc/self/cwd/file", text);
  fs::current_path(before);
  EXPECT_EQ(through_cwd, FileStatus::kUntrustedLink);
  EXPECT_EQ(open_safe("/proc/self/root", OpenAs::kPath).status, FileStatus::kUntrustedLink);
}

TEST(SafeOpen, FifoIsNotRegularAndNeverBlocks) {
  TempTree t;
  ASSERT_EQ(::mkfifo(t.path("fifo").c_str(), 0600), 0);
  Watchdog watchdog;
  std::string text;
  EXPECT_EQ(read_both(t.path("fifo"), text), FileStatus::kNotRegular);
}

TEST(SafeOpen, DeviceIsRefused) {
  std::string text;
  EXPECT_EQ(read_both("/dev/null", text), FileStatus::kNotRegular);
  EXPECT_EQ(open_safe("/dev/null", OpenAs::kPath).status, FileStatus::kOk);  // not opened for I/O
}

// ------------------------------------------------------------------ find_git

// TMP/repo/.git/HEAD and TMP/repo/src/deep, the process's cwd.
class GitRepo : public ::testing::Test {
 protected:
  GitRepo() {
    t_.write("repo/.git/HEAD", "ref: refs/heads/main\n");
    fs::create_directories(t_.path("repo/src/deep"));
  }
  std::string cwd() const { return t_.path("repo/src/deep"); }
  // The tree as an ordinary user's: chown'd to nobody when the test runs as
  // root, else already this user's.
  void give_to_user(const std::string& rel) const {
    if (is_root()) {
      ASSERT_EQ(::lchown(t_.path(rel).c_str(), kUser, kUser), 0) << rel;
    }
  }
  static constexpr uid_t kUser = 65534;
  const uid_t uid_ = is_root() ? kUser : ::geteuid();
  TempTree t_;
};

TEST_F(GitRepo, BranchOfARepositoryOfTheProcesssUser) {
  auto git = find_git(cwd(), ::geteuid());
  ASSERT_TRUE(git);
  EXPECT_EQ(git->repository, t_.path("repo"));
  EXPECT_EQ(git->branch, "main");
  t_.write("repo/.git/HEAD", "0123456789abcdef0123456789abcdef01234567\n");
  git = find_git(cwd(), ::geteuid());
  ASSERT_TRUE(git);
  EXPECT_EQ(git->branch, "0123456789ab (detached)");
}

TEST_F(GitRepo, SymlinkedHeadIsNotFollowed) {
  t_.write("secret", "ref: refs/heads/SECRET\n");
  fs::remove(t_.path("repo/.git/HEAD"));
  fs::create_symlink(t_.path("secret"), t_.path("repo/.git/HEAD"));
  give_to_user("repo/.git");
  give_to_user("repo/.git/HEAD");
  ASSERT_TRUE(fs::exists(t_.path("repo/.git/HEAD")));
  EXPECT_FALSE(find_git(cwd(), uid_));
}

TEST_F(GitRepo, SymlinkedDotGitIsNotFollowed) {
  t_.write("elsewhere/.git/HEAD", "ref: refs/heads/SECRET\n");
  fs::remove_all(t_.path("repo/.git"));
  fs::create_directory_symlink(t_.path("elsewhere/.git"), t_.path("repo/.git"));
  give_to_user("repo");
  EXPECT_FALSE(find_git(cwd(), uid_));
}

TEST_F(GitRepo, FifoHeadDoesNotHang) {
  fs::remove(t_.path("repo/.git/HEAD"));
  ASSERT_EQ(::mkfifo(t_.path("repo/.git/HEAD").c_str(), 0600), 0);
  Watchdog watchdog;
  EXPECT_FALSE(find_git(cwd(), ::geteuid()));
}

TEST_F(GitRepo, HeadThatIsNoRefIsNotPrinted) {
  // What a root-only file read as HEAD would look like: never a branch.
  t_.write("repo/.git/HEAD", "ref: root:x:0:0:root:/root:/bin/bash\n");
  EXPECT_FALSE(find_git(cwd(), ::geteuid()));
  t_.write("repo/.git/HEAD", "password=hunter2\n");
  EXPECT_FALSE(find_git(cwd(), ::geteuid()));
}

TEST_F(GitRepo, RepositoryOfAnotherUserIsRefused) {
  // git's safe.directory rule: the .git must be the process's user's or root's.
  if (is_root()) {
    ASSERT_EQ(::chown(t_.path("repo/.git").c_str(), 65534, 65534), 0);
    EXPECT_FALSE(find_git(cwd(), 1000));
    auto git = find_git(cwd(), 65534);
    ASSERT_TRUE(git);
    EXPECT_EQ(git->branch, "main");
  } else {
    // .git is this (non-root) user's: a process of any other uid ignores it.
    EXPECT_FALSE(find_git(cwd(), ::geteuid() + 1));
    EXPECT_TRUE(find_git(cwd(), ::geteuid()));
  }
}

TEST_F(GitRepo, GitdirFileIsFollowedUnderTheSameRule) {
  t_.write("worktrees/wt/HEAD", "ref: refs/heads/topic\n");
  fs::remove_all(t_.path("repo/.git"));
  t_.write("repo/.git", "gitdir: ../worktrees/wt\n");
  auto git = find_git(cwd(), ::geteuid());
  ASSERT_TRUE(git);
  EXPECT_EQ(git->repository, t_.path("repo"));
  EXPECT_EQ(git->branch, "topic");
  if (!is_root()) return;  // below: a gitdir owned by another uid, made with chown
  ASSERT_EQ(::chown(t_.path("worktrees/wt").c_str(), 65534, 65534), 0);
  EXPECT_FALSE(find_git(cwd(), 1000));
  EXPECT_TRUE(find_git(cwd(), 65534));
}

}  // namespace
}  // namespace lineage::explain
