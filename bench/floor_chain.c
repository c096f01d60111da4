/* The least work to answer "who are PID's ancestors": read /proc/P/stat of
 * PID and of each parent up to pid 1. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int pid = argc > 1 ? atoi(argv[1]) : 1;
    char path[64], buf[4096];
    while (pid > 0) {
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        int fd = open(path, O_RDONLY);
        if (fd < 0)
            return 1;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
            return 1;
        buf[n] = 0;
        char *paren = strrchr(buf, ')');
        int ppid = 0;
        if (!paren || sscanf(paren + 2, "%*c %d", &ppid) != 1)
            return 1;
        pid = ppid;
    }
    return 0;
}
