/* slow_sync.c -- an LD_PRELOAD library for durability tests: every
 * fdatasync of a file whose name ends in "-wal" (a database's WAL) first
 * sleeps SLOW_SYNC_MS milliseconds, then syncs, then appends the time it
 * returned (microseconds since the epoch, one per line) to the file named
 * by SLOW_SYNC_LOG. A test can then tell whether an answer left the server
 * before the sync that makes its write durable had returned. While the file
 * named by SLOW_SYNC_FAIL_FILE exists, each such fdatasync fails with EIO,
 * as on a failing disk. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int is_wal(int fd) {
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    return n > 4 && memcmp(path + n - 4, "-wal", 4) == 0;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (!is_wal(fd)) return real(fd);
    const char *fail = getenv("SLOW_SYNC_FAIL_FILE");
    if (fail && access(fail, F_OK) == 0) {
        errno = EIO;
        return -1;
    }
    const char *ms = getenv("SLOW_SYNC_MS");
    if (ms) usleep((useconds_t)atoi(ms) * 1000);
    int rc = real(fd);
    const char *log = getenv("SLOW_SYNC_LOG");
    if (log) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int out = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
        if (out >= 0) {
            dprintf(out, "%lld\n", (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000);
            close(out);
        }
    }
    return rc;
}
