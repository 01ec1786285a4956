/* media.h -- the content repository's files, kept inside the database.
 *
 * A file's bytes live in the database (in parts of HT_MEDIA_PART_BYTES,
 * media.c), so exporting the database (or moving it from the browser to the
 * native server) carries every file with it. A row whose bytes have not
 * arrived yet is "pending": its id was handed out by /media/v1/create and
 * expires if never used. */
#ifndef HT_STORE_MEDIA_H
#define HT_STORE_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

/* The bytes of one stored part of a file; the schema's migration 8 cuts
 * files stored whole with the same number. */
enum { HT_MEDIA_PART_BYTES = 65536 };

typedef struct ht_media_row {
    const char *uploader;
    int64_t created_ms;
    int64_t expires_ms;       /* pending ids only; 0 otherwise */
    const char *content_type; /* NULL while pending */
    const char *filename;     /* NULL: none given */
    int64_t size;
    bool uploaded;            /* false: pending */
} ht_media_row;

/* Stores a complete file. False if the id is taken or on error. */
bool ht_store_media_insert(ht_store *store, const char *media_id, const char *uploader,
                           int64_t now_ms, const char *content_type, const char *filename,
                           const unsigned char *data, size_t len);
/* Reserves an id for a later upload. */
bool ht_store_media_create(ht_store *store, const char *media_id, const char *uploader,
                           int64_t now_ms, int64_t expires_ms);
/* Gives a pending id its bytes. False if it was not pending. */
bool ht_store_media_fill(ht_store *store, const char *media_id, int64_t now_ms,
                         const char *content_type, const char *filename,
                         const unsigned char *data, size_t len);
bool ht_store_media_get(ht_store *store, ht_arena *arena, const char *media_id, ht_media_row *out);
/* Reads n bytes of a stored file at offset into buf, without loading the
 * rest; false if it is gone or shorter. Runs outside any request's
 * transaction too (a streamed download, between requests). */
bool ht_store_media_read(ht_store *store, const char *media_id, uint64_t offset, void *buf, size_t n);
/* Pending ids of this uploader that have not expired, after dropping
 * those that have. */
int64_t ht_store_media_pending_count(ht_store *store, const char *uploader, int64_t now_ms);

#endif
