/* outbox.c -- transactions to other servers (see outbox.h).
 *
 * A transaction carries the first PDUs and EDUs waiting for a destination,
 * in order; its id names the rows it carries, so a retry of the same rows
 * is the same transaction (the receiver answers it again without doing
 * anything twice) and a batch that grew is a new one. Nothing leaves the
 * outbox until the destination took it: a server that is down for a day
 * gets everything when it is back (the spec's PUT /send). */
#include "federation/outbox.h"

#include <stdlib.h>
#include <string.h>

#include "core/fetch.h"
#include "federation/pdus.h"
#include "store/federation.h"
#include "util/json.h"
#include "util/oom.h"
#include "util/str.h"

/* Back-off after failures in a row: 5 s doubling to 10 minutes. A server
 * that comes back and contacts us is retried at once. */
static int64_t backoff_ms(int64_t failures) {
    int64_t ms = 5000;
    for (int64_t i = 1; i < failures && ms < 10 * 60 * 1000; i++) ms *= 2;
    return ms < 10 * 60 * 1000 ? ms : 10 * 60 * 1000;
}


static void set_busy(ht_outbox *o, const char *destination, bool busy) {
    for (size_t i = 0; i < o->count; i++)
        if (strcmp(o->busy[i], destination) == 0) {
            if (!busy) {
                free(o->busy[i]);
                o->busy[i] = o->busy[--o->count];
            }
            return;
        }
    if (!busy) return;
    if (o->count == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 8;
        o->busy = ht_xrealloc(o->busy, o->cap * sizeof *o->busy);
    }
    o->busy[o->count++] = ht_xstrdup(destination);
}

void ht_outbox_free(ht_outbox *outbox) {
    for (size_t i = 0; i < outbox->count; i++) free(outbox->busy[i]);
    free(outbox->busy);
    memset(outbox, 0, sizeof *outbox);
}

bool ht_outbox_queue_edu(ht_env *env, const char *destination, json_t *edu) {
    const char *text = ht_json_dump(env->arena, edu);
    /* Typing notices, receipts and presence are superseded by newer ones;
     * anything else (to-device messages, device list updates) must arrive. */
    const char *type = ht_json_str(edu, "edu_type");
    bool durable = !ht_str_is(type, "m.typing") && !ht_str_is(type, "m.receipt") && !ht_str_is(type, "m.presence");
    if (!text || !ht_store_outbox_edu(env->store, destination, text, durable, env->now_ms)) return false;
    env->outbound = true;
    return true;
}

bool ht_outbox_queue_room_edu(ht_env *env, const char *room_id, const char *edu_type, json_t *content) {
    json_t *edu = ht_json_keep(env->arena, json_pack("{s:s,s:o}", "edu_type", edu_type, "content", content));
    const char *const *servers;
    size_t n = ht_store_room_servers(env->store, env->arena, room_id, env->server_name, (const char ***)&servers);
    for (size_t i = 0; i < n; i++)
        if (!ht_outbox_queue_edu(env, servers[i], edu)) return false;
    return true;
}

ht_fetch *ht_outbox_next(ht_env *env, int64_t *next_ms) {
    ht_outbox *o = env->outbox;
    json_t *busy = ht_json_keep(env->arena, json_array());
    for (size_t i = 0; i < o->count; i++) json_array_append_new(busy, json_string(o->busy[i]));
    const char *destination = ht_store_outbox_ready(env->store, env->arena, env->now_ms, ht_json_dump(env->arena, busy));
    if (!destination) {
        *next_ms = ht_store_outbox_next_retry(env->store, env->now_ms);
        return NULL;
    }
    ht_outbox_item *items;
    size_t n = ht_store_outbox_items(env->store, env->arena, destination, true, true,
                                     HT_TXN_MAX_PDUS + HT_TXN_MAX_EDUS, &items);
    json_t *pdus = json_array(), *edus = json_array();
    int64_t through = 0;
    size_t pdu_count = 0, edu_count = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i].pdu ? pdu_count == HT_TXN_MAX_PDUS : edu_count == HT_TXN_MAX_EDUS) break;
        json_t *item;
        if (items[i].pdu) {
            /* As every server gets our events: signed, if it was kept unsigned. */
            ht_event_row row = {.stream = items[i].stream, .json = items[i].pdu, .sender = items[i].sender,
                                .room_id = items[i].room_id};
            item = ht_fed_pdu(env, &row);
        } else {
            item = json_loads(items[i].edu ? items[i].edu : "null", 0, NULL);
        }
        if (item) json_array_append_new(items[i].pdu ? pdus : edus, item);
        if (items[i].pdu) pdu_count++;
        else edu_count++;
        through = items[i].id;
    }
    json_t *txn = ht_json_keep(env->arena, json_pack("{s:s, s:I, s:o, s:o}", "origin", env->server_name,
                                                     "origin_server_ts", (json_int_t)env->now_ms, "pdus", pdus,
                                                     "edus", edus));
    const char *txn_id = ht_arena_printf(env->arena, "%lld-%lld", (long long)(n ? items[0].id : 0), (long long)through);
    const char *target = ht_arena_printf(env->arena, "/_matrix/federation/v1/send/%s", txn_id);
    ht_fetch *f = ht_fetch_new_outbox(env, destination, target, txn_id, ht_json_dump(env->arena, txn), through);
    if (f) set_busy(o, destination, true);
    return f;
}

void ht_outbox_sent(ht_env *env, ht_fetch *f) {
    const char *destination = ht_fetch_destination(f);
    set_busy(env->outbox, destination, false);
    if (ht_fetch_status(f) == 200) {
        ht_store_outbox_sent(env->store, destination, ht_fetch_through(f));
        ht_store_destination_ok(env->store, destination, env->now_ms);
        return;
    }
    int64_t failures = ht_store_destination_failures(env->store, destination) + 1;
    ht_store_destination_failed(env->store, destination, env->now_ms + backoff_ms(failures));
}

void ht_outbox_server_seen(ht_env *env, const char *server) {
    if (ht_store_destination_failures(env->store, server) > 0)
        ht_store_destination_ok(env->store, server, env->now_ms);
}
