/* work.h -- password hashing that the host may run off its event loop.
 *
 * Handlers hash and check passwords only through the two calls below. When
 * the host takes work (cfg.offload_hashing), the first pass of a request
 * hands the operation out (HT_WORK, see hometab.h) and the request is rolled
 * back; the host runs it on another thread and calls again with the same
 * bytes. The replay redoes everything else, which is cheap, in a fresh
 * transaction, and takes the finished result by the request's identity (a
 * digest of its bytes) and the operation's place in it. Since the database
 * may have changed between the passes, a check is reused only against the
 * very hash it was made for. */
#ifndef HT_CORE_WORK_H
#define HT_CORE_WORK_H

#include <stdbool.h>

#include "api/handler.h"

/* Checks password against a stored Argon2 hash into *ok. False when the
 * request must wait for the work: return *wait (it is discarded). */
bool ht_password_check(ht_ctx *ctx, const char *hash, const char *password, bool *ok, ht_reply *wait);

/* A new Argon2 hash of password into *hash (NULL if hashing failed). False
 * when the request must wait for the work: return *wait. */
bool ht_password_new(ht_ctx *ctx, const char *password, const char **hash, ht_reply *wait);

/* For the door (core.c). */

/* True if finished work waits for this request: it is a replay, already
 * counted by the rate limits on its first pass. */
bool ht_work_is_replay(ht_ctx *ctx);
/* The request is answered: its finished work is dropped. */
void ht_work_request_answered(ht_ctx *ctx);
/* Frees every piece of work the core holds (at close). */
void ht_work_free_all(ht_core *core);

#endif
