#include "fake_procfs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace fs = std::filesystem;

namespace lineage::testing {

FakeProcfs::FakeProcfs(double uptime_seconds, uint64_t mem_total_kb) {
  std::string tmpl = (fs::temp_directory_path() / "fakeproc.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
  fs::permissions(root_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec);
  std::ofstream(root_ + "/uptime") << fmt::format("{:.2f} 1.00\n", uptime_seconds);
  std::ofstream(root_ + "/meminfo") << fmt::format("MemTotal:       {} kB\nMemFree: 1 kB\n", mem_total_kb);
}

FakeProcfs::~FakeProcfs() {
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string FakeProcfs::stat_line(const FakeProcess& p) {
  int pgid = p.pgid ? p.pgid : p.pid;
  int sid = p.sid ? p.sid : p.pid;
  // Fields 1..52 as in proc(5); the ones the reader ignores are zero.
  return fmt::format(
      "{} ({}) {} {} {} {} {} {} {} 0 0 0 0 {} {} 0 0 20 {} {} 0 {} {} {} "
      "18446744073709551615 {} {} {} 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
      p.pid, p.comm, p.state, p.ppid, pgid, sid, p.tty_nr, p.tpgid, p.flags, p.utime, p.stime,
      p.nice, p.threads, p.start_ticks, 4096 * 1024, p.rss_pages, p.start_code, p.end_code, p.start_stack);
}

FakeProcfs& FakeProcfs::add(const FakeProcess& p) {
  fs::create_directories(fmt::format("{}/{}", root_, p.pid));
  write(p.pid, "stat", stat_line(p));
  write(p.pid, "status",
        fmt::format("Name:\t{0}\nState:\t{1} (sleeping)\nPid:\t{2}\nPPid:\t{3}\n"
                    "Uid:\t{4}\t{4}\t{4}\t{4}\nGid:\t{4}\t{4}\t{4}\t{4}\nVmLck:\t       0 kB\n",
                    p.comm, p.state, p.pid, p.ppid, p.uid));
  std::string cmdline;
  for (const auto& arg : p.argv) {
    cmdline += arg;
    cmdline += '\0';
  }
  write(p.pid, "cmdline", cmdline);
  write(p.pid, "cgroup", p.cgroup);
  return *this;
}

void FakeProcfs::write(int pid, const std::string& name, const std::string& content) {
  fs::path path = fmt::format("{}/{}/{}", root_, pid, name);
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

void FakeProcfs::remove(int pid, const std::string& name) {
  fs::remove(fmt::format("{}/{}/{}", root_, pid, name));
}

void FakeProcfs::link(int pid, const std::string& name, const std::string& target) {
  fs::path path = fmt::format("{}/{}/{}", root_, pid, name);
  fs::create_directories(path.parent_path());
  fs::create_symlink(target, path);
}

}  // namespace lineage::testing
