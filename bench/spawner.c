/*
 * spawner N [FANOUT] -- hold N real processes (root included) in a tree.
 *
 * Node i's children are nodes i*F+1 .. i*F+F (heap numbering), so the tree
 * fills breadth-first with fan-out F (default 8).  Every node is named
 * "lineage-bench" (comm), remembers its children's pids, and idles.
 *
 * stdout (root only):  "<root pid>\n"  then  "ready N\n"  once every one of
 * the N processes has really been forked and reported in over a pipe.
 *
 * SIGTERM (or SIGINT/SIGHUP) to any node: it SIGTERMs its own children,
 * waitpid()s them all, then exits.  Killing the root thus tears down the tree.
 * Non-root nodes also get PR_SET_PDEATHSIG=SIGKILL, so even a SIGKILLed node
 * cannot leave orphans behind; the root gets SIGTERM if its parent dies.
 *
 * If a fork fails (EAGAIN, ...) the node reports it; the root then tears
 * down everything already spawned and exits 1.
 *
 * Build: gcc -O2 -o spawner spawner.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_FANOUT 1024

static pid_t kids[MAX_FANOUT];
static int nkids;

/* SIGTERM every child, then reap them all. */
static void teardown(void)
{
    for (int i = 0; i < nkids; i++)
        kill(kids[i], SIGTERM);
    for (int i = 0; i < nkids; i++)
        while (waitpid(kids[i], NULL, 0) < 0 && errno == EINTR)
            ;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s N [FANOUT]\n", argv[0]);
        return 2;
    }
    long n = strtol(argv[1], NULL, 10);
    long fan = argc > 2 ? strtol(argv[2], NULL, 10) : 8;
    if (n < 1 || n > 4000000 || fan < 1 || fan > MAX_FANOUT) {
        fprintf(stderr, "spawner: need N >= 1 and 1 <= FANOUT <= %d\n", MAX_FANOUT);
        return 2;
    }

    /* Termination signals stay blocked for life and are taken with
     * sigwaitinfo(); one arriving mid-fork just waits until the node knows
     * all of its children, so nothing can be orphaned. */
    sigset_t term;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    sigaddset(&term, SIGINT);
    sigaddset(&term, SIGHUP);
    sigprocmask(SIG_BLOCK, &term, NULL);
    signal(SIGPIPE, SIG_IGN); /* reporting after the root gave up: EPIPE, not death */

    int pfd[2]; /* every non-root node writes one byte: '+' ok, 'F' fork failed */
    if (pipe(pfd) < 0) {
        perror("spawner: pipe");
        return 1;
    }

    prctl(PR_SET_NAME, "lineage-bench");
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    printf("%d\n", (int)getpid());
    fflush(stdout); /* flush before fork, or children would inherit the buffer */

    long idx = 0, c = 1;
    char status = '+';
    while (c <= idx * fan + fan && c < n) {
        pid_t parent = getpid();
        pid_t p = fork();
        if (p < 0) {
            fprintf(stderr, "spawner: fork failed at node %ld of %ld: %s\n",
                    c, n, strerror(errno));
            status = 'F';
            break;
        }
        if (p == 0) { /* child: become node c and spawn its own children */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) /* parent died before prctl took effect */
                _exit(1);
            idx = c;
            c = idx * fan + 1;
            nkids = 0;
            continue;
        }
        kids[nkids++] = p;
        c++;
    }

    if (idx != 0) { /* non-root: report, then idle until told to stop */
        close(pfd[0]);
        while (write(pfd[1], &status, 1) < 0 && errno == EINTR)
            ;
        close(pfd[1]);
        while (sigwaitinfo(&term, NULL) < 0)
            ;
        teardown();
        _exit(0);
    }

    /* Root: count reports until all n-1 descendants are in, one fails, or
     * the pipe hits EOF (all writers gone, e.g. a node was killed). */
    close(pfd[1]);
    long ready = 0;
    char buf[4096];
    while (status == '+' && ready < n - 1) {
        ssize_t r = read(pfd[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            fprintf(stderr, "spawner: only %ld of %ld processes reported in\n",
                    ready + 1, n);
            status = 'F';
            break;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] == '+')
                ready++;
            else
                status = 'F';
        }
    }
    close(pfd[0]);
    if (status != '+') {
        teardown();
        return 1;
    }

    printf("ready %ld\n", n);
    fflush(stdout);
    while (sigwaitinfo(&term, NULL) < 0)
        ;
    teardown();
    return 0;
}
