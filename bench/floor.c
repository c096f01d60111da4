/*
 * floor [-v] FILE... -- the physical floor of a full /proc snapshot.
 *
 * Opens /proc once, walks it with getdents64(), and for every numeric
 * entry reads /proc/PID/FILE for each FILE given (e.g. "stat status
 * cmdline") via openat() relative to the /proc dirfd, into a fixed 64 KiB
 * buffer until EOF, then closes it.  No parsing, no output: whatever a real
 * tool does on top of this is its overhead.  -v prints the number of
 * processes read to stderr.
 *
 * Build: gcc -O2 -o floor floor.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

/* Read a whole file; returns 0 on success, -1 if it could not be opened
 * (typically the process exited since the directory was listed). */
static int slurp(int dirfd, const char *path)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    while (read(fd, buf, sizeof buf) > 0)
        ;
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    int verbose = 0, first = 1;
    if (argc > 1 && strcmp(argv[1], "-v") == 0)
        verbose = 1, first = 2;
    if (first >= argc) {
        fprintf(stderr, "usage: %s [-v] FILE...   (e.g. stat status cmdline)\n", argv[0]);
        return 2;
    }

    int procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (procfd < 0) {
        perror("floor: /proc");
        return 1;
    }

    static char dents[64 * 1024];
    char path[256];
    long nproc = 0;
    ssize_t n;
    while ((n = getdents64(procfd, dents, sizeof dents)) > 0) {
        for (ssize_t off = 0; off < n;) {
            struct dirent64 *d = (struct dirent64 *)(dents + off);
            off += d->d_reclen;
            if (d->d_name[0] < '1' || d->d_name[0] > '9')
                continue; /* not a pid */
            int ok = 1;
            for (int i = first; i < argc; i++) {
                int len = snprintf(path, sizeof path, "%s/%s", d->d_name, argv[i]);
                if (len < 0 || (size_t)len >= sizeof path || slurp(procfd, path) < 0)
                    ok = 0;
            }
            nproc += ok;
        }
    }
    if (n < 0) {
        perror("floor: getdents64");
        return 1;
    }
    close(procfd);
    if (verbose)
        fprintf(stderr, "%ld processes\n", nproc);
    return 0;
}
