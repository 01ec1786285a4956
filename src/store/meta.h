/* meta.h -- the stream position and small key/value settings. */
#ifndef HT_STORE_META_H
#define HT_STORE_META_H

#include <stdint.h>

#include "store/store.h"

uint64_t ht_store_stream_position(ht_store *store);
/* Moves the stream position on by one and returns the new value. */
uint64_t ht_store_stream_advance(ht_store *store);

#endif
