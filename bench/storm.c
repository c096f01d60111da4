/*
 * storm [-f] [-a NARGS] [-r DISTINCT] RATE SECONDS [DEPTH] -- a process storm with ground
 * truth, for measuring what `lineage watch` / `lineage record` (and their
 * peers) see.
 *
 * Spawns RATE short-lived processes per second for SECONDS: each is a fork
 * plus execv("/bin/true", {"/bin/true", "storm-<seq>", NULL}), seq = 1, 2, ...
 * With DEPTH > 1 every spawn is a short chain instead: the worker forks an
 * intermediate, which forks the next one (DEPTH-1 intermediates in all) and
 * exits at once; the last intermediate forks the child that execs /bin/true.
 * The ground truth is the true processes only, not the intermediates.
 * -a NARGS: the true process gets NARGS arguments (default 1): storm-<seq>
 * then "-x", "arg3", "arg4", ... (short, the same every time).
 * -r N: only N distinct command lines, repeated: storm-<seq mod N> (a
 * recorder then interns each once, as it does the command lines of a real
 * machine; without -r every command line is new).
 * -f (fork only): the true process does not exec; it _exit(0)s at once
 * (this machine forks several times faster than it execs).
 *
 * RATE > 0: one worker paced with clock_nanosleep(TIMER_ABSTIME) on an
 * absolute schedule (spawn i is due at t0 + i/RATE).  When it falls behind
 * it does not sleep until it has caught up, so the average rate is kept if
 * the machine can sustain it; if it cannot, the achieved rate says so.
 * RATE 0: as fast as possible, one worker per online CPU.
 * Either way spawning stops SECONDS after the start (time-bounded, not
 * count-bounded), every child is reaped (workers are child subreapers, so
 * the orphaned true processes of a chain come back to them), and at most
 * MAX_INFLIGHT children per worker are alive or unreaped at a time.
 *
 * stdout, at the end: one line per spawned true process, "pid ppid", in seq
 * order (line N is storm-N; with -r, storm-<N mod DISTINCT>).  ppid is the
 * fork parent: the worker, or the last intermediate of the chain.  "0 0" if a chain broke before its true
 * process was forked (then the exit status is 1).
 * stderr: "storm: requested R/s for S s, depth D, W worker(s): spawned N
 * (done in T s), achieved A/s", A = N / SECONDS (the spawning window; T also
 * counts the final reaping).
 * Exit status: 0 ok; 1 if any spawn failed (fork or exec), 2 usage error.
 *
 * Build: gcc -O2 -o storm storm.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 256
#define MAX_DEPTH 16
#define FORK_RETRIES 2000 /* EAGAIN retries, 1 ms apart, before giving up */

struct rec {
    int32_t pid, ppid; /* of the true process; pid 0: not (yet) known */
};

struct shared {
    long next_seq;      /* last seq handed out (atomic) */
    long failed;        /* spawns that failed (atomic) */
    long cap;           /* records available */
    struct rec rec[];   /* rec[seq - 1] */
};

static struct shared *sh;
static int depth = 1;
static int nargs = 1;       /* arguments after argv[0] */
static int fork_only = 0;   /* -f: no exec */
static long distinct = 0;   /* -r: distinct command lines (0: every one new) */

#define MAX_ARGS 16

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec to_ts(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    return ts;
}

