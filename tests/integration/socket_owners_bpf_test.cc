// The BPF socket-owner iterator against real sockets: the test listens on
// loopback, forks a child that holds the accepted connection on a chosen fd,
// and asks the kernel who holds each socket.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "events/socket_owners_bpf.h"

namespace lineage::events {
namespace {

uint64_t socket_inode(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? st.st_ino : 0;
}

bool holds(const std::vector<SocketHolder>& holders, int32_t pid, int32_t fd, uint64_t inode) {
  return std::any_of(holders.begin(), holders.end(), [&](const SocketHolder& h) {
    return h.pid == pid && h.fd == fd && h.inode == inode;
  });
}

class SocketOwnersBpfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A socket of our own: if the kernel refuses the program, skip.
    UniqueFd probe(::socket(AF_INET, SOCK_STREAM, 0));
    ASSERT_TRUE(probe.valid());
    auto got = find_socket_holders_bpf({socket_inode(probe.get())});
    if (!got.ok()) {
      if (got.error().kind == ErrorKind::kPermission)
        GTEST_SKIP() << "the kernel refuses BPF here: " << got.error().message;
      if (got.error().message.find("initial pid namespace") != std::string::npos)
        GTEST_SKIP() << got.error().message;
      FAIL() << got.error().message;
    }
  }
};

TEST_F(SocketOwnersBpfTest, FindsListenerAndForkedChildHoldingAcceptedSocket) {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(listener.valid());
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&addr), &len), 0);

  UniqueFd client(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  UniqueFd accepted(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  ASSERT_TRUE(accepted.valid());

  // The child keeps the accepted socket on a high fd of its own and waits.
  constexpr int kChildFd = 77;
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::dup2(accepted.get(), kChildFd) != kChildFd) ::_exit(1);
    ::close(accepted.get());
    ::close(ready[0]);
    char c = 'r';
    if (::write(ready[1], &c, 1) != 1) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);

  const int32_t self = int32_t(::getpid());
  const uint64_t listen_ino = socket_inode(listener.get());
  const uint64_t accepted_ino = socket_inode(accepted.get());
  auto got = find_socket_holders_bpf({listen_ino, accepted_ino});
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(got.ok()) << got.error().message;

  EXPECT_TRUE(holds(*got, self, listener.get(), listen_ino));
  EXPECT_TRUE(holds(*got, self, accepted.get(), accepted_ino));
  EXPECT_TRUE(holds(*got, child, kChildFd, accepted_ino));
  // fork copied the listener too (CLOEXEC only acts at exec), same fd.
  EXPECT_TRUE(holds(*got, child, listener.get(), listen_ino));
  for (const auto& h : *got) {
    EXPECT_TRUE(h.pid == self || h.pid == child) << "unexpected holder pid " << h.pid;
    EXPECT_TRUE(h.inode == listen_ino || h.inode == accepted_ino);
  }
  EXPECT_EQ(got->size(), 4u);
}

TEST_F(SocketOwnersBpfTest, OneEntryPerProcessForDuplicatedFds) {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(sock.valid());
  UniqueFd dup(::fcntl(sock.get(), F_DUPFD_CLOEXEC, 100));
  ASSERT_TRUE(dup.valid());
  const uint64_t ino = socket_inode(sock.get());
  auto got = find_socket_holders_bpf({ino});
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].pid, int32_t(::getpid()));
  EXPECT_EQ((*got)[0].fd, std::min(sock.get(), dup.get()));
  EXPECT_EQ((*got)[0].inode, ino);
}

TEST_F(SocketOwnersBpfTest, InodeNobodyHoldsGivesNothing) {
  uint64_t gone;
  {
    UniqueFd sock(::socket(AF_INET, SOCK_STREAM, 0));
    ASSERT_TRUE(sock.valid());
    gone = socket_inode(sock.get());
  }
  auto got = find_socket_holders_bpf({gone});
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_TRUE(got->empty());
}

TEST(SocketOwnersBpf, EmptyInputAsksNothing) {
  auto got = find_socket_holders_bpf({});
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->empty());
}

}  // namespace
}  // namespace lineage::events
