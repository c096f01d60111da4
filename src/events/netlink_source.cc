#include "events/netlink_source.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <unordered_map>

#include "core/clock.h"

namespace lineage::events {

namespace {

constexpr uint32_t kNoCpu = 0xffffffffu;  // acks carry cpu = -1
constexpr size_t kMaxCpus = 8192;          // bound on the per-cpu sequence table
constexpr size_t kEventHeader = offsetof(proc_event, event_data);
constexpr int kAckTimeoutMs = 1000;
constexpr int kReaderNice = -10;

// The connector stamps events with ktime_get_ns(), which is CLOCK_MONOTONIC
// (the uapi comment's "since system boot" leaves out time spent suspended);
// our one clock is CLOCK_BOOTTIME, the clock of /proc start times. The
// difference is constant until the machine suspends, so it is measured when
// the source opens and again before each batch the reader thread handles.
int64_t boot_minus_mono_ns() {
  uint64_t mono = core::monotonic_now_ns();
  uint64_t boot = core::boot_now_ns();
  return static_cast<int64_t>(boot - mono);
}

Error errno_error(const char* what, int err) {
  ErrorKind kind = (err == EPERM || err == EACCES) ? ErrorKind::kPermission : ErrorKind::kInternal;
  std::string message = std::string("proc connector: ") + what + ": " + std::strerror(err);
  if (kind == ErrorKind::kPermission) message += " (needs root or CAP_NET_ADMIN)";
  return {kind, std::move(message)};
}

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

NetlinkEventSource::NetlinkEventSource(const procfs::ProcReader& reader, UniqueFd sock,
                                       UniqueFd wake, bool include_threads)
    : reader_(reader), include_threads_(include_threads), sock_(std::move(sock)), wake_(std::move(wake)) {
  tick_ns_ = reader_.tick_ns();
  boot_minus_mono_ns_ = boot_minus_mono_ns();
}

Result<std::unique_ptr<NetlinkEventSource>> NetlinkEventSource::open(
    const procfs::ProcReader& reader, bool include_threads) {
  UniqueFd sock(::socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR));
  if (!sock.valid()) return errno_error("socket", errno);
  // Bursts (a parallel build forks thousands of processes a second) must
  // fit while the reader thread reads /proc: ask for 8 MiB, forcing past
  // rmem_max as root, else take what the limit allows.
  int rcvbuf = 8 << 20;
  if (::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return errno_error("bind", errno);
  }
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) return errno_error("eventfd", errno);

