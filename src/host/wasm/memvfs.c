/* memvfs.c -- an SQLite VFS whose files are chunks of wasm memory, and which
 * remembers the chunks each write touched.
 *
 * Why a VFS and not Emscripten's MEMFS + IDBFS: IDBFS saves a file by
 * rewriting all of it, so saving one message costs as much as the database
 * is large. Here every xWrite marks the 64 KB chunks it touched; the host
 * takes that list after a request and stores only those chunks, which makes
 * a save cost the same in a 1 MB and a 100 MB database.
 *
 * A file is an array of chunk pointers. A chunk that was never written is a
 * NULL pointer and reads as zeros, so a file with holes costs nothing. Files
 * outlive the SQLite connection that opened them, like files on a disk: the
 * host closes the core, fills a file from IndexedDB or an imported .sqlite,
 * and opens the core again.
 *
 * Locking is a no-op: the browser host runs one connection in one thread.
 * The core opens its database with journal_mode=MEMORY there, so the only
 * file SQLite writes is the database itself, and the host saves it only
 * between two requests, when no transaction is open; the chunks it saves
 * therefore always form a committed database. */
#include "host/wasm/memvfs.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ht_memfile {
    char *name;           /* NULL for SQLite's nameless temporary files */
    unsigned char **chunks;
    uint8_t *dirty;       /* one flag per chunk slot */
    uint32_t slots;       /* length of chunks[] and dirty[] */
    int64_t size;
    int64_t saved_size;   /* the size when the dirty list was last taken */
    uint32_t *dirty_list; /* indices, in the order first dirtied */
    uint32_t dirty_count;
    uint32_t dirty_cap;
    uint32_t *taken;      /* what the last take_dirty handed out */
    int open_count;       /* SQLite handles open on this file */
    bool unlinked;        /* deleted while open: free at the last close */
    ht_memfile *next;
};

static ht_memfile *all_files;

/* ---- files ------------------------------------------------------------ */

static uint32_t chunks_for(int64_t size) {
    return (uint32_t)((size + HT_MEMVFS_CHUNK_SIZE - 1) / HT_MEMVFS_CHUNK_SIZE);
}

static ht_memfile *memfile_new(const char *name) {
    ht_memfile *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    if (name && !(f->name = strdup(name))) {
        free(f);
        return NULL;
    }
    return f;
}

static void memfile_free(ht_memfile *f) {
    for (uint32_t i = 0; i < f->slots; i++) free(f->chunks[i]);
    free(f->chunks);
    free(f->dirty);
    free(f->dirty_list);
    free(f->taken);
    free(f->name);
    free(f);
}

ht_memfile *ht_memfile_get(const char *name, bool create) {
    for (ht_memfile *f = all_files; f; f = f->next)
        if (strcmp(f->name, name) == 0) return f;
    if (!create) return NULL;
    ht_memfile *f = memfile_new(name);
    if (!f) return NULL;
    f->next = all_files;
    all_files = f;
    return f;
}

static void memfile_unlink(ht_memfile *file) {
    for (ht_memfile **p = &all_files; *p; p = &(*p)->next) {
        if (*p == file) {
            *p = file->next;
            break;
        }
    }
}

void ht_memfile_delete(ht_memfile *file) {
    memfile_unlink(file);
    if (file->open_count > 0) file->unlinked = true;
    else memfile_free(file);
}

int64_t ht_memfile_size(const ht_memfile *file) { return file->size; }

uint32_t ht_memfile_chunk_count(const ht_memfile *file) { return chunks_for(file->size); }

/* Makes room for `count` chunk slots. */
static bool ensure_slots(ht_memfile *f, uint32_t count) {
    if (count <= f->slots) return true;
    uint32_t slots = f->slots ? f->slots : 16;
    while (slots < count) slots *= 2;
    unsigned char **chunks = realloc(f->chunks, slots * sizeof *chunks);
    if (!chunks) return false;
    f->chunks = chunks;
    uint8_t *dirty = realloc(f->dirty, slots);
    if (!dirty) return false;
    f->dirty = dirty;
    memset(f->chunks + f->slots, 0, (slots - f->slots) * sizeof *chunks);
    memset(f->dirty + f->slots, 0, slots - f->slots);
    f->slots = slots;
    return true;
}

static bool mark_dirty(ht_memfile *f, uint32_t index) {
    if (f->dirty[index]) return true;
    if (f->dirty_count == f->dirty_cap) {
        uint32_t cap = f->dirty_cap ? f->dirty_cap * 2 : 64;
        uint32_t *list = realloc(f->dirty_list, cap * sizeof *list);
        if (!list) return false;
        f->dirty_list = list;
        f->dirty_cap = cap;
    }
    f->dirty_list[f->dirty_count++] = index;
    f->dirty[index] = 1;
    return true;
}

