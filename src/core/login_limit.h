/* login_limit.h -- which buckets a login or registration is charged to. */
#ifndef HT_CORE_LOGIN_LIMIT_H
#define HT_CORE_LOGIN_LIMIT_H

#include <stdbool.h>

#include "matrix/handler.h"
#include "util/arena.h"

/* The bucket name for `action` from one client address, or NULL when the
 * address is unknown. IPv6 addresses are grouped by their /64, the block a
 * single subscriber is usually given. */
const char *ht_address_bucket(ht_arena *arena, const char *action, const char *address);

/* Before a login's Argon2 check: takes a token from the caller's address
 * bucket and the server's, and checks that the account's failure bucket is
 * not empty. False, with the 429 reply in *refusal, if one is. */
bool ht_login_limit_admit(ht_ctx *ctx, const char *user_id, ht_reply *refusal);

/* After a check that failed: the account's failure bucket loses a token. */
void ht_login_limit_failed(ht_ctx *ctx, const char *user_id);

#endif