  // Subscribe. The kernel answers on the multicast group with an ack that
  // carries our ack + 1; other listeners' acks are told apart by it.
  const uint32_t seq = static_cast<uint32_t>(::getpid());
  const uint32_t ack = static_cast<uint32_t>(core::monotonic_now_ns());
  nlmsghdr hdr{};
  hdr.nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(uint32_t));
  hdr.nlmsg_type = NLMSG_DONE;
  cn_msg msg{};
  msg.id.idx = CN_IDX_PROC;
  msg.id.val = CN_VAL_PROC;
  msg.seq = seq;
  msg.ack = ack;
  msg.len = sizeof(uint32_t);
  const uint32_t op = PROC_CN_MCAST_LISTEN;
  unsigned char req[NLMSG_LENGTH(sizeof(cn_msg) + sizeof(uint32_t))] = {};
  std::memcpy(req, &hdr, sizeof hdr);
  std::memcpy(req + NLMSG_HDRLEN, &msg, sizeof msg);
  std::memcpy(req + NLMSG_HDRLEN + sizeof msg, &op, sizeof op);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(sock.get(), &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0) {
    return errno_error("send PROC_CN_MCAST_LISTEN", errno);
  }

  std::unique_ptr<NetlinkEventSource> source(
      new NetlinkEventSource(reader, std::move(sock), std::move(wake), include_threads));
  // Events that arrive before the ack are kept, not dropped.
  std::vector<ProcMessage> early_msgs;
  alignas(nlmsghdr) unsigned char buf[8192];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kAckTimeoutMs);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return Error{ErrorKind::kPermission,
                   "proc connector: the kernel did not acknowledge PROC_CN_MCAST_LISTEN (it "
                   "ignores listeners outside the initial user and pid namespace)"};
    }
    pollfd pfd{source->sock_.get(), POLLIN, 0};
    int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) return errno_error("poll", errno);
    if (ready <= 0) continue;
    ssize_t n = ::recv(source->sock_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == ENOBUFS) continue;
      return errno_error("recv", errno);
    }
    size_t malformed = 0;
    bool acked = false;
    for (const ProcMessage& m : parse_proc_datagram(buf, static_cast<size_t>(n), &malformed)) {
      early_msgs.push_back(m);
      if (m.type != ProcMessage::Type::kAck || m.ack != ack + 1) continue;
      // Older kernels echo our seq with cpu = -1; newer ones stamp the ack
      // with their per-cpu counter like any event. ack + 1 identifies ours.
      if (m.cpu == kNoCpu && m.seq != seq) continue;
      if (m.ack_err != 0) return errno_error("PROC_CN_MCAST_LISTEN", static_cast<int>(m.ack_err));
      acked = true;
    }
    if (acked) break;
  }
  std::vector<core::Event> early;
  source->enrich(early_msgs, early);
  source->publish(early);
  source->thread_ = std::thread([s = source.get()] { s->run(); });
  return source;
}

NetlinkEventSource::~NetlinkEventSource() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t ignored = ::write(wake_.get(), &one, sizeof one);
    (void)ignored;
    thread_.join();
  }
}

void NetlinkEventSource::run() {
  // A datagram from the connector is one small message; 64 KiB leaves room
  // for a kernel that batches several.
  std::vector<unsigned char> storage(64 * 1024 + NLMSG_ALIGNTO);
  unsigned char* buf = storage.data();
  std::vector<core::Event> batch;
  // Exec details are read from /proc while the process lives, so this
  // thread must run soon after a datagram arrives, also when a fork storm
  // keeps every core busy (on 2 cores, 200 quick /bin/true children delay
  // it by 10-70 ms at nice 0). A higher weight (best effort: it needs
  // CAP_SYS_NICE) lets it preempt them; it sleeps whenever the socket is empty.
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kReaderNice);
  for (;;) {
    pollfd fds[2] = {{sock_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return fail(errno_error("poll", errno));
    }
    if (fds[1].revents & POLLIN) return;
    boot_minus_mono_ns_ = boot_minus_mono_ns();
    // Drain what is queued (bounded, so a storm still gets handled in
    // slices), then read /proc for the whole slice, most urgent first.
    std::vector<ProcMessage> msgs;
    for (int i = 0; i < 256; ++i) {
      sockaddr_nl from{};
      iovec iov{buf, storage.size() - NLMSG_ALIGNTO};
      msghdr mh{};
      mh.msg_name = &from;
      mh.msg_namelen = sizeof from;
      mh.msg_iov = &iov;
      mh.msg_iovlen = 1;
      ssize_t n = ::recvmsg(sock_.get(), &mh, MSG_DONTWAIT);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == ENOBUFS) {
          // The socket overflowed: at least one event is gone. The exact
          // number shows as gaps in the per-cpu sequence numbers; the one
          // counted here is credited against the first gap.
          ++overruns_;
          ++lost_credit_;
          core::Event lost;
          lost.kind = core::EventKind::kLost;
          lost.time_ns = core::boot_now_ns();
          lost.lost = 1;
          batch.push_back(lost);
          continue;
        }
        return fail(errno_error("recv", errno));
      }
      // Only the kernel (port id 0) speaks for the connector; anyone can
      // send a unicast datagram to our port.
      if (mh.msg_namelen < sizeof from || from.nl_pid != 0 || (mh.msg_flags & MSG_TRUNC)) continue;
      size_t malformed = 0;
      for (const ProcMessage& m : parse_proc_datagram(buf, static_cast<size_t>(n), &malformed)) {
        msgs.push_back(m);
      }
    }
    enrich(msgs, batch);
    publish(batch);
  }
}

