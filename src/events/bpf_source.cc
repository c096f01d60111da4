#include "events/bpf_source.h"

#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "core/clock.h"
#include "core/entries.h"
#include "events/libbpf_util.h"
#include "procfs/reader.h"
#include "process_events.h"
#include "process_events.skel.h"

namespace lineage::events {
namespace {


// A string field of a record: at most cap bytes, to its NUL, and no longer
// than the length the record claims.
std::string bounded(const char* s, size_t cap, size_t claimed = SIZE_MAX) {
  return std::string(s, ::strnlen(s, std::min(cap, claimed)));  // no scan past the claimed length
}

core::Event from_header(const lineage_event_header& h, core::EventKind kind) {
  core::Event e;
  e.kind = kind;
  e.time_ns = h.time_ns;
  e.pid = h.pid;
  e.tid = h.tid;
  e.start_time_ns = h.start_time_ns;
  e.uid = h.uid;
  e.gid = h.gid;
  e.cgroup_id = h.cgroup_id;
  e.pidns = h.pidns;
  e.ns_pid = h.ns_pid;
  e.comm = bounded(h.comm, sizeof h.comm);
  return e;
}

// What the exec record says of the process that /proc would: the ids of
// status, the resolved paths of exe and cwd, the cgroup lines. A part the
// record does not hold whole is left unset (the reader of /proc says).
core::AtExec at_exec_of(const lineage_exec_event& r, const BpfEventSource::Options& o) {
  constexpr uint32_t kIds = LINEAGE_IDS_SESSION | LINEAGE_IDS_CREDS;
  core::AtExec a;
  if ((r.id_flags & kIds) == kIds) {
    core::StatusInfo st;
    st.uid = {r.ruid, r.h.uid, r.suid, r.fsuid};
    st.gid = {r.rgid, r.h.gid, r.sgid, r.fsgid};
    st.cap_effective = r.cap_effective;
    st.tracer_pid = r.tracer_pid;
    a.status = std::move(st);
  }
  auto path = [](const char* s, uint32_t len) { return bounded(s, LINEAGE_PATH_LEN, len); };
  if (r.path_flags & LINEAGE_PATH_EXE) {
    a.exe = core::ExeInfo{path(r.exe_path, r.exe_path_len), (r.path_flags & LINEAGE_PATH_EXE_DELETED) != 0};
  }
  if (r.path_flags & LINEAGE_PATH_CWD) {
    a.cwd = path(r.cwd, r.cwd_len);
    if (r.path_flags & LINEAGE_PATH_CWD_DELETED) *a.cwd += " (deleted)";
  }
  if (o.cgroup_paths) {
    std::vector<core::CgroupEntry> lines;  // in /proc's order: the highest hierarchy first
    bool whole = true;
    if (o.systemd_hierarchy != 0) {
      whole &= (r.path_flags & LINEAGE_PATH_SYSTEMD_CGROUP) != 0;
      lines.push_back({o.systemd_hierarchy, "name=systemd", path(r.systemd_cgroup, r.systemd_cgroup_len)});
    }
    if (o.unified_hierarchy) {
      whole &= (r.path_flags & LINEAGE_PATH_CGROUP) != 0;
      lines.push_back({0, "", path(r.cgroup, r.cgroup_len)});
    }
    if (whole && !lines.empty()) a.cgroups = std::move(lines);
  }
  return a;
}

}  // namespace

std::string kept_entries(std::string_view area, const std::function<bool(std::string_view)>& keep) {
  std::string out;
  core::for_each_entry(area, [&](std::string_view entry) {
    if (!keep(entry)) return;
    if (!out.empty()) out += '\0';
    out += entry;
  });
  return out;
}

std::vector<std::string> split_args(const char* data, size_t len) {
  std::vector<std::string> args;
  size_t begin = 0;
  while (begin < len) {
    const void* nul = std::memchr(data + begin, '\0', len - begin);
    size_t end = nul ? size_t(static_cast<const char*>(nul) - data) : len;
    args.emplace_back(data + begin, end - begin);
    begin = end + 1;
  }
  return args;
}

void BpfEventSource::SkeletonDeleter::operator()(process_events_bpf* skel) const {
  process_events_bpf__destroy(skel);  // detaches the links and closes the maps
}

void BpfEventSource::RingDeleter::operator()(ring_buffer* ring) const { ring_buffer__free(ring); }

BpfEventSource::~BpfEventSource() = default;

Result<std::unique_ptr<BpfEventSource>> BpfEventSource::open(const Options& options) {
  long page = ::sysconf(_SC_PAGESIZE);
  uint32_t ring = options.ring_bytes;
  if (ring == 0 || (ring & (ring - 1)) != 0 || (page > 0 && ring % uint32_t(page) != 0))
    return usage_error("bpf: ring buffer size must be a power of two and a multiple of the page size");

  std::string log;
  LibbpfLogCapture capture(&log);
  std::unique_ptr<BpfEventSource> source(new BpfEventSource());

  source->skel_.reset(process_events_bpf__open());
  if (!source->skel_) return bpf_load_error("bpf", "open", errno, log);
  process_events_bpf* skel = source->skel_.get();

  skel->rodata->include_threads = options.include_threads;
  skel->rodata->include_environ = options.include_environ;
  skel->rodata->include_paths = options.include_paths;
  if (options.view_pidns != procfs::ProcReader::kInitialPidNamespace) {
    skel->rodata->view_pidns = static_cast<uint32_t>(options.view_pidns);
  }
  skel->rodata->systemd_hierarchy = options.cgroup_paths ? options.systemd_hierarchy : 0;
  source->options_ = options;
  if (int err = bpf_map__set_max_entries(skel->maps.events, ring); err != 0)
    return bpf_load_error("bpf", "size ring buffer", err, log);

  if (int err = process_events_bpf__load(skel); err != 0) return bpf_load_error("bpf", "load", err, log);
  if (int err = process_events_bpf__attach(skel); err != 0) return bpf_load_error("bpf", "attach", err, log);

  source->ring_.reset(ring_buffer__new(bpf_map__fd(skel->maps.events), &BpfEventSource::on_record,
                                       source.get(), nullptr));
  if (!source->ring_) return bpf_load_error("bpf", "ring buffer", errno, log);
  return source;
}

Result<size_t> BpfEventSource::poll(std::vector<core::Event>& out, int timeout_ms) {
  size_t before = out.size();
  sink_ = &out;
  int n = ring_buffer__poll(ring_.get(), timeout_ms);
  sink_ = nullptr;
  if (n < 0 && n != -EINTR)
    return Error{ErrorKind::kInternal, std::string("bpf: ring buffer poll: ") + std::strerror(-n)};

  uint64_t lost = kernel_lost();
  if (lost > lost_reported_) {
    core::Event e;
    e.kind = core::EventKind::kLost;
    e.time_ns = core::boot_now_ns();
    e.lost = lost - lost_reported_;
    lost_reported_ = lost;
    out.push_back(std::move(e));
  }
  return out.size() - before;
}

SourceStats BpfEventSource::stats() const {
  SourceStats s = stats_;
  s.lost = kernel_lost() + malformed_;
  return s;
}

int BpfEventSource::on_record(void* self, void* data, size_t size) {
  static_cast<BpfEventSource*>(self)->handle(data, size);
  return 0;
}

void BpfEventSource::handle(const void* data, size_t size) {
  lineage_event_header h;
  if (size < sizeof h) {
    ++malformed_;
    return;
  }
  std::memcpy(&h, data, sizeof h);  // ring records are 8-byte aligned; copy anyway
  switch (h.kind) {
    case LINEAGE_EVENT_FORK: {
      lineage_fork_event r;
      if (size < sizeof r) break;
      std::memcpy(&r, data, sizeof r);
      core::Event e = from_header(r.h, core::EventKind::kFork);
      e.ppid = r.ppid;
      e.parent_start_time_ns = r.parent_start_time_ns;
      e.thread = (r.flags & LINEAGE_FLAG_THREAD) != 0;
      e.thread_start_time_ns = e.thread ? r.thread_start_time_ns : 0;
      ++stats_.forks;
      sink_->push_back(std::move(e));
      return;
    }
    case LINEAGE_EVENT_EXEC: {
      // Without include_paths the record ends at exe_path, without
      // include_environ at env_size.
      if (size < offsetof(lineage_exec_event, exe_path)) break;
      // Large record: read it in place instead of copying to the stack.
      const auto* r = static_cast<const lineage_exec_event*>(data);
      core::Event e = from_header(r->h, core::EventKind::kExec);
      e.exe = bounded(r->exe, sizeof r->exe, r->exe_len);
      e.interpreter = bounded(r->interp, sizeof r->interp, r->interp_len);
      e.argv = split_args(r->args, std::min<size_t>(r->args_len, sizeof r->args));
      e.argv_complete = r->args_len < sizeof r->args;  // a full record may have been cut
      // The kernel's dev_t (major << 20 | minor) in stat(2)'s encoding (the
      // filesystem's device: a btrfs subvolume's st_dev differs).
      e.exe_dev = r->exe_ino ? ::makedev(r->exe_dev >> 20, r->exe_dev & 0xfffff) : 0;
      e.exe_ino = r->exe_ino;
      e.exe_ctime_ns = r->exe_ctime_ns;
      if (e.interpreter.empty() && e.exe_ino) {
        e.interpreter = interpreters_.elf_loader(e, local_filesystem(r->exe_fs_magic));
      }
      if (r->id_flags & LINEAGE_IDS_SESSION) {
        e.has_session_ids = true;
        e.sid = r->sid, e.pgid = r->pgid, e.tty_nr = r->tty_nr, e.ruid = r->ruid;
      }
      if (r->id_flags & LINEAGE_IDS_LOGIN) {
        e.has_login_uid = true;
        e.login_uid = r->login_uid;
      }
      if (size >= offsetof(lineage_exec_event, env_size)) e.at_exec = at_exec_of(*r, options_);
      if (size >= sizeof(lineage_exec_event)) {
        size_t n = std::min<size_t>(r->env_len, sizeof r->env);
        if (options_.keep_environ) e.environ = kept_entries(std::string_view(r->env, n), options_.keep_environ);
        else e.environ.assign(r->env, n);
        e.has_environ = true;
        // Read whole, or cut at the record's end (then /proc may say the rest).
        e.environ_complete = r->env_len > 0 ? n == r->env_size : r->env_size == 0;
      }
      ++stats_.execs;
      sink_->push_back(std::move(e));
      return;
    }
    case LINEAGE_EVENT_EXIT: {
      lineage_exit_event r;
      if (size < sizeof r) break;
      std::memcpy(&r, data, sizeof r);
      core::Event e = from_header(r.h, core::EventKind::kExit);
      e.exit_code = r.exit_code;
      e.thread = (r.flags & LINEAGE_FLAG_THREAD) != 0;
      if (e.thread) {
        e.thread_start_time_ns = r.thread_start_time_ns;
      } else {
        e.ppid = r.ppid;
        e.parent_start_time_ns = r.parent_start_time_ns;
        e.reaper_pid = r.reaper;
        e.reaper_start_time_ns = r.reaper_start_time_ns;
        e.cpu_ns = r.cpu_ns;
      }
      ++stats_.exits;
      sink_->push_back(std::move(e));
      return;
    }
    default:
      break;
  }
  ++malformed_;
}

uint64_t BpfEventSource::kernel_lost() const {
  // The program's .bss, mapped into this process by libbpf: no syscall.
  uint64_t total = 0;
  // One slot per CPU, each on its own cache line (the rest of the line is 0).
  for (const auto& n : skel_->bss->lost_records) total += __atomic_load_n(&n, __ATOMIC_RELAXED);
  return total;
}

}  // namespace lineage::events
