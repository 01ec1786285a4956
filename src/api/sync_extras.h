/* sync_extras.h -- the parts of /sync besides room timelines and state:
 * typing and receipts (ephemeral), account data, presence, and the unread
 * notification counts. sync.c calls these at a few points; everything they
 * report moved the one stream position when it changed, so "since" works
 * for them as for events. */
#ifndef HT_API_SYNC_EXTRAS_H
#define HT_API_SYNC_EXTRAS_H

#include <stdbool.h>
#include <stdint.h>

#include "matrix/handler.h"

typedef struct ht_sync_scope {
    int64_t since;     /* 0: initial sync */
    int64_t upto;      /* the position this response covers */
    json_t *filter;    /* the sync filter, or NULL */
    const struct ht_push_rules *rules; /* the caller's push rules, loaded on first use */
} ht_sync_scope;

/* Runs before a sync reads the stream position: removes expired typing
 * notices (moving the stream) and applies set_presence. */
void ht_sync_prepare(ht_ctx *ctx);

/* When a parked sync must be called again at the latest: its deadline, or
 * earlier if a typing notice in one of the caller's rooms expires first. */
int64_t ht_sync_wake_at(ht_ctx *ctx, int64_t deadline);

/* Adds ephemeral events, room account data and unread counts to a joined
 * room's entry: `entry` is the object of its fields besides the timeline
 * and state (sync_write.h). It is NULL when the timeline has nothing new;
 * then one is made only if ephemeral events or account data are new.
 * `fresh`: the caller sees the room from scratch (initial sync, new join,
 * full_state). Returns the entry (owned by the caller), or NULL. */
json_t *ht_sync_joined_room_extras(ht_ctx *ctx, ht_sync_scope *scope, const char *room_id, bool fresh,
                                   json_t *entry);

/* The top-level presence and account_data sections, as an object to merge
 * into the response. *news is set when either has events. New reference. */
json_t *ht_sync_globals(ht_ctx *ctx, ht_sync_scope *scope, bool *news);

#endif
