/* meta.h -- the stream position and small key/value settings. */
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

#endif
