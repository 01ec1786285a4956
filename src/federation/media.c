/* media.c -- another server's file or thumbnail, asked of it for our
 * clients' downloads of mxc://<other server>/<id>.
 *
 * First the authenticated federation endpoint (spec v1.11, server-server
 * "GET /_matrix/federation/v1/media/download/{mediaId}": a multipart/mixed
 * answer, metadata then the bytes, or a redirect we do not follow), then,
 * only when the other server does not know that endpoint, the old
 * unauthenticated one (client-server "GET /_matrix/media/v3/download/
 * {serverName}/{mediaId}?allow_remote=false"), which is all Synapse before
 * 1.111 (1.67, our interop peer) serves. Thumbnails the same way, on the
 * two paths' thumbnail twins. That order because the old one is
 * deprecated and newer servers freeze it (they answer only for media
 * uploaded before the freeze), while the new one works everywhere that has
 * it; an old server costs one extra round trip. The X-Matrix header goes
 * with both; the old endpoint ignores it. */
#include "federation/federation.h"

#include <string.h>

#include "http/outbound.h"
#include "matrix/remote.h"
#include "util/json.h"
#include "util/str.h"

enum { MEDIA_TIMEOUT_MS = 20000, MAX_PARTS = 4 };

/* An answer that says the endpoint itself is unknown (not the file). */
static bool endpoint_unknown(const ht_remote_answer *a) {
    const char *code = ht_json_str(a->json, "errcode");
    if (code) return strcmp(code, "M_UNRECOGNIZED") == 0;
    return a->status == 404 || a->status == 405 || a->status == 400 || a->status == 501;
}

static void failed(ht_ctx *ctx, const char *server, const ht_remote_answer *a, ht_fed_media *out) {
    out->found = false;
    out->unreachable = a->status == 0;
    out->transient = a->status == 0 || a->status == 429 || a->status >= 500;
    out->not_found = a->status == 404 && ht_str_is(ht_json_str(a->json, "errcode"), "M_NOT_FOUND");
    out->why = a->error ? a->error
                        : ht_arena_printf(ctx->arena, "%s answered %d %s", server, a->status,
                                          ht_json_str(a->json, "errcode") ? ht_json_str(a->json, "errcode") : "");
}

/* Asks `server` on the federation path, then, only when it does not know
 * that path, on the old client path; false while it waits. */
static bool ask_for_file(ht_ctx *ctx, const char *server, const char *federation_target, const char *old_target,
                         ht_fed_media *out) {
    memset(out, 0, sizeof *out);
    ht_remote_answer a;
    if (!ht_remote_ask(ctx, server, "GET", federation_target, NULL, MEDIA_TIMEOUT_MS, &a)) return false;
    if (a.status == 200) {
        ht_http_part parts[MAX_PARTS];
        size_t n = ht_http_multipart(ctx->arena, a.content_type, a.body, a.body_len, parts, MAX_PARTS);
        /* The metadata part (JSON, empty for now), then the file; a part
         * with Location instead of bytes is a redirect, not followed. */
        if (n < 2 || parts[1].location) {
            out->why = ht_arena_printf(ctx->arena, "%s gave a multipart answer this server cannot read", server);
            return true;
        }
        *out = (ht_fed_media){.found = true, .bytes = parts[1].body, .len = parts[1].body_len,
                              .content_type = parts[1].content_type, .disposition = parts[1].disposition};
        return true;
    }
    if (a.status == 0 || !endpoint_unknown(&a)) {
        failed(ctx, server, &a, out);
        return true;
    }
    if (!ht_remote_ask(ctx, server, "GET", old_target, NULL, MEDIA_TIMEOUT_MS, &a)) return false;
    if (a.status != 200) {
        failed(ctx, server, &a, out);
        return true;
    }
    *out = (ht_fed_media){.found = true, .bytes = a.body, .len = a.body_len, .content_type = a.content_type};
    return true;
}

bool ht_fed_remote_media(ht_ctx *ctx, const char *server, const char *media_id, ht_fed_media *out) {
    const char *id = ht_percent_encode(ctx->arena, media_id);
    return ask_for_file(ctx, server, ht_arena_printf(ctx->arena, "/_matrix/federation/v1/media/download/%s", id),
                        ht_arena_printf(ctx->arena, "/_matrix/media/v3/download/%s/%s?allow_remote=false",
                                        ht_percent_encode(ctx->arena, server), id),
                        out);
}

bool ht_fed_remote_thumbnail(ht_ctx *ctx, const char *server, const char *media_id, int width, int height,
                             const char *method, ht_fed_media *out) {
    const char *id = ht_percent_encode(ctx->arena, media_id);
    const char *query = ht_arena_printf(ctx->arena, "width=%d&height=%d&method=%s", width, height, method);
    return ask_for_file(ctx, server,
                        ht_arena_printf(ctx->arena, "/_matrix/federation/v1/media/thumbnail/%s?%s", id, query),
                        ht_arena_printf(ctx->arena, "/_matrix/media/v3/thumbnail/%s/%s?%s&allow_remote=false",
                                        ht_percent_encode(ctx->arena, server), id, query),
                        out);
}
