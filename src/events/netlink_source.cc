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

#include "core/clock.h"

namespace lineage::events {

namespace {

constexpr uint32_t kNoCpu = 0xffffffffu;  // acks carry cpu = -1
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

}  // namespace

NetlinkEventSource::NetlinkEventSource(const procfs::ProcReader& reader, UniqueFd sock,
                                       UniqueFd wake, bool include_threads)
    : decoder_(reader, include_threads), sock_(std::move(sock)), wake_(std::move(wake)) {
  decoder_.set_boot_minus_mono_ns(boot_minus_mono_ns());
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
  source->decoder_.decode(early_msgs, early);
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
    decoder_.set_boot_minus_mono_ns(boot_minus_mono_ns());
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
          decoder_.overrun(core::boot_now_ns(), batch);
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
    decoder_.decode(msgs, batch);
    publish(batch);
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
