/*
 * files_holder DIR -- a process holding one of each kind of open file, for
 * `lineage files` against `lsof -p` (tests/integration/files_peers.sh,
 * bench/files.sh).
 *
 * Holds: DIR/regular (O_RDWR|O_APPEND, 6 bytes), DIR/deleted (unlinked), the
 * write end of a pipe whose read end its child holds, one end of a unix
 * socket pair whose other end its child holds, a TCP listener on 127.0.0.1
 * and both ends of a connection to it, an eventfd and a memfd.
 * stdout: "PID CHILD PORT PIPE_FD SOCKETPAIR_FD\n", then it waits for a
 * signal. The child dies with it (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char path[4096];
    if (argc < 2) return 2;
    snprintf(path, sizeof path, "%s/regular", argv[1]);
    int reg = open(path, O_RDWR | O_CREAT | O_APPEND, 0644);
    snprintf(path, sizeof path, "%s/deleted", argv[1]);
    int del = open(path, O_WRONLY | O_CREAT, 0600);
    if (reg < 0 || del < 0 || write(reg, "hello\n", 6) != 6 || write(del, "x", 1) != 1 || unlink(path) != 0)
        return 1;
    int p[2], sp[2];
    if (pipe(p) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0) return 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int ls = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) != 0 || listen(ls, 8) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &len) != 0 || connect(c, (struct sockaddr *)&a, sizeof a) != 0)
        return 1;
    int acc = accept(ls, NULL, NULL);
    int ev = eventfd(0, EFD_CLOEXEC), mem = memfd_create("lfilesmem", 0);
    if (acc < 0 || ev < 0 || mem < 0) return 1;
    pid_t child = fork();
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(p[1]);
        close(sp[0]);
        for (;;) pause();
    }
    close(p[0]);
    close(sp[1]);
    printf("%d %d %d %d %d\n", getpid(), child, ntohs(a.sin_port), p[1], sp[0]);
    fflush(stdout);
    for (;;) pause();
}
