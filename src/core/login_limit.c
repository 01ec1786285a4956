/* login_limit.c -- the rate limits of logging in: charge only what costs,
 * and let nobody lock out somebody else.
 *
 * A login costs the server an Argon2 check (tens of milliseconds and 19 MiB)
 * only when the account exists and has a password; any other attempt is
 * answered at once and charged nothing, so a client looping over names
 * that do not exist takes nothing from anyone. An attempt that will be
 * checked is charged to three buckets:
 *
 *   - its client's address (when the host knows it: natively the TCP peer,
 *     never a header), so one client flooding slows only itself;
 *   - the server's, which bounds the hashing done for everyone together;
 *   - the account's failure bucket, which bounds guesses at one account from
 *     however many addresses. Only failed checks take from it, and it
 *     refills faster than one address may try (the defaults in core.c), so
 *     a single client guessing can never empty it: the owner, with the right
 *     password, still gets in from elsewhere.
 *
 * The address and server buckets are taken first, and the account's is only
 * looked at: a refused attempt does not count as a failure. The price of
 * not charging unknown names is that they answer faster than known ones;
 * whether a name is taken is public anyway (/register/available). */
#include "core/login_limit.h"

#include <arpa/inet.h>
#include <string.h>

#include "core/rate_limit.h"

const char *ht_address_bucket(ht_arena *arena, const char *action, const char *address) {
    if (!address || !*address) return NULL;
    unsigned char v6[16];
    if (strchr(address, ':') && inet_pton(AF_INET6, address, v6) == 1) {
        static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(v6, v4_mapped, sizeof v4_mapped) == 0)
            return ht_arena_printf(arena, "%s from %u.%u.%u.%u", action, v6[12], v6[13], v6[14], v6[15]);
        return ht_arena_printf(arena, "%s from %02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", action, v6[0], v6[1],
                               v6[2], v6[3], v6[4], v6[5], v6[6], v6[7]);
    }
    return ht_arena_printf(arena, "%s from %s", action, address);
}

static const char *account_bucket(ht_ctx *ctx, const char *user_id) {
    return ht_arena_printf(ctx->arena, "login failures of %s", user_id);
}

bool ht_login_limit_admit(ht_ctx *ctx, const char *user_id, ht_reply *refusal) {
    ht_rate_limiter *limits = ctx->limits;
    if (!limits) return true; /* rate limits are off */
    const ht_config *cfg = ctx->env->cfg;
    int64_t retry_ms;
    const char *address = ht_address_bucket(ctx->arena, "login", ctx->client_address);
    if ((address && !ht_rate_limit_take(limits, address, cfg->rate_login_address, ctx->now_ms, &retry_ms)) ||
        !ht_rate_limit_peek(limits, account_bucket(ctx, user_id), cfg->rate_login_account, ctx->now_ms,
                            &retry_ms) ||
        !ht_rate_limit_take(limits, "login", cfg->rate_login, ctx->now_ms, &retry_ms)) {
        *refusal = ht_reply_rate_limited(ctx, retry_ms);
        return false;
    }
    return true;
}

void ht_login_limit_failed(ht_ctx *ctx, const char *user_id) {
    if (!ctx->limits) return;
    int64_t retry_ms;
    ht_rate_limit_take(ctx->limits, account_bucket(ctx, user_id), ctx->env->cfg->rate_login_account, ctx->now_ms,
                       &retry_ms);
}
