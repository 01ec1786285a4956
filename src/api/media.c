/* media.c -- uploading and serving files: /_matrix/media/v3/upload,
 * /_matrix/media/v1/create, and the download, thumbnail and config
 * endpoints under both /_matrix/client/v1/media (authenticated) and the
 * deprecated /_matrix/media/v3.
 *
 * The bytes come back exactly as they went in; what makes serving a
 * stranger's file safe is the headers: the uploaded Content-Type is served
 * as given, but only types a browser cannot run (images, audio, video,
 * plain text) are marked inline; everything else is an attachment, and every
 * answer carries the sandboxing Content-Security-Policy the spec recommends,
 * so an uploaded HTML page or SVG never runs on this origin. File names are
 * escaped per RFC 6266 / RFC 8187, so no name can inject a header.
 *
 * Thumbnails: no image library is linked, so this server scales nothing.
 * The spec asks for "an image larger than or equal to the dimensions
 * requested where possible", so a small image of a kind every browser shows
 * (PNG, JPEG, GIF, WebP; at most MAX_OWN_THUMBNAIL bytes) is served as its
 * own thumbnail, and clients scale it. Anything else gets the spec's 400
 * (M_UNKNOWN) for content the server cannot thumbnail: serving a large
 * original would hand a client a big file where it asked for a small one.
 *
 * Another server's file (federation on) is asked of it once
 * (federation/media.c) and kept among ours under "<server>/<id>", then
 * served as ours are. A thumbnail of it is asked of that server in one of
 * a few fixed sizes (remote_thumbnail) and kept the same way; a server that
 * gives none has its file served by the rule above. Our files and
 * thumbnails go to other servers through /_matrix/federation/v1/media/,
 * at the end of this file. */
#include "api/media.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "federation/federation.h"
#include "store/media.h"
#include "store/meta.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/recent_keys.h"
#include "util/wake.h"

enum {
    MEDIA_ID_LENGTH = 24,
    MAX_MEDIA_ID = 255,
    MAX_FILENAME_BYTES = 255,
    MAX_CONTENT_TYPE_BYTES = 255,
    MAX_PENDING_PER_USER = 50,
    DEFAULT_STALL_MS = 20000,
    MAX_STALL_MS = 60000,
};
static const int64_t UNUSED_EXPIRES_MS = 24 * 60 * 60 * 1000;
static const int64_t MAX_OWN_THUMBNAIL = 1024 * 1024;
static const int64_t THUMBNAIL_MISS_MS = 10 * 60 * 1000; /* remote_thumbnail */

static const char media_id_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/* The spec's recommended policy for served media. */
static const char media_headers[] =
    "Content-Security-Policy: sandbox; default-src 'none'; script-src 'none'; "
    "plugin-types application/pdf; style-src 'unsafe-inline'; object-src 'self';\r\n"
    "Cross-Origin-Resource-Policy: cross-origin\r\n"
    "X-Content-Type-Options: nosniff\r\n";

/* Types a browser shows without running anything (the list of MSC2702 /
 * spec v1.12 "inline" types); anything else downloads as an attachment. */
static const char *const inline_types[] = {
    "text/css", "text/plain", "text/csv", "application/json", "application/ld+json",
    "image/jpeg", "image/gif", "image/png", "image/apng", "image/webp", "image/avif",
    "video/mp4", "video/webm", "video/ogg", "video/quicktime",
    "audio/mp4", "audio/webm", "audio/aac", "audio/mpeg", "audio/ogg", "audio/wave",
    "audio/wav", "audio/x-wav", "audio/x-pn-wav", "audio/flac", "audio/x-flac",
};

static bool media_is_inline(const char *content_type) {
    size_t len = strcspn(content_type, "; \t");
    for (size_t i = 0; i < sizeof inline_types / sizeof *inline_types; i++)
        if (strlen(inline_types[i]) == len && strncasecmp(inline_types[i], content_type, len) == 0)
            return true;
    return false;
}

