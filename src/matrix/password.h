/* password.h -- hashing and checking passwords, as handlers ask for it.
 *
 * Argon2 takes tens of milliseconds on purpose. When the host takes work
 * off its event loop (cfg.offload_hashing), the first pass of a request
 * hands the operation out through the door (HT_WORK, see hometab.h) and the
 * request is rolled back; the host runs it on another thread and calls
 * again with the same bytes. The replay redoes everything else, which is
 * cheap, in a fresh transaction, and takes the finished result by the
 * request's identity (a digest of its bytes) and the operation's place in
 * it. Since the database may have changed between the passes, a check is
 * reused only against the very hash it was made for.
 *
 * Declared here, under the handlers, and carried out by the door
 * (core/work.c), which keeps the finished work between passes. */
#ifndef HT_MATRIX_PASSWORD_H
#define HT_MATRIX_PASSWORD_H

#include <stdbool.h>

#include "matrix/handler.h"

/* The longest password an account may have. Hashing costs time in its
 * length too, so a longer one is refused (or, at login, simply wrong)
 * before any hashing. */
enum { HT_MAX_PASSWORD_BYTES = 1024 };

/* Checks password against a stored Argon2 hash into *ok. False when the
 * request must wait for the work: return *wait (it is discarded). */
bool ht_password_check(ht_ctx *ctx, const char *hash, const char *password, bool *ok, ht_reply *wait);

/* The same for a login as `user_id`: the attempt is first charged to the
 * login rate limits (core/login_limit.c), once, on the pass that hands the
 * check out; false with the 429 reply in *wait when a bucket is empty. A
 * failed check counts against the account. Call it only when there is a
 * stored hash to check: attempts that cost nothing are not charged. */
bool ht_password_check_login(ht_ctx *ctx, const char *user_id, const char *hash, const char *password,
                             bool *ok, ht_reply *wait);

/* A new Argon2 hash of password into *hash (NULL if hashing failed). False
 * when the request must wait for the work: return *wait. */
bool ht_password_new(ht_ctx *ctx, const char *password, const char **hash, ht_reply *wait);

#endif
