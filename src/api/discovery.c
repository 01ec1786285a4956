/* discovery.c -- what a client asks before it knows anything:
 * GET /_matrix/client/versions and GET /.well-known/matrix/client. */
#include "api/discovery.h"

#include <string.h>

#include "store/store.h"

/* The spec versions whose required client-server features hometab has.
 * Each entry is a promise clients act on (matrix-js-sdk, for one, switches
 * to authenticated media when it sees v1.11), so add one only when it
 * holds. Read from the changelogs, v1.7 to v1.12 hold: asynchronous
 * uploads, m.mentions and the push conditions of v1.7, reports only by
 * members (v1.8), suppress_edits (v1.9), local erasure, Retry-After and
 * relations with recurse (v1.10), authenticated media (v1.11), `via` on
 * join (v1.12). What they leave optional and hometab does not offer is in
 * the README (login tokens, URL previews, terms of service, account
 * locking, guests). v1.13 is not listed: POST /rooms/{roomId}/report is
 * missing, and so are v1.14's user reports, v1.15's room summaries and
 * v1.16's custom profile fields and use_state_after. */
static const char *const supported_versions[] = {
    "r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6",
    "v1.7",   "v1.8", "v1.9", "v1.10", "v1.11", "v1.12",
};

ht_reply ht_api_versions(ht_ctx *ctx) {
    (void)ctx;
    json_t *versions = json_array();
    for (size_t i = 0; i < sizeof supported_versions / sizeof *supported_versions; i++)
        json_array_append_new(versions, json_string(supported_versions[i]));
    return ht_reply_json(json_pack("{s:o, s:{}}", "versions", versions, "unstable_features"));
}

/* A Host header that can stand in a URL: a hostname, an IP literal, a
 * port (RFC 3986's reg-name and IP-literal characters, nothing else). */
static bool host_plausible(const char *host) {
    if (!*host || strlen(host) > 261) return false;
    for (const char *p = host; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", *p)) return false;
    return true;
}

/* The base URL clients should use: the configured one, or this request's own
 * origin (which is right both natively and inside a service worker); a Host
 * that is not a plausible host gives the server name instead. */
static const char *base_url(ht_ctx *ctx) {
    if (ctx->env->cfg->public_base_url) return ctx->env->cfg->public_base_url;
    const char *host = ht_request_header(ctx->req, "host");
    const char *proto = ht_request_header(ctx->req, "x-forwarded-proto");
    if (!host || !host_plausible(host)) host = ctx->env->cfg->server_name;
    if (!proto || (strcmp(proto, "https") != 0 && strcmp(proto, "http") != 0)) proto = "http";
    return ht_arena_printf(ctx->arena, "%s://%s", proto, host);
}

ht_reply ht_api_well_known_client(ht_ctx *ctx) {
    return ht_reply_json(json_pack("{s:{s:s}}", "m.homeserver", "base_url", base_url(ctx)));
}