/* RFC 7230 tchar: what a type or subtype may be made of. */
static bool is_tchar(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "type/subtype" followed by parameters made of visible ASCII only. What we
 * accept here is sent back verbatim as a header, so nothing else gets in. */
static bool content_type_valid(const char *t) {
    size_t len = strlen(t);
    if (len == 0 || len > MAX_CONTENT_TYPE_BYTES) return false;
    size_t i = 0;
    while (is_tchar((unsigned char)t[i])) i++;
    if (i == 0 || t[i] != '/') return false;
    size_t j = ++i;
    while (is_tchar((unsigned char)t[i])) i++;
    if (i == j) return false;
    for (; t[i]; i++)
        if ((unsigned char)t[i] < 0x20 || (unsigned char)t[i] > 0x7e) return false;
    return true;
}

static bool filename_valid(const char *name) {
    if (strlen(name) > MAX_FILENAME_BYTES) return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return true;
}

/* RFC 8187 attr-char: sent as is in filename*=; everything else %XX. */
static bool is_attr_char(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$&+-.^_`|~", c));
}

/* "inline" or "attachment", with the file name: a quoted string when the
 * name is plain printable ASCII, otherwise the RFC 8187 UTF-8 form. */
static const char *content_disposition(ht_arena *arena, const char *content_type,
                                       const char *filename) {
    const char *kind = media_is_inline(content_type) ? "inline" : "attachment";
    if (!filename || !*filename) return kind;
    bool plain = true;
    for (const unsigned char *p = (const unsigned char *)filename; *p; p++)
        if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\') plain = false;
    if (plain) return ht_arena_printf(arena, "%s; filename=\"%s\"", kind, filename);
    size_t n = strlen(filename);
    char *enc = ht_arena_alloc(arena, n * 3 + 1), *o = enc;
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)filename; *p; p++) {
        if (is_attr_char(*p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return ht_arena_printf(arena, "%s; filename*=utf-8''%s", kind, enc);
}

static size_t max_upload(const ht_ctx *ctx) {
    const ht_config *cfg = ctx->env->cfg;
    return cfg->max_upload_bytes < cfg->max_body_bytes ? cfg->max_upload_bytes : cfg->max_body_bytes;
}

static const char *mxc_uri(ht_ctx *ctx, const char *media_id) {
    return ht_arena_printf(ctx->arena, "mxc://%s/%s", ctx->env->server_name, media_id);
}

/* The body's Content-Type and the filename parameter, checked. */
static bool upload_params(ht_ctx *ctx, const char **content_type, const char **filename,
                          ht_reply *err) {
    const char *type = ht_request_header(ctx->req, "content-type");
    if (!type || !*type) type = "application/octet-stream";
    if (!content_type_valid(type)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "The Content-Type header is not a valid media type.");
        return false;
    }
    const char *name = ht_request_query(ctx->req, "filename");
    if (name && !filename_valid(name)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM,
                              "filename must be at most 255 bytes, without control characters.");
        return false;
    }
    if (ctx->req->body_len > max_upload(ctx)) {
        *err = ht_reply_errorf(ctx, HT_M_TOO_LARGE, "The file is larger than this server accepts (%zu bytes).",
                               max_upload(ctx));
        return false;
    }
    *content_type = type;
    *filename = name && *name ? name : NULL;
    return true;
}

ht_reply ht_api_media_upload(ht_ctx *ctx) {
    const char *type, *filename;
    ht_reply err;
    if (!upload_params(ctx, &type, &filename, &err)) return err;
    const char *media_id = ht_random_string(ctx->arena, MEDIA_ID_LENGTH, media_id_alphabet);
    if (!ht_store_media_insert(ctx->env->store, media_id, ctx->auth.user_id, ctx->now_ms, type,
                               filename, ctx->req->body, ctx->req->body_len))
        return ht_reply_error(HT_M_SERVER_ERROR, "The file could not be stored.");
    return ht_reply_json(json_pack("{s:s}", "content_uri", mxc_uri(ctx, media_id)));
}

ht_reply ht_api_media_create(ht_ctx *ctx) {
    ht_store *store = ctx->env->store;
    if (ht_store_media_pending_count(store, ctx->auth.user_id, ctx->now_ms) >= MAX_PENDING_PER_USER)
        return ht_reply_error(HT_M_LIMIT_EXCEEDED,
                              "You have too many media ids waiting for their upload; upload to them first.");
    const char *media_id = ht_random_string(ctx->arena, MEDIA_ID_LENGTH, media_id_alphabet);
    int64_t expires = ctx->now_ms + UNUSED_EXPIRES_MS;
    if (!ht_store_media_create(store, media_id, ctx->auth.user_id, ctx->now_ms, expires))
        return ht_reply_error(HT_M_SERVER_ERROR, "The media id could not be stored.");
    return ht_reply_json(json_pack("{s:s, s:I}", "content_uri", mxc_uri(ctx, media_id),
                                   "unused_expires_at", (json_int_t)expires));
}

static bool media_id_valid(const char *id) {
    size_t n = strlen(id);
    if (n == 0 || n > MAX_MEDIA_ID) return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr(media_id_alphabet, id[i]) && id[i] != '-' && id[i] != '_') return false;
    return true;
}

/* A server name as it may appear in an mxc URI: host characters, a port,
 * an IPv6 literal's brackets. */
static bool server_name_plausible(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 255) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              strchr(".-:[]", s[i])))
            return false;
    return true;
}

/* The file name of a Content-Disposition (filename="..."; the plain form
 * only), if it is one we would accept from a client; else NULL. */
static const char *disposition_filename(ht_arena *arena, const char *disposition) {
    const char *f = disposition ? strstr(disposition, "filename=\"") : NULL;
    if (!f) return NULL;
    f += 10;
    const char *end = strchr(f, '"');
    const char *name = end ? ht_arena_strndup(arena, f, (size_t)(end - f)) : NULL;
    return name && *name && filename_valid(name) ? name : NULL;
}

typedef enum { MEDIA_FOUND, MEDIA_ERROR, MEDIA_WAIT, MEDIA_ABSENT } media_found;

/* Another server's file: kept here under "<server>/<id>" (no id of ours has
 * a '/') once fetched, the upload limit applying to what a peer sends, with
 * its type and name checked as an upload's. */
static media_found remote_media(ht_ctx *ctx, const char *server, const char *id, const char **key,
                                ht_media_row *row, ht_reply *err) {
    *key = ht_arena_printf(ctx->arena, "%s/%s", server, id);
    if (ht_store_media_get(ctx->env->store, ctx->arena, *key, row) && row->uploaded) return MEDIA_FOUND;
    ht_fed_media m;
    if (!ht_fed_remote_media(ctx, server, id, &m)) return MEDIA_WAIT;
    if (!m.found) {
        *err = m.not_found ? ht_reply_error(HT_M_NOT_FOUND, "There is no such file on its server.")
                           : ht_reply_status_error(502, HT_M_UNKNOWN,
                                                   ht_arena_printf(ctx->arena, "The file could not be fetched: %s",
                                                                   m.why ? m.why : "no answer"));
        return MEDIA_ERROR;
    }
    if (m.len > max_upload(ctx)) {
        *err = ht_reply_status_error(502, HT_M_TOO_LARGE, "The file is larger than this server accepts.");
        return MEDIA_ERROR;
    }
    const char *type = m.content_type && content_type_valid(m.content_type) ? m.content_type
                                                                            : "application/octet-stream";
    if (!ht_store_media_insert(ctx->env->store, *key, server, ctx->now_ms, type,
                               disposition_filename(ctx->arena, m.disposition), m.bytes, m.len) ||
        !ht_store_media_get(ctx->env->store, ctx->arena, *key, row)) {
        *err = ht_reply_error(HT_M_SERVER_ERROR, "The file could not be stored.");
        return MEDIA_ERROR;
    }
    return MEDIA_FOUND;
}

/* An id of another server's file that may be asked of it (federation on). */
static bool is_remote(const ht_ctx *ctx, const char *server, const char *id) {
    return strcmp(server, ctx->env->server_name) != 0 && ctx->env->cfg->federation && media_id_valid(id) &&
           server_name_plausible(server);
}

/* One of our files, `id`: stored, uploaded or still pending; 404 for
 * anything else, including a pending id that expired unused. */
static bool own_media(ht_ctx *ctx, const char *id, ht_media_row *row, ht_reply *err) {
    if (media_id_valid(id) && ht_store_media_get(ctx->env->store, ctx->arena, id, row) &&
        (row->uploaded || row->expires_ms > ctx->now_ms))
        return true;
    *err = ht_reply_error(HT_M_NOT_FOUND, "There is no such file on this server.");
    return false;
}

/* Finds {serverName}/{mediaId}: ours, or (federation on) another server's,
 * fetched once and kept; 404 for anything else. */
static media_found media_find(ht_ctx *ctx, const char **media_id, ht_media_row *row, ht_reply *err) {
    const char *server = ht_param_get(ctx, "serverName");
    const char *id = ht_param_get(ctx, "mediaId");
    if (is_remote(ctx, server, id)) return remote_media(ctx, server, id, media_id, row, err);
    if (strcmp(server, ctx->env->server_name) != 0) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "There is no such file on this server.");
        return MEDIA_ERROR;
    }
    if (!own_media(ctx, id, row, err)) return MEDIA_ERROR;
    *media_id = id;
    return MEDIA_FOUND;
}

ht_reply ht_api_media_upload_to(ht_ctx *ctx) {
    const char *media_id, *type, *filename;
    ht_media_row row;
    ht_reply err;
    if (strcmp(ht_param_get(ctx, "serverName"), ctx->env->server_name) != 0)
        return ht_reply_error(HT_M_NOT_FOUND, "There is no such file on this server.");
    if (media_find(ctx, &media_id, &row, &err) != MEDIA_FOUND) return err;
    if (strcmp(row.uploader, ctx->auth.user_id) != 0)
        return ht_reply_error(HT_M_FORBIDDEN, "This media id was created by someone else.");
    if (row.uploaded)
        return ht_reply_error(HT_M_CANNOT_OVERWRITE_MEDIA, "This media id already has its file.");
    if (!upload_params(ctx, &type, &filename, &err)) return err;
    if (!ht_store_media_fill(ctx->env->store, media_id, ctx->now_ms, type, filename, ctx->req->body,
                             ctx->req->body_len))
        return ht_reply_error(HT_M_SERVER_ERROR, "The file could not be stored.");
    return ht_reply_empty(); /* filling moved the stream for the downloads waiting */
}

/* How long a download may wait for a pending upload: timeout_ms (spec),
 * or max_stall_ms (MSC2246, which some clients still send). */
static bool stall_param(ht_ctx *ctx, int64_t *stall, ht_reply *err) {
    const char *name = ht_request_query(ctx->req, "timeout_ms") ? "timeout_ms" : "max_stall_ms";
    return ht_query_count(ctx, name, DEFAULT_STALL_MS, MAX_STALL_MS, stall, err);
}

/* A file that exists but whose bytes have not arrived: wait for them (the
 * host calls again when the stream moves), or say so once the time is up. */
static ht_reply media_not_yet(ht_ctx *ctx, const char *media_id, int64_t stall) {
    int64_t deadline = ctx->received_ms + stall;
    if (ctx->now_ms < deadline) {
        uint64_t *key = ht_arena_alloc(ctx->arena, sizeof *key);
        *key = ht_wake_key(HT_WAKE_MEDIA, media_id); /* touched when its bytes arrive */
        return ht_reply_park(ht_store_stream_position(ctx->env->store), deadline, key, 1);
    }
    return ht_reply_error(HT_M_NOT_YET_UPLOADED, "The file has not been uploaded yet.");
}

/* The stored bytes with their headers, named `name` (or as uploaded). */
static ht_reply serve(ht_ctx *ctx, const char *media_id, const ht_media_row *row, const char *name) {
    if (!name || !*name || !filename_valid(name)) name = row->filename;
    const char *type = row->content_type ? row->content_type : "application/octet-stream";
    /* The bytes are not copied here: the door reads them from the database
     * as the client takes them (matrix/handler.h, media_id). */
    return (ht_reply){.media_id = media_id,
                      .raw_len = (size_t)row->size,
                      .content_type = type,
                      .extra_headers = ht_arena_printf(ctx->arena, "Content-Disposition: %s\r\n%s",
                                                       content_disposition(ctx->arena, type, name),
                                                       media_headers)};
}

ht_reply ht_api_media_download(ht_ctx *ctx) {
    const char *media_id;
    ht_media_row row;
    int64_t stall;
    ht_reply err;
    if (!stall_param(ctx, &stall, &err)) return err;
    media_found found = media_find(ctx, &media_id, &row, &err);
    if (found == MEDIA_WAIT) return (ht_reply){0};
    if (found == MEDIA_ERROR) return err;
    if (!row.uploaded) return media_not_yet(ctx, media_id, stall);
    return serve(ctx, media_id, &row, ht_param_get(ctx, "fileName"));
}

/* An image every browser shows. */
static bool is_shown_image(const char *content_type) {
    static const char *const shown[] = {"image/png", "image/jpeg", "image/gif", "image/webp"};
    for (size_t i = 0; content_type && i < sizeof shown / sizeof *shown; i++)
        if (strcasecmp(content_type, shown[i]) == 0) return true;
    return false;
}

/* See the top of this file. */
static bool is_own_thumbnail(const ht_media_row *row) {
    return is_shown_image(row->content_type) && row->size <= MAX_OWN_THUMBNAIL;
}

static ht_reply cannot_thumbnail(void) {
    return ht_reply_error(HT_M_UNKNOWN, "This server does not scale images, and this file is not a small image: "
                                        "download it instead.");
}

static bool dimension_param(ht_ctx *ctx, const char *name, long long *pixels, ht_reply *err) {
    const char *v = ht_request_query(ctx->req, name);
    if (!v) {
        *err = ht_reply_errorf(ctx, HT_M_MISSING_PARAM, "The %s parameter is required.", name);
        return false;
    }
    char *end;
    *pixels = strtoll(v, &end, 10);
    if (!*v || *end || *pixels <= 0) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s must be a positive whole number of pixels.", name);
        return false;
    }
    return true;
}

typedef struct thumbnail_ask {
    long long width, height;
    const char *method; /* "crop" or "scale" */
} thumbnail_ask;

/* width, height and method of a thumbnail request. */
static bool thumbnail_params(ht_ctx *ctx, thumbnail_ask *ask, ht_reply *err) {
    if (!dimension_param(ctx, "width", &ask->width, err) || !dimension_param(ctx, "height", &ask->height, err))
        return false;
    ask->method = ht_request_query(ctx->req, "method");
    if (!ask->method) ask->method = "scale"; /* the spec's default */
    if (strcmp(ask->method, "crop") != 0 && strcmp(ask->method, "scale") != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "method must be \"crop\" or \"scale\".");
        return false;
    }
    return true;
}

/* The sizes asked of other servers (the default sizes Synapse makes), so
 * that what clients ask cannot make this server keep more than these few
 * thumbnails of a file: the smallest of the asked method that covers the
 * asked size, else the smallest that covers it, else the largest. */
static const thumbnail_ask thumbnail_sizes[] = {
    {32, 32, "crop"}, {96, 96, "crop"}, {320, 240, "scale"}, {640, 480, "scale"}, {800, 600, "scale"},
};

static const thumbnail_ask *thumbnail_size_for(const thumbnail_ask *ask) {
    enum { SIZES = sizeof thumbnail_sizes / sizeof *thumbnail_sizes };
    const thumbnail_ask *covering = NULL;
    for (size_t i = 0; i < SIZES; i++) {
        const thumbnail_ask *t = &thumbnail_sizes[i];
        if (t->width < ask->width || t->height < ask->height) continue;
        if (strcmp(t->method, ask->method) == 0) return t;
        if (!covering) covering = t;
    }
    return covering ? covering : &thumbnail_sizes[SIZES - 1];
}

/* Another server's thumbnail of its file, in one of thumbnail_sizes, kept
 * under "<server>/<id>/<width>x<height>-<method>" (a file's key has one
 * '/'). MEDIA_ABSENT when the server gave none that is a shown image within
 * the upload limit (an old server, one that scales nothing, a file that is
 * no image): the file itself is then the way. Such an answer is remembered
 * for THUMBNAIL_MISS_MS (a client shows the same avatars again and again),
 * unless it may change (a 5xx, a 429). When the server did not answer at
 * all, the file's way is open only if the file is kept here: asking the
 * unreachable server again for it would keep the client waiting twice. */
static media_found remote_thumbnail(ht_ctx *ctx, const char *server, const char *id, const thumbnail_ask *ask,
                                    const char **key, ht_media_row *row, ht_reply *err) {
    const thumbnail_ask *size = thumbnail_size_for(ask);
    *key = ht_arena_printf(ctx->arena, "%s/%s/%lldx%lld-%s", server, id, size->width, size->height, size->method);
    if (ht_store_media_get(ctx->env->store, ctx->arena, *key, row) && row->uploaded) return MEDIA_FOUND;
    if (ht_recent_keys_has(ctx->env->thumbnail_misses, *key, ctx->now_ms)) return MEDIA_ABSENT;
    ht_fed_media m;
    if (!ht_fed_remote_thumbnail(ctx, server, id, (int)size->width, (int)size->height, size->method, &m))
        return MEDIA_WAIT;
    if (m.unreachable &&
        !ht_store_media_get(ctx->env->store, ctx->arena, ht_arena_printf(ctx->arena, "%s/%s", server, id), row)) {
        *err = ht_reply_status_error(502, HT_M_UNKNOWN,
                                     ht_arena_printf(ctx->arena, "The thumbnail could not be fetched: %s", m.why));
        return MEDIA_ERROR;
    }
    if (!m.found || !is_shown_image(m.content_type) || m.len > max_upload(ctx)) {
        if (!m.transient) ht_recent_keys_put(ctx->env->thumbnail_misses, *key, ctx->now_ms + THUMBNAIL_MISS_MS);
        return MEDIA_ABSENT;
    }
    if (!ht_store_media_insert(ctx->env->store, *key, server, ctx->now_ms, m.content_type, NULL, m.bytes, m.len) ||
        !ht_store_media_get(ctx->env->store, ctx->arena, *key, row)) {
        *err = ht_reply_error(HT_M_SERVER_ERROR, "The thumbnail could not be stored.");
        return MEDIA_ERROR;
    }
    return MEDIA_FOUND;
}

ht_reply ht_api_media_thumbnail(ht_ctx *ctx) {
    const char *media_id;
    ht_media_row row;
    int64_t stall;
    thumbnail_ask ask;
    ht_reply err;
    if (!thumbnail_params(ctx, &ask, &err) || !stall_param(ctx, &stall, &err)) return err;
    const char *server = ht_param_get(ctx, "serverName");
    if (is_remote(ctx, server, ht_param_get(ctx, "mediaId"))) {
        media_found given = remote_thumbnail(ctx, server, ht_param_get(ctx, "mediaId"), &ask, &media_id, &row, &err);
        if (given == MEDIA_FOUND) return serve(ctx, media_id, &row, NULL);
        if (given == MEDIA_WAIT) return (ht_reply){0};
        if (given == MEDIA_ERROR) return err;
    }
    media_found found = media_find(ctx, &media_id, &row, &err);
    if (found == MEDIA_WAIT) return (ht_reply){0};
    if (found == MEDIA_ERROR) return err;
    if (!row.uploaded) return media_not_yet(ctx, media_id, stall);
    if (is_own_thumbnail(&row)) return serve(ctx, media_id, &row, NULL);
    return cannot_thumbnail();
}

ht_reply ht_api_media_config(ht_ctx *ctx) {
    return ht_reply_json(json_pack("{s:I}", "m.upload.size", (json_int_t)max_upload(ctx)));
}

/* One of our files for another server, found by the path's {mediaId}
 * (404 for none, M_NOT_YET_UPLOADED while pending). */
static bool federation_find(ht_ctx *ctx, const char **id, ht_media_row *row, ht_reply *err) {
    *id = ht_param_get(ctx, "mediaId");
    if (!own_media(ctx, *id, row, err)) return false;
    if (!row->uploaded) {
        *err = ht_reply_error(HT_M_NOT_YET_UPLOADED, "The file has not been uploaded yet.");
        return false;
    }
    return true;
}

/* A file as the federation media endpoints answer it (spec v1.11,
 * server-server "Content Repository"): multipart/mixed, the metadata (an
 * empty JSON object), then the file with its type and name. The parts are
 * built whole (the file is at most the upload limit); no redirect is
 * offered. */
static ht_reply federation_multipart(ht_ctx *ctx, const char *id, const ht_media_row *row) {
    const char *type = row->content_type ? row->content_type : "application/octet-stream";
    const char *boundary = ht_random_string(ctx->arena, 32, media_id_alphabet);
    const char *head = ht_arena_printf(ctx->arena,
                                       "--%s\r\nContent-Type: application/json\r\n\r\n{}\r\n--%s\r\n"
                                       "Content-Type: %s\r\nContent-Disposition: %s\r\n\r\n",
                                       boundary, boundary, type, content_disposition(ctx->arena, type, row->filename));
    const char *tail = ht_arena_printf(ctx->arena, "\r\n--%s--\r\n", boundary);
    size_t head_len = strlen(head), tail_len = strlen(tail), size = (size_t)row->size;
    unsigned char *body = ht_arena_alloc(ctx->arena, head_len + size + tail_len);
    memcpy(body, head, head_len);
    if (size && !ht_store_media_read(ctx->env->store, id, 0, body + head_len, size))
        return ht_reply_error(HT_M_SERVER_ERROR, "The file could not be read.");
    memcpy(body + head_len + size, tail, tail_len);
    return (ht_reply){.raw = body, .raw_len = head_len + size + tail_len,
                      .content_type = ht_arena_printf(ctx->arena, "multipart/mixed; boundary=%s", boundary)};
}

/* GET /_matrix/federation/v1/media/download/{mediaId} */
ht_reply ht_api_media_federation_download(ht_ctx *ctx) {
    const char *id;
    ht_media_row row;
    ht_reply err;
    if (!federation_find(ctx, &id, &row, &err)) return err;
    return federation_multipart(ctx, id, &row);
}

/* GET /_matrix/federation/v1/media/thumbnail/{mediaId}: as our clients'
 * thumbnails are (a small image is its own thumbnail, else 400). */
ht_reply ht_api_media_federation_thumbnail(ht_ctx *ctx) {
    const char *id;
    ht_media_row row;
    thumbnail_ask ask;
    ht_reply err;
    if (!thumbnail_params(ctx, &ask, &err) || !federation_find(ctx, &id, &row, &err)) return err;
    if (!is_own_thumbnail(&row)) return cannot_thumbnail();
    return federation_multipart(ctx, id, &row);
}
