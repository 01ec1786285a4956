/* rate_limit.c -- token buckets in a small hash table.
 *
 * A full bucket means the same as no bucket, so the table only has to keep
 * buckets that are still refilling. It is bounded: when it holds MAX_BUCKETS
 * entries, buckets that have refilled are dropped, and if every one is still
 * refilling, the one touched longest ago goes. Forgetting a bucket can only
 * let its owner in sooner, never lock anyone out, and the table cannot grow
 * without bound however many users or routes there are.
 *
 * During a group commit the tokens taken are noted (the bucket's key), so
 * that a group whose COMMIT fails can give them back: its requests then
 * cost their callers nothing, as if they had never come. */
#include "core/rate_limit.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/oom.h"

enum { SLOTS = 1024, MAX_BUCKETS = 4096 };

typedef struct bucket {
    struct bucket *next;
    double tokens;
    int64_t updated_ms;
    ht_rate rule;
    char key[]; /* NUL-terminated */
} bucket;

struct ht_rate_limiter {
    bucket *slots[SLOTS];
    size_t count;
    bool noting;     /* a group is open: note the tokens taken */
    char **taken;    /* ...their buckets' keys */
    size_t taken_count, taken_cap;
};

ht_rate_limiter *ht_rate_limiter_new(void) {
    ht_rate_limiter *rl = ht_xmalloc(sizeof *rl);
    memset(rl, 0, sizeof *rl);
    return rl;
}

static void forget_taken(ht_rate_limiter *rl) {
    for (size_t i = 0; i < rl->taken_count; i++) free(rl->taken[i]);
    rl->taken_count = 0;
}

void ht_rate_limiter_free(ht_rate_limiter *rl) {
    if (!rl) return;
    forget_taken(rl);
    free(rl->taken);
    for (size_t i = 0; i < SLOTS; i++) {
        for (bucket *b = rl->slots[i], *next; b; b = next) {
            next = b->next;
            free(b);
        }
    }
    free(rl);
}

size_t ht_rate_limiter_size(const ht_rate_limiter *rl) { return rl->count; }

static void refill(bucket *b, int64_t now_ms) {
    if (now_ms > b->updated_ms) {
        b->tokens += (double)(now_ms - b->updated_ms) * b->rule.per_second / 1000.0;
        if (b->tokens > b->rule.burst) b->tokens = b->rule.burst;
        b->updated_ms = now_ms;
    }
}

/* Drops refilled buckets; if none was, the least recently used one. */
static void make_room(ht_rate_limiter *rl, int64_t now_ms) {
    bucket **oldest = NULL;
    for (size_t i = 0; i < SLOTS; i++) {
        for (bucket **p = &rl->slots[i]; *p;) {
            bucket *b = *p;
            refill(b, now_ms);
            if (b->tokens >= b->rule.burst) {
                *p = b->next;
                free(b);
                rl->count--;
                continue;
            }
            if (!oldest || b->updated_ms < (*oldest)->updated_ms) oldest = p;
            p = &b->next;
        }
    }
    if (rl->count >= MAX_BUCKETS && oldest) {
        bucket *b = *oldest;
        *oldest = b->next;
        free(b);
        rl->count--;
    }
}

static bucket *find(ht_rate_limiter *rl, const char *key, uint32_t *slot) {
    *slot = ht_hash_string(HT_HASH_START, key) % SLOTS;
    bucket *b = rl->slots[*slot];
    while (b && strcmp(b->key, key) != 0) b = b->next;
    return b;
}

/* How long until the bucket holds a whole token again. */
static int64_t wait_ms(const bucket *b, ht_rate rule) {
    double wait = (1.0 - b->tokens) * 1000.0 / rule.per_second;
    int64_t ms = (int64_t)wait;
    if ((double)ms < wait) ms++; /* round up: asking again sooner would fail */
    return ms < 1 ? 1 : ms;
}

bool ht_rate_limit_peek(ht_rate_limiter *rl, const char *key, ht_rate rule, int64_t now_ms,
                        int64_t *retry_after_ms) {
    *retry_after_ms = 0;
    if (rule.per_second <= 0 || rule.burst == 0) return true;
    uint32_t slot;
    bucket *b = find(rl, key, &slot);
    if (!b) return true; /* a bucket not kept is full */
    b->rule = rule;
    refill(b, now_ms);
    if (b->tokens >= 1.0) return true;
    *retry_after_ms = wait_ms(b, rule);
    return false;
}

bool ht_rate_limit_take(ht_rate_limiter *rl, const char *key, ht_rate rule, int64_t now_ms,
                        int64_t *retry_after_ms) {
    *retry_after_ms = 0;
    if (rule.per_second <= 0 || rule.burst == 0) return true;
    uint32_t slot;
    bucket *b = find(rl, key, &slot);
    if (!b) {
        if (rl->count >= MAX_BUCKETS) make_room(rl, now_ms);
        size_t len = strlen(key);
        b = ht_xmalloc(sizeof *b + len + 1);
        memcpy(b->key, key, len + 1);
        b->tokens = rule.burst;
        b->updated_ms = now_ms;
        b->next = rl->slots[slot];
        rl->slots[slot] = b;
        rl->count++;
    }
    b->rule = rule; /* a changed rule applies from now on */
    refill(b, now_ms);
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        if (rl->noting) {
            if (rl->taken_count == rl->taken_cap) {
                rl->taken_cap = rl->taken_cap ? 2 * rl->taken_cap : 16;
                rl->taken = ht_xrealloc(rl->taken, rl->taken_cap * sizeof *rl->taken);
            }
            rl->taken[rl->taken_count++] = ht_xstrdup(key);
        }
        return true;
    }
    *retry_after_ms = wait_ms(b, rule);
    return false;
}

void ht_rate_limiter_note_taken(ht_rate_limiter *rl, bool on) {
    forget_taken(rl);
    rl->noting = on;
}

void ht_rate_limiter_give_back(ht_rate_limiter *rl) {
    for (size_t i = 0; i < rl->taken_count; i++) {
        uint32_t slot;
        bucket *b = find(rl, rl->taken[i], &slot);
        /* A bucket dropped meanwhile was full: nothing to give back. */
        if (b && (b->tokens += 1.0) > b->rule.burst) b->tokens = b->rule.burst;
    }
    forget_taken(rl);
}
