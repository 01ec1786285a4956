/* outbox.h -- sending to other servers: transactions built from the
 * durable outbox (store/federation.h), one in flight per destination,
 * retried with back-off until they are taken.
 *
 * What goes in: every event this server makes in a room with members on
 * other servers is queued for each of those servers when it is stored
 * (room/graph.c); EDUs (typing, receipts...) are queued by their handlers.
 * The host pumps the outbox through the door (ht_core_outbound_next). */
#ifndef HT_FEDERATION_OUTBOX_H
#define HT_FEDERATION_OUTBOX_H

#include <jansson.h>
#include <stdbool.h>

#include "hometab.h"
#include "matrix/env.h"

enum { HT_TXN_MAX_PDUS = 50, HT_TXN_MAX_EDUS = 100 };

/* Which destinations have a transaction in flight (owned by the core). */
typedef struct ht_outbox {
    char **busy;
    size_t count, cap;
} ht_outbox;

/* Queues an EDU ({edu_type, content}) for destination. */
bool ht_outbox_queue_edu(ht_env *env, const char *destination, json_t *edu);
/* Queues an EDU of the given type for every other server with members in
 * the room (none: nothing to do). Takes content's reference. */
bool ht_outbox_queue_room_edu(ht_env *env, const char *room_id, const char *edu_type, json_t *content);

/* The next transaction to send, or NULL with *next_ms the time to ask
 * again (0: nothing waits). */
ht_fetch *ht_outbox_next(ht_env *env, int64_t *next_ms);
/* The transaction came back: delivered items go; a failure backs off. */
void ht_outbox_sent(ht_env *env, ht_fetch *f);
/* A server contacted us: if it was backed off, it is retried at once. */
void ht_outbox_server_seen(ht_env *env, const char *server);

void ht_outbox_free(ht_outbox *outbox);

#endif