bool ht_memfile_reset(ht_memfile *file, int64_t size) {
    for (uint32_t i = 0; i < file->slots; i++) {
        free(file->chunks[i]);
        file->chunks[i] = NULL;
        file->dirty[i] = 0;
    }
    file->dirty_count = 0;
    file->size = file->saved_size = 0;
    if (size < 0 || !ensure_slots(file, chunks_for(size))) return false;
    file->size = file->saved_size = size;
    return true;
}

unsigned char *ht_memfile_chunk(ht_memfile *file, uint32_t index, bool create) {
    if (index >= chunks_for(file->size)) return NULL;
    if (!file->chunks[index] && create) file->chunks[index] = calloc(1, HT_MEMVFS_CHUNK_SIZE);
    return file->chunks[index];
}

uint32_t ht_memfile_take_dirty(ht_memfile *file, const uint32_t **list, bool *size_changed) {
    uint32_t live = chunks_for(file->size);
    free(file->taken);
    file->taken = file->dirty_list;
    uint32_t n = 0;
    for (uint32_t i = 0; i < file->dirty_count; i++) {
        uint32_t index = file->taken[i];
        if (index < file->slots) file->dirty[index] = 0;
        if (index < live) file->taken[n++] = index;
    }
    file->dirty_list = NULL;
    file->dirty_count = file->dirty_cap = 0;
    *size_changed = file->size != file->saved_size;
    file->saved_size = file->size;
    *list = file->taken;
    return n;
}

void ht_memfile_mark_dirty(ht_memfile *file, uint32_t index) {
    if (index < file->slots) mark_dirty(file, index);
    file->saved_size = -1; /* the length must be saved again too */
}

/* ---- SQLite's file methods ---------------------------------------------- */

typedef struct memvfs_handle {
    sqlite3_file base;
    ht_memfile *file;
    bool delete_on_close;
} memvfs_handle;

static ht_memfile *file_of(sqlite3_file *f) { return ((memvfs_handle *)f)->file; }

static int mv_close(sqlite3_file *f) {
    memvfs_handle *h = (memvfs_handle *)f;
    ht_memfile *file = h->file;
    file->open_count--;
    if (h->delete_on_close && file->name && !file->unlinked) {
        memfile_unlink(file);
        file->unlinked = true;
    }
    if (file->open_count == 0 && (file->unlinked || !file->name)) memfile_free(file);
    return SQLITE_OK;
}

static int mv_read(sqlite3_file *f, void *buf, int amount, sqlite3_int64 offset) {
    ht_memfile *file = file_of(f);
    unsigned char *out = buf;
    int64_t available = file->size - offset;
    int n = available <= 0 ? 0 : available < amount ? (int)available : amount;
    int done = 0;
    while (done < n) {
        int64_t at = offset + done;
        uint32_t index = (uint32_t)(at / HT_MEMVFS_CHUNK_SIZE);
        int within = (int)(at % HT_MEMVFS_CHUNK_SIZE);
        int take = HT_MEMVFS_CHUNK_SIZE - within;
        if (take > n - done) take = n - done;
        if (file->chunks[index]) memcpy(out + done, file->chunks[index] + within, (size_t)take);
        else memset(out + done, 0, (size_t)take);
        done += take;
    }
    if (n < amount) {
        memset(out + n, 0, (size_t)(amount - n));
        return SQLITE_IOERR_SHORT_READ;
    }
    return SQLITE_OK;
}

static int mv_write(sqlite3_file *f, const void *buf, int amount, sqlite3_int64 offset) {
    ht_memfile *file = file_of(f);
    const unsigned char *in = buf;
    int64_t end = offset + amount;
    if (!ensure_slots(file, chunks_for(end))) return SQLITE_IOERR_NOMEM;
    int done = 0;
    while (done < amount) {
        int64_t at = offset + done;
        uint32_t index = (uint32_t)(at / HT_MEMVFS_CHUNK_SIZE);
        int within = (int)(at % HT_MEMVFS_CHUNK_SIZE);
        int take = HT_MEMVFS_CHUNK_SIZE - within;
        if (take > amount - done) take = amount - done;
        if (!file->chunks[index] && !(file->chunks[index] = calloc(1, HT_MEMVFS_CHUNK_SIZE)))
            return SQLITE_IOERR_NOMEM;
        if (!mark_dirty(file, index)) return SQLITE_IOERR_NOMEM;
        memcpy(file->chunks[index] + within, in + done, (size_t)take);
        done += take;
    }
    if (end > file->size) file->size = end;
    return SQLITE_OK;
}

static int mv_truncate(sqlite3_file *f, sqlite3_int64 size) {
    ht_memfile *file = file_of(f);
    if (size >= file->size) return SQLITE_OK;
    uint32_t keep = chunks_for(size);
    for (uint32_t i = keep; i < file->slots; i++) {
        free(file->chunks[i]);
        file->chunks[i] = NULL;
    }
    /* Bytes past the new end must read as zeros if the file grows again. */
    int tail = (int)(size % HT_MEMVFS_CHUNK_SIZE);
    if (tail && file->chunks[keep - 1])
        memset(file->chunks[keep - 1] + tail, 0, (size_t)(HT_MEMVFS_CHUNK_SIZE - tail));
    file->size = size;
    return SQLITE_OK;
}

