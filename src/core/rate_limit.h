/* rate_limit.h -- token buckets that bound how fast costly calls may come.
 *
 * A bucket holds up to `burst` tokens and gains `per_second` tokens a
 * second; each call takes one, and a call that finds the bucket empty is
 * refused with how long until the next token. Buckets live in memory only:
 * a restart forgets them, which costs nothing worth keeping. */
#ifndef HT_CORE_RATE_LIMIT_H
#define HT_CORE_RATE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "hometab.h"

typedef struct ht_rate_limiter ht_rate_limiter;

ht_rate_limiter *ht_rate_limiter_new(void);
void ht_rate_limiter_free(ht_rate_limiter *rl);

/* Takes a token from the bucket named `key` under `rule`. Returns true if
 * the call may go ahead; otherwise false and *retry_after_ms says when a
 * token will be there. A rule with per_second <= 0 or burst == 0 limits
 * nothing. */
bool ht_rate_limit_take(ht_rate_limiter *rl, const char *key, ht_rate rule, int64_t now_ms,
                        int64_t *retry_after_ms);

/* Whether a call would be allowed now, without taking the token. */
bool ht_rate_limit_peek(ht_rate_limiter *rl, const char *key, ht_rate rule, int64_t now_ms,
                        int64_t *retry_after_ms);

/* Group commit: while on, the tokens taken are noted (turning it on or off
 * forgets what was noted); ht_rate_limiter_give_back returns every token
 * noted to its bucket and forgets them. */
void ht_rate_limiter_note_taken(ht_rate_limiter *rl, bool on);
void ht_rate_limiter_give_back(ht_rate_limiter *rl);

/* How many buckets are kept (for tests: the table stays bounded). */
size_t ht_rate_limiter_size(const ht_rate_limiter *rl);

#endif
