/* auth.c -- who sent a server-server request (server-server "Request
 * Authentication"): the X-Matrix signature of its origin, over its method,
 * URI, destination and body. A request naming another destination is
 * refused with 401, as is one whose signature does not verify. */
#include "federation/federation.h"

#include <string.h>

#include "federation/outbox.h"
#include "federation/xmatrix.h"
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
        content = ht_json_parse(ctx->arena, (const char *)ctx->req->body);
        if (!content) return (ht_error){HT_M_NOT_JSON, 400, "The request body is not JSON."};
    }
    const char *key, *why;
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
