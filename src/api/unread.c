/* unread.c -- unread notification counts for /sync, per room and thread.
 *
 * The counts are computed, not stored: the events after the user's read
 * marks that the user's push rules say notify. Read marks are the receipts
 * (an unthreaded one covers every thread), the user's own join, and the
 * user's own events, which count as reading everything before them in
 * their thread. A fresh count judges at most the newest MAX_UNREAD_SCAN
 * events.
 *
 * Judging an event (parsing it, walking the rules) is the cost, and a
 * client that does not send receipts would pay it for its whole backlog on
 * every sync. So the last count per user and room is kept in memory with a
 * digest of everything it depends on besides the events: the read marks,
 * the rules, the user's name in the room, the member count, the power
 * levels. While that digest holds, the next count judges only the events
 * that came since. A redaction among them, or more events in all than a
 * fresh count would look at, and the count is made fresh again, so a kept
 * count always equals a fresh one. */
#include "api/unread.h"

#include <stdlib.h>
#include <string.h>

#include "api/push_eval.h"
#include "api/push_rules.h"
#include "room/room.h"
#include "store/receipts.h"
#include "store/rooms.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/glob.h"
#include "util/hash.h"
#include "util/json.h"
#include "util/oom.h"

enum {
    MAX_UNREAD_SCAN = 500, /* events judged by a fresh count */
    CACHE_BUCKETS = 1024,
    MAX_CACHED = 8192,     /* past this, the kept counts are dropped all at once */
};

typedef struct kept {
    struct kept *next;
    char *user_id, *room_id;
    unsigned char digest[HT_SHA256_BYTES];
    int64_t upto;          /* events up to this stream are counted */
    size_t examined;       /* events after the read floor, up to upto */
    ht_thread_unread *threads; /* thread ids owned */
    size_t thread_count;
} kept;

struct ht_unread_cache {
    kept *buckets[CACHE_BUCKETS];
    size_t count;
};

/* ---- counting ---------------------------------------------------------------- */

typedef struct counting {
    ht_thread_unread *threads;
    int64_t *read_upto;    /* per thread: its own receipt */
    bool *own_seen;        /* per thread: the user wrote after what is left */
    size_t count, cap;
} counting;

static size_t thread_index(ht_arena *arena, counting *c, const char *thread_id) {
    for (size_t i = 0; i < c->count; i++)
        if (strcmp(c->threads[i].thread_id, thread_id) == 0) return i;
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        ht_thread_unread *t = ht_arena_alloc(arena, cap * sizeof *t);
        int64_t *r = ht_arena_alloc(arena, cap * sizeof *r);
        bool *o = ht_arena_alloc(arena, cap * sizeof *o);
        if (c->count) {
            memcpy(t, c->threads, c->count * sizeof *t);
            memcpy(r, c->read_upto, c->count * sizeof *r);
            memcpy(o, c->own_seen, c->count * sizeof *o);
        }
        c->threads = t, c->read_upto = r, c->own_seen = o, c->cap = cap;
    }
    c->threads[c->count] = (ht_thread_unread){.thread_id = ht_arena_strdup(arena, thread_id)};
    c->read_upto[c->count] = 0;
    c->own_seen[c->count] = false;
    return c->count++;
}

/* Reads the marks: the floor below which everything is read, and each
 * thread's own receipt. */
static int64_t read_marks(ht_ctx *ctx, const char *room_id, counting *c, ht_read_mark **marks, size_t *n) {
    ht_store *store = ctx->env->store;
    int64_t floor = 0;
    ht_store_membership_get(store, ctx->arena, room_id, ctx->auth.user_id, &floor, NULL);
    *n = ht_store_read_marks(store, ctx->arena, room_id, ctx->auth.user_id, marks);
    for (size_t i = 0; i < *n; i++) {
        const ht_read_mark *m = &(*marks)[i];
        if (!*m->thread_id) {
            if (m->event_stream > floor) floor = m->event_stream;
        } else {
            size_t t = thread_index(ctx->arena, c, m->thread_id); /* may move read_upto */
            c->read_upto[t] = m->event_stream;
        }
    }
    thread_index(ctx->arena, c, "main");
    return floor;
}

