#include "events/netlink_decoder.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <unordered_map>

namespace lineage::events {

namespace {

constexpr uint32_t kNoCpu = 0xffffffffu;  // acks carry cpu = -1
constexpr size_t kMaxCpus = 8192;          // bound on the per-cpu sequence table
constexpr size_t kEventHeader = offsetof(proc_event, event_data);

// Bytes of event_data each event type needs; shorter messages are malformed.
// The exit event grew parent_pid/parent_tgid in Linux 5.x: not required.
size_t required_size(uint32_t what) {
  switch (what) {
    case proc_event::PROC_EVENT_NONE: return kEventHeader + sizeof(proc_event{}.event_data.ack);
    case proc_event::PROC_EVENT_FORK: return kEventHeader + sizeof(proc_event{}.event_data.fork);
    case proc_event::PROC_EVENT_EXEC: return kEventHeader + sizeof(proc_event{}.event_data.exec);
    case proc_event::PROC_EVENT_EXIT:
      return offsetof(proc_event, event_data.exit.parent_pid);
    default: return kEventHeader;
  }
}

// Decodes one cn_msg payload (already bounded by its nlmsghdr).
bool parse_cn_msg(const unsigned char* p, size_t len, ProcMessage& out) {
  if (len < sizeof(cn_msg)) return false;
  cn_msg msg;
  std::memcpy(&msg, p, sizeof msg);
  if (msg.id.idx != CN_IDX_PROC || msg.id.val != CN_VAL_PROC) return false;
  if (msg.len > len - sizeof(cn_msg) || msg.len < kEventHeader) return false;
  proc_event ev;
  std::memset(&ev, 0, sizeof ev);
  std::memcpy(&ev, p + sizeof(cn_msg), std::min<size_t>(msg.len, sizeof ev));
  uint32_t what = 0;
  std::memcpy(&what, p + sizeof(cn_msg) + offsetof(proc_event, what), sizeof what);
  if (msg.len < required_size(what)) return false;

  out = {};
  out.cpu = ev.cpu;
  out.seq = msg.seq;
  out.ack = msg.ack;
  out.timestamp_ns = ev.timestamp_ns;
  switch (what) {
    case proc_event::PROC_EVENT_NONE:
      out.type = ProcMessage::Type::kAck;
      out.ack_err = ev.event_data.ack.err;
      break;
    case proc_event::PROC_EVENT_FORK: {
      const auto& f = ev.event_data.fork;
      // A new thread shares its tgid with the parent: not a new process.
      out.type = f.child_pid == f.child_tgid ? ProcMessage::Type::kFork : ProcMessage::Type::kThreadFork;
      out.pid = f.child_tgid;
      out.tid = f.child_pid;
      out.ppid = f.parent_tgid;
      break;
    }
    case proc_event::PROC_EVENT_EXEC:
      out.type = ProcMessage::Type::kExec;
      out.pid = ev.event_data.exec.process_tgid;
      out.tid = ev.event_data.exec.process_pid;
      break;
    case proc_event::PROC_EVENT_EXIT: {
      const auto& x = ev.event_data.exit;
      // Only the leader's exit is the process's: other threads die first.
      out.type = x.process_pid == x.process_tgid ? ProcMessage::Type::kExit
                                                 : ProcMessage::Type::kThreadExit;
      out.pid = x.process_tgid;
      out.tid = x.process_pid;
      out.exit_code = static_cast<int32_t>(x.exit_code);
      if (msg.len >= kEventHeader + sizeof(ev.event_data.exit)) out.ppid = x.parent_tgid;
      break;
    }
    default: out.type = ProcMessage::Type::kOther; break;
  }
  // Pids are positive; a message that says otherwise is not from the kernel.
  bool needs_pid = out.type == ProcMessage::Type::kFork || out.type == ProcMessage::Type::kExec ||
                   out.type == ProcMessage::Type::kExit || out.type == ProcMessage::Type::kThreadFork ||
                   out.type == ProcMessage::Type::kThreadExit;
  if (needs_pid && (out.pid <= 0 || out.tid <= 0 || out.ppid < 0)) return false;
  return true;
}

}  // namespace

std::vector<ProcMessage> parse_proc_datagram(const void* data, size_t len, size_t* malformed) {
  std::vector<ProcMessage> out;
  size_t bad = 0;
  const auto* p = static_cast<const unsigned char*>(data);
  while (len >= sizeof(nlmsghdr)) {
    nlmsghdr hdr;
    std::memcpy(&hdr, p, sizeof hdr);
    if (hdr.nlmsg_len < NLMSG_HDRLEN || hdr.nlmsg_len > len) {
      ++bad;  // the rest of the datagram cannot be framed
      len = 0;
      break;
    }
    if (hdr.nlmsg_type == NLMSG_DONE || hdr.nlmsg_type >= NLMSG_MIN_TYPE) {
      // The connector sends its messages as NLMSG_DONE.
      ProcMessage m;
      if (parse_cn_msg(p + NLMSG_HDRLEN, hdr.nlmsg_len - NLMSG_HDRLEN, m)) {
        out.push_back(m);
      } else {
        ++bad;
      }
    } else if (hdr.nlmsg_type == NLMSG_ERROR) {
      ++bad;
    }
    size_t step = std::min<size_t>(NLMSG_ALIGN(hdr.nlmsg_len), len);
    p += step;
    len -= step;
  }
  if (len != 0) ++bad;
  if (malformed) *malformed += bad;
  return out;
}

// ---- decoder ---------------------------------------------------------------

// The messages of one batch, grouped into process lives.
struct NetlinkDecoder::Batch {
  struct Life {  // one process (pid incarnation) within the batch
    uint64_t first_ns = 0, start_ns = 0;
    std::string comm;
    bool exited = false, execs = false, read = false;
    bool still_running = false;  // "exited", yet /proc shows it running: a leader thread's end
  };
  explicit Batch(size_t n) : life(n, -1), parent(n, -1), events(n), thread_event(n, false) {}

