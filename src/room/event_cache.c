/* event_cache.c -- stored events, parsed once and kept across requests
 * (event_cache.h).
 *
 * Two tables, one by event id and one by stream position: a collision
 * costs a parse, never a wrong answer. By position, direct-mapped: the
 * positions read together are near each other, so they never collide. By
 * id, four ways a set, the one used longest ago replaced: ids are hashes,
 * and direct-mapped, events every send reads (the senders' memberships)
 * shared slots and pushed each other out. Under the wrk figure of make
 * bench, 10,484 of 88,949 reads by id missed; with four ways, 56. Each
 * slot owns its event id and a reference to the parsed JSON; a request
 * that is handed one takes a reference of its own in its arena, so a slot
 * overwritten or forgotten in the middle of the request frees nothing it
 * still reads.
 *
 * Built with HT_CHECK_CACHES (the sanitizer build the suites run), every
 * hit is read again from the store and compared: a change the store did
 * not report, or a caller that changed a shared value, stops the server
 * at the first request that would have seen it. */
#include "room/event_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "util/json.h"
#include "util/oom.h"

/* 64 events a table, each at most 8 KiB of JSON: at most 1 MiB of stored
 * text (a few MiB parsed), which the browser's heap can spare. State
 * events are small; a larger event is simply read every time. */
enum { SLOTS = 64, WAYS = 4, MAX_CACHED_BYTES = 8192 };

typedef struct slot {
    int64_t stream; /* 0: empty */
    char *event_id;
    ht_event_status status;
    json_t *json;
    uint64_t used; /* by id: when it was last handed out or filled */
} slot;

struct ht_event_cache {
    slot by_id[SLOTS]; /* SLOTS / WAYS sets of WAYS slots */
    slot by_stream[SLOTS];
    uint64_t clock;    /* counts uses, for the least recently used way */
};

ht_event_cache *ht_event_cache_new(void) {
    ht_event_cache *c = ht_xmalloc(sizeof *c);
    memset(c, 0, sizeof *c);
    return c;
}

static void slot_clear(slot *s) {
    free(s->event_id);
    json_decref(s->json);
    memset(s, 0, sizeof *s);
}

void ht_event_cache_free(ht_event_cache *c) {
    if (!c) return;
    for (size_t i = 0; i < SLOTS; i++) {
        slot_clear(&c->by_id[i]);
        slot_clear(&c->by_stream[i]);
    }
    free(c);
}

static slot *id_set(ht_event_cache *c, const char *id) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++) h = (h ^ *p) * 16777619u;
    return &c->by_id[h % (SLOTS / WAYS) * WAYS];
}

/* The slot that holds the event, or NULL. */
static slot *by_id_slot(ht_event_cache *c, const char *id) {
    slot *set = id_set(c, id);
    for (size_t i = 0; i < WAYS; i++)
        if (set[i].event_id && strcmp(set[i].event_id, id) == 0) return &set[i];
    return NULL;
}

/* Where the event goes: an empty way of its set, else the one used longest ago. */
static slot *id_victim(ht_event_cache *c, const char *id) {
    slot *set = id_set(c, id), *oldest = &set[0];
    for (size_t i = 0; i < WAYS; i++) {
        if (!set[i].json) return &set[i];
        if (set[i].used < oldest->used) oldest = &set[i];
    }
    return oldest;
}

static slot *by_stream_slot(ht_event_cache *c, int64_t stream) { return &c->by_stream[(uint64_t)stream % SLOTS]; }

void ht_event_cache_forget(void *cache, int64_t stream, const char *event_id) {
    ht_event_cache *c = cache;
    if (!event_id) {
        for (size_t i = 0; i < SLOTS; i++) {
            slot_clear(&c->by_id[i]);
            slot_clear(&c->by_stream[i]);
        }
        return;
    }
    slot *s = by_id_slot(c, event_id);
    if (s) slot_clear(s);
    s = by_stream_slot(c, stream);
    if (s->stream == stream) slot_clear(s);
}

/* The row read and parsed, as the store has it now. */
static bool read_row(ht_env *env, const char *event_id, int64_t stream, ht_event_row *row, json_t **json) {
    bool found = event_id ? ht_store_event_by_id(env->store, env->arena, event_id, row)
                          : ht_store_event_by_stream(env->store, env->arena, stream, row);
    if (!found) return false;
    *json = ht_json_parse(env->arena, row->json);
    return *json != NULL;
}

static void hand_out(ht_env *env, const slot *s, ht_parsed_event *out) {
    *out = (ht_parsed_event){s->stream, ht_arena_strdup(env->arena, s->event_id), s->status,
                             ht_json_keep(env->arena, json_incref(s->json))};
}

#ifdef HT_CHECK_CACHES
static void check_hit(ht_env *env, const slot *s) {
    ht_event_row row;
    json_t *fresh;
    bool read = read_row(env, s->event_id, 0, &row, &fresh);
    /* A read that failed (the fault tests make every step fail in turn)
     * fails the request as any other read would: nothing to compare. */
    if (!read && ht_store_failed(env->store)) return;
    if (read && row.stream == s->stream && row.status == s->status && json_equal(fresh, s->json)) return;
    fprintf(stderr, "hometab: the event cache holds a stale or changed %s at %lld\n", s->event_id,
            (long long)s->stream);
    abort();
}
#else
static void check_hit(ht_env *env, const slot *s) {
    (void)env;
    (void)s;
}
#endif

static bool lookup(ht_env *env, const char *event_id, int64_t stream, ht_parsed_event *out) {
    ht_event_cache *c = env->events;
    slot *hit = NULL, *fill = NULL;
    if (c && event_id) {
        hit = by_id_slot(c, event_id);
        if (!hit) fill = id_victim(c, event_id);
    } else if (c) {
        slot *s = by_stream_slot(c, stream);
        if (s->json && s->stream == stream) hit = s;
        else fill = s;
    }
    if (hit && hit->json) {
        hit->used = ++c->clock;
        check_hit(env, hit);
        hand_out(env, hit, out);
        return true;
    }
    ht_event_row row;
    json_t *json;
    if (!read_row(env, event_id, stream, &row, &json)) return false;
    *out = (ht_parsed_event){row.stream, row.event_id, row.status, json};
    if (!fill || strlen(row.json) > MAX_CACHED_BYTES) return true;
    slot_clear(fill);
    *fill = (slot){row.stream, ht_xstrdup(row.event_id), row.status, json_incref(json), ++c->clock};
    return true;
}

bool ht_room_parsed_by_id(ht_env *env, const char *event_id, ht_parsed_event *out) {
    return lookup(env, event_id, 0, out);
}

bool ht_room_parsed_by_stream(ht_env *env, int64_t stream, ht_parsed_event *out) {
    return stream > 0 && lookup(env, NULL, stream, out);
}