/* Everything the counts depend on besides the events themselves. */
static void digest_of(int64_t floor, const ht_read_mark *marks, size_t n, json_t *ruleset,
                      const ht_push_room *room, unsigned char out[HT_SHA256_BYTES]) {
    json_t *all = json_pack("{s:I, s:[], s:O, s:s?, s:I, s:O?, s:s?}", "floor", (json_int_t)floor, "marks",
                            "rules", ruleset, "name", room->display_name, "members", (json_int_t)room->member_count,
                            "power", room->power_levels, "creator", room->creator);
    json_t *list = json_object_get(all, "marks");
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_pack("[s, I]", marks[i].thread_id, (json_int_t)marks[i].event_stream));
    char *text = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(all);
    ht_sha256(text, text ? strlen(text) : 0, out);
    free(text);
}

/* Judges one event by someone else into its thread's counts. */
static void judge(json_t *ruleset, const ht_push_room *room, counting *c, const ht_event_row *ev, json_t *content,
                  size_t t) {
    if (ev->stream <= c->read_upto[t] || ev->redacted_by) return;
    ht_push_result r = ht_push_evaluate_row(ruleset, room, ev, content);
    c->threads[t].notifications += r.notify;
    c->threads[t].highlights += r.highlight;
}

/* ---- the kept counts ------------------------------------------------------------ */

static size_t bucket_of(const char *user_id, const char *room_id) {
    return ht_hash_string(ht_hash_string(HT_HASH_START, user_id), room_id) % CACHE_BUCKETS;
}

static void kept_free(kept *k) {
    for (size_t i = 0; i < k->thread_count; i++) free((char *)k->threads[i].thread_id);
    free(k->threads);
    free(k->user_id);
    free(k->room_id);
    free(k);
}

void ht_unread_cache_free(ht_env *env) {
    struct ht_unread_cache *cache = env->unread;
    if (!cache) return;
    for (size_t b = 0; b < CACHE_BUCKETS; b++) {
        while (cache->buckets[b]) {
            kept *k = cache->buckets[b];
            cache->buckets[b] = k->next;
            kept_free(k);
        }
    }
    free(cache);
    env->unread = NULL;
}

static kept *find(ht_env *env, const char *user_id, const char *room_id) {
    if (!env->unread) return NULL;
    for (kept *k = env->unread->buckets[bucket_of(user_id, room_id)]; k; k = k->next)
        if (strcmp(k->user_id, user_id) == 0 && strcmp(k->room_id, room_id) == 0) return k;
    return NULL;
}

/* Keeps (or replaces) the count just made. */
static void keep(ht_env *env, const char *user_id, const char *room_id, const unsigned char *digest, int64_t upto,
                 size_t examined, const counting *c) {
    kept *k = find(env, user_id, room_id);
    if (!k) {
        if (env->unread && env->unread->count >= MAX_CACHED) ht_unread_cache_free(env);
        if (!env->unread) {
            env->unread = ht_xmalloc(sizeof *env->unread);
            memset(env->unread, 0, sizeof *env->unread);
        }
        k = ht_xmalloc(sizeof *k);
        memset(k, 0, sizeof *k);
        k->user_id = ht_xstrdup(user_id);
        k->room_id = ht_xstrdup(room_id);
        size_t b = bucket_of(user_id, room_id);
        k->next = env->unread->buckets[b];
        env->unread->buckets[b] = k;
        env->unread->count++;
    } else {
        for (size_t i = 0; i < k->thread_count; i++) free((char *)k->threads[i].thread_id);
        free(k->threads);
    }
    memcpy(k->digest, digest, sizeof k->digest);
    k->upto = upto;
    k->examined = examined;
    k->thread_count = c->count;
    k->threads = ht_xmalloc(c->count * sizeof *k->threads);
    for (size_t i = 0; i < c->count; i++) {
        k->threads[i] = c->threads[i];
        k->threads[i].thread_id = ht_xstrdup(c->threads[i].thread_id);
    }
}

