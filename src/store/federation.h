/* federation.h -- what the store keeps for federation: other servers' keys,
 * the transactions they sent (for retries), the servers in each room, and
 * the outbox of what waits to be sent, per destination. */
#ifndef HT_STORE_FEDERATION_H
#define HT_STORE_FEDERATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

/* A server's public key (unpadded base64) by key id, and until when it may
 * be used; NULL if not known. */
const char *ht_store_server_key(ht_store *store, ht_arena *arena, const char *server, const char *key_id,
                                int64_t *valid_until_ms);
bool ht_store_server_key_put(ht_store *store, const char *server, const char *key_id, const char *public_key,
                             int64_t valid_until_ms, int64_t now_ms);

/* The answer given to a transaction (origin, txn_id) before, or NULL. */
const char *ht_store_fed_txn_get(ht_store *store, ht_arena *arena, const char *origin, const char *txn_id);
bool ht_store_fed_txn_put(ht_store *store, const char *origin, const char *txn_id, const char *response,
                          int64_t now_ms);
bool ht_store_fed_txn_expire(ht_store *store, int64_t before_ms);

/* The servers with joined members in the room, but for `except`. */
size_t ht_store_room_servers(ht_store *store, ht_arena *arena, const char *room_id, const char *except,
                             const char ***out);

bool ht_store_outbox_pdu(ht_store *store, const char *destination, int64_t event_stream, int64_t now_ms);
/* A destination that is down keeps at most HT_OUTBOX_MAX_EDUS EDUs where
 * the newest matter (typing, receipts), older ones dropped as new ones
 * come, and at most HT_OUTBOX_MAX_DURABLE_EDUS that must arrive
 * (to-device messages, device list updates): a bound, not a drop policy. */
enum { HT_OUTBOX_MAX_EDUS = 1000, HT_OUTBOX_MAX_DURABLE_EDUS = 100000 };
bool ht_store_outbox_edu(ht_store *store, const char *destination, const char *edu_json, bool durable,
                         int64_t now_ms);

typedef struct ht_outbox_item {
    int64_t id;
    const char *pdu; /* the event's stored JSON, or NULL */
    const char *edu; /* or the EDU's JSON */
    int64_t stream;               /* the event's... */
    const char *sender, *room_id; /* ...as ht_fed_pdu reads them */
} ht_outbox_item;

/* The destination whose turn it is (something waits, its retry time has
 * come, it is not in `busy`, a JSON array of names), or NULL. */
const char *ht_store_outbox_ready(ht_store *store, ht_arena *arena, int64_t now_ms, const char *busy);
/* When a destination that waits will be ready again (0: none waits). */
int64_t ht_store_outbox_next_retry(ht_store *store, int64_t now_ms);
/* How many events and EDUs wait in the outbox, all destinations together. */
int64_t ht_store_outbox_waiting(ht_store *store);
/* The destination's first items, in order: PDUs and EDUs as wanted. */
size_t ht_store_outbox_items(ht_store *store, ht_arena *arena, const char *destination, bool pdus, bool edus,
                             int64_t limit, ht_outbox_item **out);
/* Items up to `through` were delivered. */
bool ht_store_outbox_sent(ht_store *store, const char *destination, int64_t through);
bool ht_store_destination_ok(ht_store *store, const char *destination, int64_t now_ms);
/* A failure: how many in a row (this one included), and the retry time. */
int64_t ht_store_destination_failures(ht_store *store, const char *destination);
bool ht_store_destination_failed(ht_store *store, const char *destination, int64_t retry_at_ms);

/* The room state a remote invite carried for its invitee (JSON), or NULL. */
bool ht_store_invite_state_put(ht_store *store, const char *room_id, const char *user_id, const char *json);
const char *ht_store_invite_state_get(ht_store *store, ht_arena *arena, const char *room_id, const char *user_id);

#endif
