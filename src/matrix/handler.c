/* handler.c -- building replies and reading request bodies. */
#include "matrix/handler.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

/* json_pack answers NULL when a value it was given is missing (a NULL
 * string, an absent object): the handler built no answer, which must not
 * go out as a success. As an error, the request is also rolled back. */
ht_reply ht_reply_json(json_t *json) {
    if (!json) return ht_reply_error(HT_M_SERVER_ERROR, "The answer could not be built.");
    return (ht_reply){.json = json};
}

ht_reply ht_reply_json_text(ht_ctx *ctx, ht_buf *text) {
    ht_arena_on_reset(ctx->arena, free, text->data);
    return (ht_reply){.raw = (const unsigned char *)text->data, .raw_len = text->len, .content_type = "application/json"};
}

ht_reply ht_reply_empty(void) { return (ht_reply){.json = json_object()}; }

ht_reply ht_reply_error(ht_errcode code, const char *message) {
    return (ht_reply){.error = {code, 0, message}};
}

ht_reply ht_reply_status_error(int status, ht_errcode code, const char *message) {
    return (ht_reply){.error = {code, status, message}};
}

ht_reply ht_reply_park(uint64_t position, int64_t deadline_ms, const uint64_t *keys, size_t key_count) {
    if (key_count > HT_MAX_PARK_KEYS) keys = NULL, key_count = 0;
    return (ht_reply){.park = true, .park_position = position, .park_deadline_ms = deadline_ms,
                      .park_keys = keys, .park_key_count = keys ? key_count : 0};
}

ht_reply ht_reply_rate_limited(ht_ctx *ctx, int64_t retry_after_ms) {
    ht_reply reply = ht_reply_error(HT_M_LIMIT_EXCEEDED, "Too many requests; please wait a moment and try again.");
    reply.error_extra = json_pack("{s:I}", "retry_after_ms", (json_int_t)retry_after_ms);
    reply.extra_headers =
        ht_arena_printf(ctx->arena, "Retry-After: %lld\r\n", (long long)((retry_after_ms + 999) / 1000));
    return reply;
}

ht_reply ht_reply_errorf(ht_ctx *ctx, ht_errcode code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[1];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    char *message = ht_arena_alloc(ctx->arena, n > 0 ? (size_t)n + 1 : 1);
    va_start(ap, fmt);
    vsnprintf(message, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
    return ht_reply_error(code, message);
}

const char *ht_param_get(const ht_ctx *ctx, const char *name) {
    for (size_t i = 0; i < ctx->param_count; i++)
        if (strcmp(ctx->params[i].name, name) == 0) return ctx->params[i].value;
    return NULL;
}

bool ht_body_object(ht_ctx *ctx, json_t **out, ht_reply *err) {
    if (!ctx->body_json) {
        json_error_t jerr;
        /* Empty bodies count as {} where a client may omit them (POST /logout).
         * Any JSON value parses, so that valid JSON of the wrong kind ("5",
         * "[]") is told apart as M_BAD_JSON from text that is not JSON. */
        if (ctx->req->body_len == 0) {
            ctx->body_json = json_object();
        } else if (!ht_json_depth_ok((const char *)ctx->req->body, ctx->req->body_len,
                                     HT_JSON_MAX_DEPTH)) {
            *err = ht_reply_errorf(ctx, HT_M_BAD_JSON, "The request body nests deeper than %d levels.",
                                   HT_JSON_MAX_DEPTH);
            return false;
        } else {
            ctx->body_json = json_loadb((const char *)ctx->req->body, ctx->req->body_len,
                                        JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
        }
        if (!ctx->body_json) {
            /* Where, not what: jansson's text quotes the bytes near the
             * error, and those may be a password. */
            *err = ht_reply_errorf(ctx, HT_M_NOT_JSON,
                                   "The request body is not valid JSON (line %d, column %d).",
                                   jerr.line, jerr.column);
            return false;
        }
    }
    if (!json_is_object(ctx->body_json)) {
        *err = ht_reply_error(HT_M_BAD_JSON, "The request body must be a JSON object.");
        return false;
    }
    *out = ctx->body_json;
    return true;
}

bool ht_query_count(ht_ctx *ctx, const char *name, int64_t fallback, int64_t max, int64_t *out,
                    ht_reply *err) {
    const char *value = ht_request_query(ctx->req, name);
    *out = fallback;
    if (!value) return true;
    size_t digits = strspn(value, "0123456789");
    if (digits == 0 || value[digits] != '\0') {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s must be a non-negative whole number.", name);
        return false;
    }
    /* Too many digits for an int64 is simply "very large". */
    long long v = digits > 18 ? INT64_MAX : strtoll(value, NULL, 10);
    *out = v > max ? max : v;
    return true;
}