void NetlinkEventSource::count_gap(const ProcMessage& m, std::vector<core::Event>& batch) {
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
        lost.time_ns = m.timestamp_ns + static_cast<uint64_t>(boot_minus_mono_ns_);
        lost.lost = gap - credited;
        batch.push_back(lost);
      }
    }
  }
  next = m.seq + 1;
}

// Turns a drained batch of messages into events. /proc is read in order of
// urgency: exec details first (argv and exe vanish when the process exits),
// then start times, which last while a zombie is unreaped. A process that
// appears several times in the batch (fork, exec, exit) is read once.
void NetlinkEventSource::enrich(const std::vector<ProcMessage>& msgs, std::vector<core::Event>& batch) {
  struct Life {  // one process (pid incarnation) within the batch
    uint64_t first_ns = 0, start_ns = 0;
    std::string comm;
    bool exited = false, execs = false, read = false;
    bool still_running = false;  // "exited", yet /proc shows it running: a leader thread's end
  };
  std::vector<Life> lives;
  std::vector<int> life(msgs.size(), -1), parent(msgs.size(), -1);
  std::vector<core::Event> events(msgs.size());
  std::vector<bool> thread_event(msgs.size(), false);
  std::unordered_map<int32_t, int> current;  // pid → its latest life
  for (size_t i = 0; i < msgs.size(); ++i) {
    const ProcMessage& m = msgs[i];
    count_gap(m, batch);  // acks too: newer kernels number them like events
    if ((m.type == ProcMessage::Type::kThreadFork || m.type == ProcMessage::Type::kThreadExit) &&
        include_threads_) {
      // A thread: nothing to read from /proc; its start is the event's time.
      core::Event& e = events[i];
      e.kind = m.type == ProcMessage::Type::kThreadFork ? core::EventKind::kFork : core::EventKind::kExit;
      e.thread = true;
      e.time_ns = m.timestamp_ns + static_cast<uint64_t>(boot_minus_mono_ns_);
      e.pid = m.pid;
      e.tid = m.tid;
      e.thread_start_time_ns = e.kind == core::EventKind::kFork ? e.time_ns : 0;
      thread_event[i] = true;
      continue;
    }
    if (m.type != ProcMessage::Type::kFork && m.type != ProcMessage::Type::kExec &&
        m.type != ProcMessage::Type::kExit) {
      continue;
    }
    core::Event& e = events[i];
    e.time_ns = m.timestamp_ns + static_cast<uint64_t>(boot_minus_mono_ns_);
    e.pid = m.pid;
    e.tid = m.tid;
    e.ppid = m.ppid;
    auto it = current.find(m.pid);
    if (m.type == ProcMessage::Type::kFork || it == current.end()) {
      lives.push_back(Life{e.time_ns, 0, {}, false, false, false, false});
      it = current.insert_or_assign(m.pid, static_cast<int>(lives.size() - 1)).first;
    }
    life[i] = it->second;
    if (m.type == ProcMessage::Type::kFork) {
      e.kind = core::EventKind::kFork;
      if (auto p = current.find(m.ppid); p != current.end()) parent[i] = p->second;
    } else if (m.type == ProcMessage::Type::kExec) {
      e.kind = core::EventKind::kExec;
      lives[life[i]].execs = true;
    } else {
      e.kind = core::EventKind::kExit;
      e.exit_code = m.exit_code;
      lives[life[i]].exited = true;
      current.erase(it);
    }
  }
  // 1. Exec details, while the process lives (an exit in the batch: too late).
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (life[i] < 0 || events[i].kind != core::EventKind::kExec || lives[life[i]].exited) continue;
    core::Event& e = events[i];
    e.ppid = 0;
    auto p = reader_.read(e.pid, core::kFieldStatus | core::kFieldCmdline | core::kFieldExe);
    // A process that started after the event is a reuse of the pid.
    if (!p || p->key.start_time_ns > e.time_ns + tick_ns_) continue;
    e.from_proc = true;
    e.start_time_ns = p->key.start_time_ns;
    e.ppid = p->stat.ppid;
    e.comm = std::move(p->stat.comm);
    if (p->exe) e.exe = std::move(p->exe->path);
    if (p->argv) e.argv = std::move(*p->argv);
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
    lives[life[i]].start_ns = e.start_time_ns;
    lives[life[i]].read = true;
  }
  // 2. Start times (and comm) of the rest, from stat: a zombie still has it.
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (life[i] < 0 || lives[life[i]].read) continue;
    Life& l = lives[life[i]];
    l.read = true;
    auto p = reader_.read(events[i].pid, core::kFieldStat);
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
  // 3. Parents outside the batch, once each.
  std::unordered_map<int32_t, uint64_t> parent_start;
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (life[i] < 0 || events[i].kind != core::EventKind::kFork) continue;
    core::Event& e = events[i];
    if (parent[i] >= 0) {
      e.parent_start_time_ns = lives[parent[i]].start_ns;
      continue;
    }
    auto [it, fresh] = parent_start.try_emplace(e.ppid, 0);
    if (fresh) {
      auto p = reader_.read(e.ppid, core::kFieldStat);
      if (p && p->key.start_time_ns <= e.time_ns + tick_ns_) it->second = p->key.start_time_ns;
    }
    e.parent_start_time_ns = it->second;
  }
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (thread_event[i]) batch.push_back(std::move(events[i]));
    if (life[i] < 0) continue;
    core::Event& e = events[i];
    const Life& l = lives[life[i]];
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
    batch.push_back(std::move(e));
  }
}

