/* wal_writes.c -- a commit's WAL frames reach the file in a few writes.
 *
 * SQLite appends a commit to the WAL as frames, each written with two
 * pwrite calls (its 24-byte header, then the page). A group of sends
 * writes about sixty pages, so 120 system calls, and on this kind of
 * machine (a virtual one) the calls cost more than the bytes they copy.
 *
 * This VFS wraps the default one. Every file but the WAL is the default
 * VFS's own object, untouched. The WAL's writes are kept in a buffer while
 * each continues the last (a commit's frames are contiguous), and go to the
 * file, 64 KiB per pwrite, before anything else touches it: a sync (so a COMMIT
 * is durable exactly as before: synchronous=FULL syncs the WAL before the
 * commit counts), a read, a size asked or changed, a lock, a close, or a
 * write elsewhere. Nothing SQLite reads can thus differ from what it wrote.
 * Other connections see a commit once the WAL index names its frames, which
 * SQLite does after the sync: so this needs synchronous=FULL (store.c sets
 * it with WAL), under which every commit is synced, hence flushed, first.
 *
 * A host that syncs the WAL itself (the native server, off its loop: see
 * ht_wal_writes_leave_syncs_to_host) gets a commit's sync as a flush only:
 * its frames reach the file before the index names them, and the host's
 * fdatasync makes them durable before anything acknowledges them. A
 * checkpoint's syncs stay real (the WAL's before its frames are copied into
 * the database, and the database's after): SQLite asks them with
 * SQLITE_SYNC_FULL once checkpoint_fullfsync is on, a commit's with
 * SQLITE_SYNC_NORMAL, and on Linux the two cost the same fdatasync.
 * A failed flush is the error of the call that made it, so the transaction
 * whose frames they were fails, as a failed write would have made it fail.
 * The buffer is bounded (BUFFER_MAX): past it, it is flushed. */
#include "store/wal_writes.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_MAX (4 << 20)

typedef struct wal_file {
    sqlite3_file base;
    sqlite3_file *real; /* the default VFS's file, right after this struct */
    unsigned char *buf; /* pending bytes, for the file at [start, start + len) */
    size_t len, cap;
    sqlite3_int64 start;
    bool host_syncs; /* a commit's sync only flushes (see the top) */
} wal_file;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs wal_writes_vfs;

static sqlite3_file *real_of(sqlite3_file *f) { return ((wal_file *)f)->real; }

/* The unix VFS writes at most 128 KiB less a byte per call (and fails a
 * write of a multiple of 128 KiB): the buffer goes in pieces of 64 KiB. */
#define WRITE_PIECE (64 << 10)

static int flush(wal_file *w) {
    int rc = SQLITE_OK;
    for (size_t done = 0; done < w->len && rc == SQLITE_OK; done += WRITE_PIECE) {
        size_t n = w->len - done < WRITE_PIECE ? w->len - done : WRITE_PIECE;
        rc = w->real->pMethods->xWrite(w->real, w->buf + done, (int)n, w->start + (sqlite3_int64)done);
    }
    w->len = 0;
    return rc;
}

static int wal_write(sqlite3_file *f, const void *data, int amt, sqlite3_int64 off) {
    wal_file *w = (wal_file *)f;
    size_t n = (size_t)amt;
    if (w->len > 0 && off >= w->start && (size_t)(off - w->start) + n <= w->len) {
        memcpy(w->buf + (off - w->start), data, n); /* rewrites a pending frame */
        return SQLITE_OK;
    }
    bool continues = w->len > 0 && off == w->start + (sqlite3_int64)w->len;
    if (!continues || w->len + n > BUFFER_MAX || n > WRITE_PIECE) {
        int rc = flush(w);
        if (rc != SQLITE_OK) return rc;
        w->start = off;
    }
    /* Larger than any frame (a page is at most 64 KiB): written as it came. */
    if (n > WRITE_PIECE) return w->real->pMethods->xWrite(w->real, data, amt, off);
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 64 << 10;
        while (cap < w->len + n) cap *= 2;
        unsigned char *grown = realloc(w->buf, cap);
        if (!grown) {
            int rc = flush(w);
            return rc != SQLITE_OK ? rc : w->real->pMethods->xWrite(w->real, data, amt, off);
        }
        w->buf = grown, w->cap = cap;
    }
    memcpy(w->buf + w->len, data, n);
    w->len += n;
    return SQLITE_OK;
}

static int wal_close(sqlite3_file *f) {
    wal_file *w = (wal_file *)f;
    int rc = flush(w);
    int closed = w->real->pMethods ? w->real->pMethods->xClose(w->real) : SQLITE_OK;
    free(w->buf);
    w->buf = NULL;
    return rc != SQLITE_OK ? rc : closed;
}

/* Every other method: the pending bytes first, then the real file's. */
#define FLUSH_OR_RETURN(f)                                                                         \
    do {                                                                                           \
        int flushed = flush((wal_file *)(f));                                                      \
        if (flushed != SQLITE_OK) return flushed;                                                  \
    } while (0)