/* fork(), retrying for a while on EAGAIN (pid or task limits). */
static pid_t fork_retry(void)
{
    for (int i = 0;; i++) {
        pid_t p = fork();
        if (p >= 0 || errno != EAGAIN || i >= FORK_RETRIES)
            return p;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
}

/* In the process that becomes the true one: exec, or report failure. */
static void become_true(long seq)
{
    if (fork_only)
        _exit(0);
    char arg[32], extra[MAX_ARGS][8];
    char *av[MAX_ARGS + 2] = {"/bin/true", arg};
    snprintf(arg, sizeof arg, "storm-%ld", distinct > 0 ? seq % distinct : seq);
    for (int i = 2; i <= nargs; i++) {
        if (i == 2)
            snprintf(extra[i], sizeof extra[i], "-x");
        else
            snprintf(extra[i], sizeof extra[i], "arg%d", i);
        av[i] = extra[i];
    }
    av[nargs + 1] = NULL;
    execv("/bin/true", av);
    _exit(127);
}

/* Start spawn number seq; returns the pid of the worker's direct child. */
static pid_t spawn(long seq)
{
    struct rec *r = &sh->rec[seq - 1];
    pid_t p = fork_retry();
    if (p < 0)
        return -1;
    if (p > 0) {
        if (depth == 1) {
            r->ppid = getpid();
            __atomic_store_n(&r->pid, p, __ATOMIC_RELEASE);
        }
        return p;
    }
    /* child */
    for (int d = 1; d < depth; d++) {
        pid_t q = fork_retry();
        if (q < 0)
            _exit(1);
        if (q > 0) { /* intermediate: record the child if it is the true one, exit */
            if (d == depth - 1) {
                r->ppid = getpid();
                __atomic_store_n(&r->pid, q, __ATOMIC_RELEASE);
            }
            _exit(0);
        }
    }
    become_true(seq);
    return -1; /* not reached */
}

/* Reap one child (blocking or not); returns 1 if one was reaped. */
static int reap(int flags, long *inflight)
{
    int st;
    pid_t p;
    while ((p = waitpid(-1, &st, flags)) < 0 && errno == EINTR)
        ;
    if (p <= 0)
        return 0;
    (*inflight)--;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        __atomic_fetch_add(&sh->failed, 1, __ATOMIC_RELAXED);
    return 1;
}

/* One worker: spawn until end_ns, paced if rate > 0; reap everything. */
static void worker(double rate, int64_t t0, int64_t end_ns)
{
    /* A subreaper, so that chains' orphaned processes come back here: every
     * process of a chain (DEPTH of them) is reaped here, so each counts once
     * in inflight. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    long inflight = 0;
    int per_spawn = depth;
    for (long i = 0;; i++) {
        if (rate > 0) {
            int64_t due = t0 + (int64_t)((double)i * 1e9 / rate);
            if (due >= end_ns)
                break;
            struct timespec ts = to_ts(due);
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                ;
        }
        if (now_ns() >= end_ns) /* behind schedule: still stop on time */
            break;
        while (reap(WNOHANG, &inflight))
            ;
        while (inflight + per_spawn > MAX_INFLIGHT && reap(0, &inflight))
            ;
        long seq = __atomic_add_fetch(&sh->next_seq, 1, __ATOMIC_RELAXED);
        if (seq > sh->cap) { /* out of records: stop spawning */
            __atomic_fetch_sub(&sh->next_seq, 1, __ATOMIC_RELAXED);
            fprintf(stderr, "storm: record table full (%ld), stopping early\n", sh->cap);
            break;
        }
        pid_t p = spawn(seq);
        if (p < 0) {
            fprintf(stderr, "storm: fork failed at storm-%ld: %s\n", seq, strerror(errno));
            __atomic_fetch_add(&sh->failed, 1, __ATOMIC_RELAXED);
            break;
        }
        inflight += per_spawn;
    }
    /* Reap the rest (including reparented chain ends) until none are left. */
    while (reap(0, &inflight) || errno != ECHILD)
        ;
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "+fa:r:")) != -1) {
        if (opt == 'f') {
            fork_only = 1;
        } else if (opt == 'r') {
            char *end;
            distinct = strtol(optarg, &end, 10);
            if (*end || distinct < 1 || distinct > 1000000000) {
                fprintf(stderr, "storm: -r needs 1..1000000000\n");
                return 2;
            }
        } else if (opt == 'a') {
            nargs = atoi(optarg);
            if (nargs < 1 || nargs > MAX_ARGS) {
                fprintf(stderr, "storm: -a needs 1..%d\n", MAX_ARGS);
                return 2;
            }
        } else {
            return 2;
        }
    }
    argc -= optind - 1;
    argv += optind - 1;
    if (argc < 3 || argc > 4) {
        fprintf(stderr,
                "usage: %s [-f] [-a NARGS] [-r DISTINCT] RATE SECONDS [DEPTH]   (RATE 0: as fast as possible)\n",
                argv[0]);
        return 2;
    }
    char *e1, *e2, *e3 = "";
    double rate = strtod(argv[1], &e1);
    double secs = strtod(argv[2], &e2);
    long dl = argc > 3 ? strtol(argv[3], &e3, 10) : 1;
    if (*e1 || *e2 || *e3 || rate < 0 || rate > 1e6 || secs <= 0 || secs > 3600 || dl < 1 ||
        dl > MAX_DEPTH) {
        fprintf(stderr, "storm: need RATE >= 0, 0 < SECONDS <= 3600, 1 <= DEPTH <= %d\n",
                MAX_DEPTH);
        return 2;
    }
    depth = (int)dl;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int workers = rate > 0 ? 1 : (ncpu > 0 ? (int)ncpu : 1);

    /* Records: RATE*SECONDS when paced (+ slack); for RATE 0, far more than
     * any machine forks+execs (200k/s per worker).  MAP_NORESERVE: only the
     * pages touched are used. */
    long cap = rate > 0 ? (long)(rate * secs) + 16 : (long)(200000.0 * secs) * workers;
    size_t size = sizeof(struct shared) + (size_t)cap * sizeof(struct rec);
    sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
              -1, 0);
    if (sh == MAP_FAILED) {
        perror("storm: mmap");
        return 1;
    }
    sh->cap = cap;

    fflush(NULL);
    int64_t t0 = now_ns() + 1000000; /* 1 ms to get the workers going */
    int64_t end_ns = t0 + (int64_t)(secs * 1e9);
    pid_t wp[workers];
    int nw = 0;
    for (int w = 0; w < workers; w++) {
        pid_t p = fork();
        if (p < 0) {
            perror("storm: fork worker");
            break;
        }
        if (p == 0) {
            prctl(PR_SET_PDEATHSIG, SIGTERM); /* die with storm, not outlive it */
            worker(rate, t0, end_ns);
            _exit(0);
        }
        wp[nw++] = p;
    }
    int bad = nw < workers;
    for (int w = 0; w < nw; w++) {
        int st;
        while (waitpid(wp[w], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            bad = 1;
    }

    long n = sh->next_seq, missing = 0;
    for (long i = 0; i < n; i++) {
        if (sh->rec[i].pid > 0)
            printf("%d %d\n", (int)sh->rec[i].pid, (int)sh->rec[i].ppid);
        else { /* a chain whose intermediate failed: keep line N = storm-N */
            printf("0 0\n");
            missing++;
        }
    }
    if (fflush(stdout) != 0) {
        perror("storm: stdout");
        return 1;
    }
    double el = (double)(now_ns() - t0) / 1e9; /* includes the final reaping */
    fprintf(stderr,
            "storm: requested %s/s for %g s, depth %d, %d worker(s)%s: spawned %ld "
            "(done in %.3f s), achieved %.1f/s",
            rate > 0 ? argv[1] : "max", secs, depth, nw, fork_only ? ", fork only" : "", n, el,
            (double)n / secs);
    if (sh->failed || missing)
        fprintf(stderr, "; %ld failed, %ld without a recorded pid", sh->failed, missing);
    fprintf(stderr, "\n");
    return bad || sh->failed || missing ? 1 : 0;
}
