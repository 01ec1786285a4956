/* temp_dir.c -- see temp_dir.h. */
#include "temp_dir.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int temp_dir_make(void **state) {
    temp_dir *d = calloc(1, sizeof *d);
    if (!d) return -1;
    strcpy(d->dir, "/tmp/hometab-unit-XXXXXX");
    if (!mkdtemp(d->dir)) {
        free(d);
        return -1;
    }
    snprintf(d->path, sizeof d->path, "%s/db.sqlite", d->dir);
    snprintf(d->copy, sizeof d->copy, "%s/exported.sqlite", d->dir);
    *state = d;
    return 0;
}

int temp_dir_remove(void **state) {
    temp_dir *d = *state;
    DIR *folder = opendir(d->dir);
    for (struct dirent *e; folder && (e = readdir(folder));) {
        if (e->d_name[0] == '.') continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", d->dir, e->d_name);
        unlink(p);
    }
    if (folder) closedir(folder);
    int rc = rmdir(d->dir);
    free(d);
    return rc;
}