  std::vector<Life> lives;
  std::vector<int> life, parent;  // per message: its life, its fork parent's life (-1: none)
  std::vector<core::Event> events;
  std::vector<bool> thread_event;
};

NetlinkDecoder::NetlinkDecoder(const procfs::ProcReader& reader, bool include_threads)
    : reader_(reader), include_threads_(include_threads), tick_ns_(reader.tick_ns()) {}

void NetlinkDecoder::overrun(uint64_t time_ns, std::vector<core::Event>& out) {
  ++lost_credit_;
  core::Event lost;
  lost.kind = core::EventKind::kLost;
  lost.time_ns = time_ns;
  lost.lost = 1;
  out.push_back(lost);
}

void NetlinkDecoder::decode(const void* datagram, size_t len, std::vector<core::Event>& out) {
  size_t malformed = 0;
  decode(parse_proc_datagram(datagram, len, &malformed), out);
}

void NetlinkDecoder::decode(const std::vector<ProcMessage>& msgs, std::vector<core::Event>& out) {
  Batch b(msgs.size());
  sort_into_lives(msgs, b, out);
  read_exec_details(b);
  read_start_times(b);
  read_fork_parents(b);
  emit(b, out);
}

void NetlinkDecoder::count_gap(const ProcMessage& m, std::vector<core::Event>& out) {
  if (m.cpu == kNoCpu || m.cpu >= kMaxCpus) return;
  if (next_seq_.size() <= m.cpu) next_seq_.resize(m.cpu + 1);
  std::optional<uint32_t>& next = next_seq_[m.cpu];
  if (next && m.seq != *next) {
    uint32_t gap = m.seq - *next;  // modulo 2^32
    if (gap < (1u << 30)) {  // a huge "gap" is a reordered or foreign message
      uint64_t credited = std::min<uint64_t>(gap, lost_credit_);
      lost_credit_ -= credited;
      if (gap > credited) {
        core::Event lost;
        lost.kind = core::EventKind::kLost;
        lost.time_ns = boot_ns(m);
        lost.lost = gap - credited;
        out.push_back(lost);
      }
    }
  }
  next = m.seq + 1;
}

core::Event NetlinkDecoder::thread_event(const ProcMessage& m) const {
  // A thread: nothing to read from /proc; its start is the event's time.
  core::Event e;
  e.kind = m.type == ProcMessage::Type::kThreadFork ? core::EventKind::kFork : core::EventKind::kExit;
  e.thread = true;
  e.time_ns = boot_ns(m);
  e.pid = m.pid;
  e.tid = m.tid;
  e.thread_start_time_ns = e.kind == core::EventKind::kFork ? e.time_ns : 0;
  return e;
}

// Each process message becomes an event of one life (a fork starts a new
// one; a pid seen first by exec or exit starts one too); gaps are counted.
void NetlinkDecoder::sort_into_lives(const std::vector<ProcMessage>& msgs, Batch& b, std::vector<core::Event>& out) {
  std::unordered_map<int32_t, int> current;  // pid → its latest life
  for (size_t i = 0; i < msgs.size(); ++i) {
    const ProcMessage& m = msgs[i];
    count_gap(m, out);  // acks too: newer kernels number them like events
    if ((m.type == ProcMessage::Type::kThreadFork || m.type == ProcMessage::Type::kThreadExit) &&
        include_threads_) {
      b.events[i] = thread_event(m);
      b.thread_event[i] = true;
      continue;
    }
    if (m.type != ProcMessage::Type::kFork && m.type != ProcMessage::Type::kExec &&
        m.type != ProcMessage::Type::kExit) {
      continue;
    }
    core::Event& e = b.events[i];
    e.time_ns = boot_ns(m);
    e.pid = m.pid;
    e.tid = m.tid;
    e.ppid = m.ppid;
    auto it = current.find(m.pid);
    if (m.type == ProcMessage::Type::kFork || it == current.end()) {
      b.lives.push_back(Batch::Life{e.time_ns, 0, {}, false, false, false, false});
      it = current.insert_or_assign(m.pid, static_cast<int>(b.lives.size() - 1)).first;
    }
    b.life[i] = it->second;
    if (m.type == ProcMessage::Type::kFork) {
      e.kind = core::EventKind::kFork;
      if (auto p = current.find(m.ppid); p != current.end()) b.parent[i] = p->second;
    } else if (m.type == ProcMessage::Type::kExec) {
      e.kind = core::EventKind::kExec;
      b.lives[b.life[i]].execs = true;
    } else {
      e.kind = core::EventKind::kExit;
      e.exit_code = m.exit_code;
      b.lives[b.life[i]].exited = true;
      current.erase(it);
    }
  }
}

// Exec details, while the process lives (an exit in the batch: too late).
void NetlinkDecoder::read_exec_details(Batch& b) {
  for (size_t i = 0; i < b.events.size(); ++i) {
    if (b.life[i] < 0 || b.events[i].kind != core::EventKind::kExec || b.lives[b.life[i]].exited) continue;
    core::Event& e = b.events[i];
    e.ppid = 0;
    auto p = reader_.read(e.pid, core::kFieldStatus | core::kFieldCmdline | core::kFieldExe);
    // A process that started after the event is a reuse of the pid.
    if (!p || p->key.start_time_ns > e.time_ns + tick_ns_) continue;
    e.from_proc = true;
    e.start_time_ns = p->key.start_time_ns;
    e.ppid = p->stat.ppid;
    e.comm = std::move(p->stat.comm);
    if (p->exe) e.exe = std::move(p->exe->path);
    if (p->argv) e.argv = std::move(*p->argv), e.argv_complete = !p->argv_truncated;
    ExeIdentity id = exe_identity(reader_.root(), e.pid);
    e.exe_dev = id.dev;
    e.exe_ino = id.ino;
    e.exe_ctime_ns = id.ctime_ns;
    e.interpreter = interpreters_.elf_loader(e, id.mount_id && local_filesystem(mount_types_.type(id.mount_id)));
    if (p->status) {
      e.uid = p->status->uid.real;
      e.gid = p->status->gid.real;
      if (!p->status->ns_pids.empty()) e.ns_pid = p->status->ns_pids.back();
    }
    b.lives[b.life[i]].start_ns = e.start_time_ns;
    b.lives[b.life[i]].read = true;
  }
}

// Start times (and comm) of the rest, from stat: a zombie still has it.
void NetlinkDecoder::read_start_times(Batch& b) {
  for (size_t i = 0; i < b.events.size(); ++i) {
    if (b.life[i] < 0 || b.lives[b.life[i]].read) continue;
    Batch::Life& l = b.lives[b.life[i]];
    l.read = true;
    auto p = reader_.read(b.events[i].pid, core::kFieldStat);
    if (!p || p->key.start_time_ns > l.first_ns + tick_ns_) continue;
    l.start_ns = p->key.start_time_ns;
    l.comm = std::move(p->stat.comm);
    // The connector reports the leader thread's exit as pid == tgid also
    // when another thread exec'd and took the leader's place (de_thread):
    // the process runs on, not a zombie. (A leader that called
    // pthread_exit() is a zombie beside its live threads and cannot be
    // told from a dying group here: that one still reads as an exit.)
    if (l.exited && p->stat.state != 'Z' && p->stat.state != 'X') l.still_running = true;
  }
}

// Start times of fork parents outside the batch, read once each.
void NetlinkDecoder::read_fork_parents(Batch& b) {
  std::unordered_map<int32_t, uint64_t> parent_start;
  for (size_t i = 0; i < b.events.size(); ++i) {
    if (b.life[i] < 0 || b.events[i].kind != core::EventKind::kFork) continue;
    core::Event& e = b.events[i];
    if (b.parent[i] >= 0) {
      e.parent_start_time_ns = b.lives[b.parent[i]].start_ns;
      continue;
    }
    auto [it, fresh] = parent_start.try_emplace(e.ppid, 0);
    if (fresh) {
      auto p = reader_.read(e.ppid, core::kFieldStat);
      if (p && p->key.start_time_ns <= e.time_ns + tick_ns_) it->second = p->key.start_time_ns;
    }
    e.parent_start_time_ns = it->second;
  }
}

// The events in message order, with what /proc said; a leader thread's
// exit of a process that runs on is dropped (and counted).
void NetlinkDecoder::emit(Batch& b, std::vector<core::Event>& out) {
  for (size_t i = 0; i < b.events.size(); ++i) {
    if (b.thread_event[i]) out.push_back(std::move(b.events[i]));
    if (b.life[i] < 0) continue;
    core::Event& e = b.events[i];
    const Batch::Life& l = b.lives[b.life[i]];
    if (e.kind == core::EventKind::kExit && l.still_running) {
      ++leader_exits_;
      continue;
    }
    e.start_time_ns = l.start_ns;
    // The child's comm at fork is its parent's; read later, stat may already
    // show the exec'd name, so only trust it when no exec is in the batch.
    if (e.kind == core::EventKind::kFork && !l.execs) e.comm = l.comm;
    if (e.kind == core::EventKind::kExec && !e.from_proc && !l.comm.empty()) {
      e.comm = l.comm;  // from the zombie: argv and exe are gone
      e.from_proc = true;
    }
    out.push_back(std::move(e));
  }
}

}  // namespace lineage::events