static int wal_read(sqlite3_file *f, void *out, int amt, sqlite3_int64 off) {
    FLUSH_OR_RETURN(f);
    return real_of(f)->pMethods->xRead(real_of(f), out, amt, off);
}
static int wal_truncate(sqlite3_file *f, sqlite3_int64 size) {
    FLUSH_OR_RETURN(f);
    return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
static int wal_sync(sqlite3_file *f, int flags) {
    FLUSH_OR_RETURN(f);
    if (((wal_file *)f)->host_syncs && (flags & 0x0f) != SQLITE_SYNC_FULL) return SQLITE_OK;
    return real_of(f)->pMethods->xSync(real_of(f), flags);
}
static int wal_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    FLUSH_OR_RETURN(f);
    return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
static int wal_lock(sqlite3_file *f, int level) {
    FLUSH_OR_RETURN(f);
    return real_of(f)->pMethods->xLock(real_of(f), level);
}
static int wal_unlock(sqlite3_file *f, int level) {
    FLUSH_OR_RETURN(f);
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}
static int wal_check_reserved(sqlite3_file *f, int *out) {
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
static int wal_file_control(sqlite3_file *f, int op, void *arg) {
    FLUSH_OR_RETURN(f);
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
static int wal_sector_size(sqlite3_file *f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); }
static int wal_device(sqlite3_file *f) { return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f)); }

/* Version 1 of the methods: a WAL file has no shared memory nor mapping of
 * its own (those belong to the database file, which is not wrapped). */
static const sqlite3_io_methods wal_methods = {
    .iVersion = 1,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device,
};

static int vfs_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *out_flags) {
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL)) return real_vfs->xOpen(real_vfs, name, file, flags, out_flags);
    wal_file *w = (wal_file *)file;
    memset(w, 0, (size_t)wal_writes_vfs.szOsFile);
    w->real = (sqlite3_file *)(w + 1);
    int rc = real_vfs->xOpen(real_vfs, name, w->real, flags, out_flags);
    /* Even when the open failed, SQLite calls xClose if pMethods is set,
     * and the real file's own pMethods tells wal_close whether to pass on. */
    w->base.pMethods = &wal_methods;
    return rc;
}

/* The rest of the VFS is the default one's. */
static int vfs_delete(sqlite3_vfs *v, const char *name, int sync_dir) {
    (void)v;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}
static int vfs_access(sqlite3_vfs *v, const char *name, int flags, int *out) {
    (void)v;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int vfs_full_pathname(sqlite3_vfs *v, const char *name, int n, char *out) {
    (void)v;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static void *vfs_dl_open(sqlite3_vfs *v, const char *name) {
    (void)v;
    return real_vfs->xDlOpen(real_vfs, name);
}
static void vfs_dl_error(sqlite3_vfs *v, int n, char *out) {
    (void)v;
    real_vfs->xDlError(real_vfs, n, out);
}
static void (*vfs_dl_sym(sqlite3_vfs *v, void *handle, const char *sym))(void) {
    (void)v;
    return real_vfs->xDlSym(real_vfs, handle, sym);
}
static void vfs_dl_close(sqlite3_vfs *v, void *handle) {
    (void)v;
    real_vfs->xDlClose(real_vfs, handle);
}
static int vfs_randomness(sqlite3_vfs *v, int n, char *out) {
    (void)v;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int vfs_sleep(sqlite3_vfs *v, int us) {
    (void)v;
    return real_vfs->xSleep(real_vfs, us);
}
static int vfs_current_time(sqlite3_vfs *v, double *out) {
    (void)v;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int vfs_last_error(sqlite3_vfs *v, int n, char *out) {
    (void)v;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}
static int vfs_current_time_int64(sqlite3_vfs *v, sqlite3_int64 *out) {
    (void)v;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

static sqlite3_vfs wal_writes_vfs = {
    .iVersion = 2,
    .zName = HT_WAL_WRITES_VFS,
    .xOpen = vfs_open,
    .xDelete = vfs_delete,
    .xAccess = vfs_access,
    .xFullPathname = vfs_full_pathname,
    .xDlOpen = vfs_dl_open,
    .xDlError = vfs_dl_error,
    .xDlSym = vfs_dl_sym,
    .xDlClose = vfs_dl_close,
    .xRandomness = vfs_randomness,
    .xSleep = vfs_sleep,
    .xCurrentTime = vfs_current_time,
    .xGetLastError = vfs_last_error,
    .xCurrentTimeInt64 = vfs_current_time_int64,
};

bool ht_wal_writes_register(void) {
    if (sqlite3_vfs_find(HT_WAL_WRITES_VFS)) return true;
    real_vfs = sqlite3_vfs_find(NULL);
    if (!real_vfs || real_vfs->iVersion < 2) return false;
    wal_writes_vfs.szOsFile = (int)sizeof(wal_file) + real_vfs->szOsFile;
    wal_writes_vfs.mxPathname = real_vfs->mxPathname;
    return sqlite3_vfs_register(&wal_writes_vfs, 0) == SQLITE_OK;
}

bool ht_wal_writes_leave_syncs_to_host(sqlite3 *db) {
    sqlite3_file *file = NULL;
    if (sqlite3_exec(db, "PRAGMA checkpoint_fullfsync=ON;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file) != SQLITE_OK || !file ||
        file->pMethods != &wal_methods)
        return false;
    ((wal_file *)file)->host_syncs = true;
    return true;
}
