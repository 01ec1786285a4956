/* memvfs.h -- SQLite's whole operating-system layer in the browser: files
 * that live in wasm memory as 64 KB chunks, with a record of which chunks
 * changed since the host last saved them.
 *
 * The wasm build compiles SQLite with SQLITE_OS_OTHER=1, so this VFS is the
 * only one there is: no Emscripten file system is linked in. The host saves
 * a database by asking for its dirty chunks between two calls into the core
 * (never with a transaction open) and writing just those to IndexedDB; it
 * restores one by filling the chunks before the core opens the file. */
#ifndef HT_HOST_WASM_MEMVFS_H
#define HT_HOST_WASM_MEMVFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 16 SQLite pages of the default 4 KB. Large enough that restoring a 50 MB
 * database reads 800 records, not 12,800; small enough that a message
 * rewrites a few hundred KB at most. */
#define HT_MEMVFS_CHUNK_SIZE (64 * 1024)

typedef struct ht_memfile ht_memfile;

/* The file named `name`, created empty if `create` and it does not exist;
 * NULL otherwise. A file lives until ht_memfile_delete, not only while SQLite
 * has it open: it is this host's disk. */
ht_memfile *ht_memfile_get(const char *name, bool create);
void ht_memfile_delete(ht_memfile *file);

int64_t ht_memfile_size(const ht_memfile *file);
uint32_t ht_memfile_chunk_count(const ht_memfile *file);

/* Empties the file and gives it `size` bytes of zeros (chunks are allocated
 * when first written or asked for). Marks nothing dirty: this is how a
 * restore starts. False if memory runs out. */
bool ht_memfile_reset(ht_memfile *file, int64_t size);

/* The storage of chunk `index`, HT_MEMVFS_CHUNK_SIZE bytes. With `create`
 * an absent chunk inside the file is allocated zeroed; without, NULL means
 * "all zeros". NULL too if `index` is past the end or memory ran out. */
unsigned char *ht_memfile_chunk(ht_memfile *file, uint32_t index, bool create);

/* The chunks written since the last call, in the order first written, and
 * forgets them: the caller now owns saving them. The list stays valid until
 * the next call into this module. Chunks past the end of the file (after a
 * truncation) are left out; *size_changed says the length moved. */
uint32_t ht_memfile_take_dirty(ht_memfile *file, const uint32_t **list, bool *size_changed);

/* Puts a chunk back on the dirty list (a save that failed). */
void ht_memfile_mark_dirty(ht_memfile *file, uint32_t index);

#endif
