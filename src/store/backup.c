/* backup.c -- a consistent copy of a live database, and putting one back.
 *
 * The copy is made by sqlite3_backup_step(-1): every page in one step, so
 * within one read transaction of the source, which in WAL mode is a
 * snapshot that the server's writes (on its own connection, in its own
 * process) neither block nor disturb. Copying in smaller steps would let
 * the server's writes restart the copy from the first page each time, and
 * under steady writes it might never finish. The price is that the WAL
 * cannot be checkpointed past the snapshot while the copy runs; it is
 * checkpointed when the copy is done.
 *
 * A copy is written beside its destination as ".partial" and renamed into
 * place only once it is complete, checked, synced and self-contained (not
 * in WAL mode), so a file at the destination is always a whole backup. */
#include "store/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/schema.h"

enum { BUSY_TIMEOUT_MS = 10000, PATH_MAX_BYTES = 4096 };

static int user_version(sqlite3 *db) {
    sqlite3_stmt *s;
    int v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    return v;
}

/* PRAGMA quick_check's verdict: true if "ok", else its first line in err. */
static bool quick_check(sqlite3 *db, const char *path, char *err, size_t err_size) {
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "%s cannot be checked: %s", path, sqlite3_errmsg(db));
        return false;
    }
    bool ok = false;
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *verdict = (const char *)sqlite3_column_text(s, 0);
        ok = verdict && strcmp(verdict, "ok") == 0;
        if (!ok) snprintf(err, err_size, "%s fails PRAGMA quick_check: %s", path, verdict ? verdict : "?");
    } else {
        snprintf(err, err_size, "%s cannot be checked: %s", path, sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    return ok;
}

/* Is this a hometab database this build can open? */
static bool check_hometab(sqlite3 *db, const char *path, int *version, char *err, size_t err_size) {
    *version = user_version(db);
    if (*version < 0) {
        snprintf(err, err_size, "%s is not a readable SQLite database: %s", path, sqlite3_errmsg(db));
        return false;
    }
    sqlite3_stmt *s;
    bool has_stream = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'stream'", -1,
                           &s, NULL) == SQLITE_OK) {
        has_stream = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_finalize(s);
    }
    if (*version == 0 || !has_stream) {
        snprintf(err, err_size, "%s is not a hometab database (it has no hometab schema)", path);
        return false;
    }
    if (*version > ht_schema_version_count()) {
        snprintf(err, err_size,
                 "%s has schema version %d, but this hometab knows only up to %d: it was written by a "
                 "newer hometab",
                 path, *version, ht_schema_version_count());
        return false;
    }
    return true;
}

/* Copies every page of src into dst in one step (see the top). */
static bool copy_pages(sqlite3 *dst, sqlite3 *src, const char *what, int *pages, char *err, size_t err_size) {
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        snprintf(err, err_size, "%s cannot start: %s", what, sqlite3_errmsg(dst));
        return false;
    }
    int rc;
    /* The busy handler covers a writer holding its lock; a locked
     * destination is retried here a few times more. */
    for (int tries = 0; (rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED; tries++) {
        if (tries == 50) break;
        sqlite3_sleep(100);
    }
    *pages = sqlite3_backup_pagecount(b);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) {
        snprintf(err, err_size, "%s failed: %s", what, sqlite3_errstr(rc));
        return false;
    }
    return true;
}

static bool exec(sqlite3 *db, const char *sql, const char *path, char *err, size_t err_size) {
    char *message = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &message) == SQLITE_OK) return true;
    snprintf(err, err_size, "%s: %s", path, message ? message : sqlite3_errmsg(db));
    sqlite3_free(message);
    return false;
}

/* fsync a file, then its folder (so a rename into it is durable too). */
static bool sync_file_and_dir(const char *path, char *err, size_t err_size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        snprintf(err, err_size, "cannot sync %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return false;
    }
    close(fd);
    char copy[PATH_MAX_BYTES];
    snprintf(copy, sizeof copy, "%s", path);
    int dir = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        fsync(dir);
        close(dir);
    }
    return true;
}

static sqlite3 *open_db(const char *path, int flags, char *err, size_t err_size) {
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        snprintf(err, err_size, "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
    return db;
}

bool ht_store_backup(const char *db_path, const char *dest_path, ht_store_copy_info *info, char *err,
                     size_t err_size) {
    memset(info, 0, sizeof *info);
    if (strlen(dest_path) + sizeof ".partial" > PATH_MAX_BYTES) {
        snprintf(err, err_size, "the backup path is too long");
        return false;
    }
    char partial[PATH_MAX_BYTES];
    snprintf(partial, sizeof partial, "%s.partial", dest_path);
    /* Read-write without create: a missing database is an error, not an
     * empty file; the source is only read. */
    sqlite3 *src = open_db(db_path, SQLITE_OPEN_READWRITE, err, err_size);
    if (!src) return false;
    bool ok = check_hometab(src, db_path, &info->schema_version, err, err_size);
    sqlite3 *dst = NULL;
    if (ok) {
        /* A backup holds password hashes and the server's signing key:
         * readable by its owner only, whatever the umask. */
        unlink(partial);
        int fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) close(fd);
        dst = open_db(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, err_size);
        ok = dst != NULL;
    }
    ok = ok && copy_pages(dst, src, "the backup", &info->pages, err, err_size);
    sqlite3_close(src);
    /* One self-contained file: out of WAL, nothing beside it. */
    ok = ok && exec(dst, "PRAGMA journal_mode=DELETE;", partial, err, err_size) &&
         quick_check(dst, partial, err, err_size);
    if (dst && sqlite3_close(dst) != SQLITE_OK && ok) {
        snprintf(err, err_size, "cannot close %s", partial);
        ok = false;
    }
    ok = ok && sync_file_and_dir(partial, err, err_size);
    if (ok && rename(partial, dest_path) != 0) {
        snprintf(err, err_size, "cannot rename %s to %s: %s", partial, dest_path, strerror(errno));
        ok = false;
    }
    if (!ok) {
        unlink(partial);
        return false;
    }
    sync_file_and_dir(dest_path, err, err_size);
    struct stat st;
    if (stat(dest_path, &st) == 0) info->bytes = st.st_size;
    return true;
}

bool ht_store_restore(const char *backup_path, const char *db_path, ht_store_copy_info *info, char *err,
                      size_t err_size) {
    memset(info, 0, sizeof *info);
    sqlite3 *src = open_db(backup_path, SQLITE_OPEN_READONLY, err, err_size);
    if (!src) return false;
    bool ok = check_hometab(src, backup_path, &info->schema_version, err, err_size) &&
              quick_check(src, backup_path, err, err_size);
    sqlite3 *dst = NULL;
    if (ok) {
        dst = open_db(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, err_size);
        ok = dst != NULL;
    }
    /* Through the live file's own journal: a WAL left by the server is
     * checkpointed and then written over, never mixed with the copy. */
    ok = ok && copy_pages(dst, src, "the restore", &info->pages, err, err_size);
    sqlite3_close(src);
    ok = ok && exec(dst, "PRAGMA wal_checkpoint(TRUNCATE);", db_path, err, err_size) &&
         quick_check(dst, db_path, err, err_size);
    if (dst) sqlite3_close(dst);
    if (!ok) return false;
    struct stat st;
    if (stat(db_path, &st) == 0) info->bytes = st.st_size;
    return true;
}