static int mv_sync(sqlite3_file *f, int flags) {
    (void)f;
    (void)flags;
    return SQLITE_OK; /* durability is the host's job: it saves the dirty chunks */
}

static int mv_file_size(sqlite3_file *f, sqlite3_int64 *size) {
    *size = file_of(f)->size;
    return SQLITE_OK;
}

static int mv_lock(sqlite3_file *f, int level) {
    (void)f;
    (void)level;
    return SQLITE_OK;
}

static int mv_check_reserved_lock(sqlite3_file *f, int *out) {
    (void)f;
    *out = 0;
    return SQLITE_OK;
}

static int mv_file_control(sqlite3_file *f, int op, void *arg) {
    (void)f;
    (void)op;
    (void)arg;
    return SQLITE_NOTFOUND;
}

static int mv_sector_size(sqlite3_file *f) {
    (void)f;
    return 4096;
}

static int mv_device_characteristics(sqlite3_file *f) {
    (void)f;
    /* Memory: a write is all or nothing and touches nothing around it. */
    return SQLITE_IOCAP_ATOMIC | SQLITE_IOCAP_SAFE_APPEND | SQLITE_IOCAP_SEQUENTIAL |
           SQLITE_IOCAP_POWERSAFE_OVERWRITE;
}

static const sqlite3_io_methods memvfs_io = {
    .iVersion = 1,
    .xClose = mv_close,
    .xRead = mv_read,
    .xWrite = mv_write,
    .xTruncate = mv_truncate,
    .xSync = mv_sync,
    .xFileSize = mv_file_size,
    .xLock = mv_lock,
    .xUnlock = mv_lock,
    .xCheckReservedLock = mv_check_reserved_lock,
    .xFileControl = mv_file_control,
    .xSectorSize = mv_sector_size,
    .xDeviceCharacteristics = mv_device_characteristics,
};

/* ---- SQLite's VFS methods ----------------------------------------------- */

static int mv_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
    (void)vfs;
    memvfs_handle *h = (memvfs_handle *)f;
    memset(h, 0, sizeof *h);
    ht_memfile *file = name ? ht_memfile_get(name, flags & SQLITE_OPEN_CREATE) : memfile_new(NULL);
    if (!file) return name && !(flags & SQLITE_OPEN_CREATE) ? SQLITE_CANTOPEN : SQLITE_NOMEM;
    if (!ensure_slots(file, 1)) return SQLITE_NOMEM;
    file->open_count++;
    h->file = file;
    h->delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0;
    h->base.pMethods = &memvfs_io;
    if (out_flags) *out_flags = flags;
    return SQLITE_OK;
}

static int mv_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    (void)vfs;
    (void)sync_dir;
    ht_memfile *file = ht_memfile_get(name, false);
    if (!file) return SQLITE_IOERR_DELETE_NOENT;
    ht_memfile_delete(file);
    return SQLITE_OK;
}

static int mv_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    (void)flags;
    *out = ht_memfile_get(name, false) != NULL;
    return SQLITE_OK;
}

static int mv_full_pathname(sqlite3_vfs *vfs, const char *name, int out_size, char *out) {
    (void)vfs;
    sqlite3_snprintf(out_size, out, "%s", name);
    return SQLITE_OK;
}

static int mv_randomness(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    randombytes_buf(out, (size_t)n);
    return n;
}

static int mv_sleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return microseconds; /* nothing to wait for: there is no other connection */
}

/* Milliseconds since the Julian epoch, as SQLite counts time. */
static int mv_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    *out = (sqlite3_int64)now.tv_sec * 1000 + now.tv_nsec / 1000000 + (sqlite3_int64)210866760000000;
    return SQLITE_OK;
}

static int mv_current_time(sqlite3_vfs *vfs, double *out) {
    sqlite3_int64 ms;
    mv_current_time_int64(vfs, &ms);
    *out = (double)ms / 86400000.0;
    return SQLITE_OK;
}

static int mv_get_last_error(sqlite3_vfs *vfs, int n, char *out) {
    (void)vfs;
    if (n > 0) out[0] = '\0';
    return 0;
}

static sqlite3_vfs memvfs = {
    .iVersion = 2,
    .szOsFile = sizeof(memvfs_handle),
    .mxPathname = 512,
    .zName = "hometab-memory",
    .xOpen = mv_open,
    .xDelete = mv_delete,
    .xAccess = mv_access,
    .xFullPathname = mv_full_pathname,
    .xRandomness = mv_randomness,
    .xSleep = mv_sleep,
    .xCurrentTime = mv_current_time,
    .xGetLastError = mv_get_last_error,
    .xCurrentTimeInt64 = mv_current_time_int64,
};

/* With SQLITE_OS_OTHER, SQLite calls these from sqlite3_initialize(). */
int sqlite3_os_init(void) { return sqlite3_vfs_register(&memvfs, 1); }

int sqlite3_os_end(void) { return SQLITE_OK; }
