/* state_cache.c -- the contents of state events a request has parsed, by
 * stream position, so that it parses each one once.
 *
 * A /sync of 300 rooms checks each timeline event's visibility against the
 * member event and the history visibility in force at it: the same two or
 * three state events for every event of a room, each a JSON parse (and its
 * free at the end of the request) on every look. The design decision: the
 * cache lives in the request's arena and is trusted only while the
 * database has not changed since it was filled (SQLite's count of changed
 * rows), so a request that writes -- a redaction rewrites an event's JSON,
 * federation can move an event to another position -- never reads a stale
 * content; it just parses again. Direct-mapped by stream: a collision
 * costs a parse, never a wrong answer. */
#include <string.h>

#include "room/room.h"

#include "store/rooms.h"
#include "store/store.h"
#include "util/json.h"

enum { STATE_CACHE_SLOTS = 64 };

struct ht_state_cache {
    ht_arena *arena;  /* where the contents live: the request's */
    int64_t changes;  /* the store's change count the slots hold for */
    struct {
        int64_t stream; /* 0: empty */
        json_t *content;
    } slots[STATE_CACHE_SLOTS];
};

static void forget(void *data) { ((ht_env *)data)->state_cache = NULL; }

static struct ht_state_cache *cache_of(ht_env *env) {
    struct ht_state_cache *c = env->state_cache;
    int64_t changes = ht_store_change_count(env->store);
    if (c && c->arena == env->arena && c->changes == changes) return c;
    if (!c || c->arena != env->arena) {
        c = ht_arena_alloc(env->arena, sizeof *c);
        ht_arena_on_reset(env->arena, forget, env);
        env->state_cache = c;
    }
    memset(c->slots, 0, sizeof c->slots);
    c->arena = env->arena;
    c->changes = changes;
    return c;
}

json_t *ht_room_content_at_stream(ht_env *env, int64_t stream) {
    struct ht_state_cache *c = cache_of(env);
    size_t slot = (size_t)stream % STATE_CACHE_SLOTS;
    if (c->slots[slot].stream == stream) return c->slots[slot].content;
    ht_event_row row;
    if (!ht_store_event_by_stream(env->store, env->arena, stream, &row)) return NULL;
    json_t *content = ht_room_event_content(env->arena, &row);
    c->slots[slot].stream = stream;
    c->slots[slot].content = content;
    return content;
}
