/* meta.h -- the stream position, and what a transaction's moves of it
 * concern (its wake scope). */
#ifndef HT_STORE_META_H
#define HT_STORE_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

uint64_t ht_store_stream_position(ht_store *store);
/* Moves the stream position on by one and returns the new value. */
uint64_t ht_store_stream_advance(ht_store *store);

/* Copies the setting kept under key into out (NUL-terminated); false if there
 * is none or it does not fit. Settings live in the database file, so an
 * exported database carries them. */
bool ht_store_meta_get(ht_store *store, const char *key, char *out, size_t out_size);
/* Keeps value under key unless the key has a value already (the first writer
 * wins, so two openers agree); false if the store failed. */
bool ht_store_meta_add(ht_store *store, const char *key, const char *value);

/* Wake scope. Long-polls wait on keys (util/wake.h); each write that stamps
 * a row with a stream position records, in the store function that writes
 * the row, the keys that row concerns. After the commit the core asks which
 * keys the transaction touched, and wakes only the long-polls waiting on
 * them. A position that no write spoke for (a trigger moved the stream, or a
 * writer that does not say) makes the transaction wake every long-poll, the
 * safe default; so do more than HT_STORE_MAX_TOUCHED keys or positions. */
enum { HT_STORE_MAX_TOUCHED = 256, HT_STORE_SCOPE_POSITIONS = 1024 };

/* Starts a transaction's scope; `position` is the stream position now. */
void ht_store_scope_begin(ht_store *store, uint64_t position);
/* After a commit that moved the stream to `position`: true with the keys
 * touched (valid until the next transaction begins), or false if every
 * long-poll must be woken. */
bool ht_store_scope_keys(const ht_store *store, uint64_t position, const uint64_t **keys, size_t *count);

#endif