void NetlinkEventSource::publish(std::vector<core::Event>& batch) {
  if (batch.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (core::Event& e : batch) {
      switch (e.kind) {
        case core::EventKind::kFork: ++stats_.forks; break;
        case core::EventKind::kExec: ++stats_.execs; break;
        case core::EventKind::kExit: ++stats_.exits; break;
        case core::EventKind::kLost: stats_.lost += e.lost; break;
      }
      if (queue_.size() >= kMaxQueued) {
        // The consumer is not keeping up: keep the older events, count the rest.
        if (e.kind == core::EventKind::kLost) {
          dropped_ += e.lost;
        } else {
          ++dropped_;
          ++stats_.lost;
        }
        continue;
      }
      queue_.push_back(std::move(e));
    }
  }
  batch.clear();
  ready_.notify_one();
}

void NetlinkEventSource::fail(Error error) {
  {
    std::lock_guard lock(mu_);
    error_ = std::move(error);
  }
  ready_.notify_one();
}

Result<size_t> NetlinkEventSource::poll(std::vector<core::Event>& out, int timeout_ms) {
  std::unique_lock lock(mu_);
  auto has_news = [&] { return !queue_.empty() || dropped_ != 0 || error_.has_value(); };
  if (timeout_ms < 0) {
    ready_.wait(lock, has_news);
  } else {
    ready_.wait_for(lock, std::chrono::milliseconds(timeout_ms), has_news);
  }
  size_t n = queue_.size();
  for (core::Event& e : queue_) out.push_back(std::move(e));
  queue_.clear();
  if (dropped_ != 0) {
    core::Event lost;
    lost.kind = core::EventKind::kLost;
    lost.time_ns = core::boot_now_ns();
    lost.lost = dropped_;
    out.push_back(lost);
    dropped_ = 0;
    ++n;
  }
  if (n == 0 && error_) return *error_;
  return n;
}

SourceStats NetlinkEventSource::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace lineage::events