/* Goes on from a kept count: false if it cannot (then count afresh). */
static bool count_on(ht_ctx *ctx, json_t *ruleset, const ht_push_room *room, const kept *k, int64_t upto,
                     const char *room_id, counting *c, size_t *examined) {
    if (k->upto > upto) return false;
    for (size_t i = 0; i < k->thread_count; i++) {
        size_t t = thread_index(ctx->arena, c, k->threads[i].thread_id);
        c->threads[t].notifications = k->threads[i].notifications;
        c->threads[t].highlights = k->threads[i].highlights;
    }
    size_t room_left = MAX_UNREAD_SCAN - k->examined;
    ht_event_row *events;
    size_t n = ht_store_events_before(ctx->env->store, ctx->arena, room_id, upto, k->upto, (int64_t)room_left + 1,
                                      &events);
    if (n > room_left) return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(events[i].type, "m.room.redaction") == 0) return false;
    for (size_t i = n; i-- > 0;) { /* oldest first */
        const ht_event_row *ev = &events[i];
        json_t *content = ht_room_event_content(ctx->arena, ev);
        size_t t = thread_index(ctx->arena, c, ht_push_event_thread(content));
        if (strcmp(ev->sender, ctx->auth.user_id) == 0) {
            c->threads[t].notifications = c->threads[t].highlights = 0; /* read up to here */
            continue;
        }
        judge(ruleset, room, c, ev, content, t);
    }
    *examined = k->examined + n;
    return true;
}

/* Counts the newest events after the floor, newest first. */
static size_t count_fresh(ht_ctx *ctx, json_t *ruleset, const ht_push_room *room, int64_t upto, int64_t floor,
                          const char *room_id, counting *c) {
    ht_event_row *events;
    size_t n = ht_store_events_before(ctx->env->store, ctx->arena, room_id, upto, floor, MAX_UNREAD_SCAN, &events);
    for (size_t i = 0; i < n; i++) {
        const ht_event_row *ev = &events[i];
        json_t *content = ht_room_event_content(ctx->arena, ev);
        size_t t = thread_index(ctx->arena, c, ht_push_event_thread(content));
        if (strcmp(ev->sender, ctx->auth.user_id) == 0) {
            c->own_seen[t] = true;
            continue;
        }
        if (!c->own_seen[t]) judge(ruleset, room, c, ev, content, t);
    }
    return n;
}

size_t ht_unread_count(ht_ctx *ctx, json_t **ruleset, int64_t upto, const char *room_id, ht_thread_unread **out) {
    counting c = {0};
    ht_read_mark *marks;
    size_t n_marks;
    int64_t floor = read_marks(ctx, room_id, &c, &marks, &n_marks);
    if (!*ruleset) *ruleset = ht_json_keep(ctx->arena, ht_push_ruleset(ctx->env, ctx->auth.user_id));
    ht_push_room room = ht_push_room_of(ctx->env, room_id, ctx->auth.user_id);
    unsigned char digest[HT_SHA256_BYTES];
    digest_of(floor, marks, n_marks, *ruleset, &room, digest);

    size_t examined;
    const kept *k = find(ctx->env, ctx->auth.user_id, room_id);
    bool went_on = k && memcmp(k->digest, digest, sizeof digest) == 0 &&
                   count_on(ctx, *ruleset, &room, k, upto, room_id, &c, &examined);
    if (!went_on) {
        for (size_t i = 0; i < c.count; i++) c.threads[i].notifications = c.threads[i].highlights = 0;
        examined = count_fresh(ctx, *ruleset, &room, upto, floor, room_id, &c);
    }
    /* A count is kept only if it is right: not when a read failed (the
     * request answers 500 and the rows it missed would be missing from
     * every count built on it), nor when the matching budget ran out and
     * some rules went unjudged. */
    if (!ht_store_failed(ctx->env->store) && !ht_budget_spent(room.budget))
        keep(ctx->env, ctx->auth.user_id, room_id, digest, upto, examined, &c);
    *out = c.threads;
    return c.count;
}
