/* auth.c -- who sent a server-server request (server-server "Request
 * Authentication"): the X-Matrix signature of its origin, over its method,
 * URI, destination and body. A request naming another destination is
 * refused with 401, as is one whose signature does not verify.
 *
 * The body is read strictly (util/canonical.h) before any key is fetched:
 * a signature is over canonical JSON, so a body with duplicate keys,
 * floats or integers past 2^53 can carry no checkable signature; it is a
 * 400 M_BAD_JSON, and costs no request to the claimed origin.
 *
 * Anyone may claim any origin and any key id, and a key id not known here
 * makes this server ask the origin for its keys: those asks take from a
 * token bucket per claimed server (--rate-limit federation-keys), so
 * requests naming made-up key ids cannot turn this server into a stream of
 * requests at someone else. */
#include "federation/federation.h"

#include <string.h>

#include "core/fetch.h"
#include "core/rate_limit.h"
#include "federation/outbox.h"
#include "federation/xmatrix.h"
#include "util/canonical.h"
#include "util/json.h"

static ht_error unauthorized(const char *why) { return (ht_error){HT_M_UNAUTHORIZED, 401, why}; }

ht_error ht_fed_authenticate(ht_ctx *ctx, bool *wait) {
    *wait = false;
    ht_xmatrix x;
    if (!ht_xmatrix_parse(ctx->arena, ht_request_header(ctx->req, "authorization"), &x))
        return unauthorized("This endpoint needs an X-Matrix Authorization header.");
    if (x.destination && strcmp(x.destination, ctx->env->server_name) != 0)
        return unauthorized("The request is signed for another server.");
    if (strcmp(x.origin, ctx->env->server_name) == 0)
        return unauthorized("The request claims to come from this server.");
    json_t *content = NULL;
    if (ctx->req->body_len) {
        ht_canonical_error cerr;
        content = ht_json_keep(ctx->arena, ht_canonical_parse((const char *)ctx->req->body, ctx->req->body_len, &cerr));
        if (!content) return (ht_error){HT_M_BAD_JSON, 400, ht_canonical_error_text(ctx->arena, &cerr)};
    }
    const char *key, *why;
    int64_t retry_ms;
    if (ctx->limits && !ht_fed_cached_key(ctx->env, x.origin, x.key, ctx->now_ms) && !ht_fetch_is_replay(ctx) &&
        !ht_rate_limit_take(ctx->limits, ht_arena_printf(ctx->arena, "keys %s", x.origin),
                            ctx->env->cfg->rate_federation_keys, ctx->now_ms, &retry_ms))
        return unauthorized(ht_arena_printf(ctx->arena, "The origin's key is not known, and its keys were asked for "
                                            "too recently; try again in %lld ms.", (long long)retry_ms));
    if (!ht_fed_server_key(ctx, x.origin, x.key, ctx->now_ms, &key, &why)) {
        *wait = true;
        return (ht_error){0};
    }
    if (!key) return unauthorized(why ? why : "The origin's key is not known.");
    if (!ht_xmatrix_verify(&x, ctx->env->server_name, ctx->req->method, ctx->req->target, content, key))
        return unauthorized("The request's X-Matrix signature does not verify.");
    ctx->origin = x.origin;
    ht_outbox_server_seen(ctx->env, x.origin);
    return (ht_error){0};
}
