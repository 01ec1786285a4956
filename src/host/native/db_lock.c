/* db_lock.c -- one hometab per database file (see db_lock.h). */
#include "host/native/db_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int ht_db_lock(const char *db_path, char *err, size_t err_size) {
    if (strcmp(db_path, ":memory:") == 0) return -2;
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s.lock", db_path) >= sizeof path) {
        snprintf(err, err_size, "the database path is too long");
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, err_size, "cannot open database %s: its lock file %s: %s", db_path, path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            snprintf(err, err_size, "%s is in use by another hometab (it holds %s): stop that one first", db_path,
                     path);
        else
            snprintf(err, err_size, "cannot lock %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

void ht_db_unlock(int fd) {
    if (fd >= 0) close(fd);
}
