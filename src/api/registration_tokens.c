/* registration_tokens.c -- registration tokens: the admin API that makes
 * and manages them (/_synapse/admin/v1/registration_tokens, Synapse's
 * shapes), the spec's validity check
 * (GET /_matrix/client/v1/register/m.login.registration_token/validity) and
 * the m.login.registration_token stage of /register.
 *
 * A token's use is counted in the same transaction that creates the
 * account, so "pending" uses never exist here: two registrations racing
 * for a token's last use are serialized by the database, and the loser is
 * refused. */
#include "api/registration_tokens.h"

#include <string.h>

#include "api/admin.h"
#include "store/registration_tokens.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/json.h"

enum { MAX_TOKEN_BYTES = 64, DEFAULT_TOKEN_LENGTH = 16, MAX_TOKENS_LISTED = 10000 };

static const char token_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-";

/* 1 to 64 characters of [A-Za-z0-9._~-]. */
static bool token_valid(const char *token) {
    size_t len = token ? strlen(token) : 0;
    return len >= 1 && len <= MAX_TOKEN_BYTES && strspn(token, token_alphabet) == len;
}

bool ht_registration_token_redeem(ht_ctx *ctx, const char *token) {
    return token_valid(token) && ht_store_reg_token_use(ctx->env->store, token, ctx->now_ms);
}

/* spec: client-server "GET /_matrix/client/v1/register/m.login.registration_token/validity" */
ht_reply ht_api_registration_token_validity(ht_ctx *ctx) {
    if (ctx->env->cfg->registration == HT_REGISTRATION_CLOSED)
        return ht_reply_error(HT_M_FORBIDDEN, "Registration is closed on this server: no token is valid.");
    const char *token = ht_request_query(ctx->req, "token");
    if (!token) return ht_reply_error(HT_M_MISSING_PARAM, "The token parameter is required.");
    bool valid = token_valid(token) && ht_store_reg_token_usable(ctx->env->store, token, ctx->now_ms);
    return ht_reply_json(json_pack("{s:b}", "valid", valid));
}

/* ---- the admin API ------------------------------------------------------ */

static json_t *token_json(const ht_reg_token_row *t) {
    return json_pack("{s:s, s:o, s:I, s:I, s:o}", "token", t->token, "uses_allowed",
                     t->limited ? json_integer(t->uses_allowed) : json_null(), "pending", (json_int_t)t->pending,
                     "completed", (json_int_t)t->completed, "expiry_time",
                     t->expires ? json_integer(t->expiry_ms) : json_null());
}

/* uses_allowed: a whole number >= 0, or null (no limit: *out = -1). */
static bool read_uses(ht_ctx *ctx, json_t *v, int64_t *out, ht_reply *err) {
    (void)ctx;
    if (json_is_null(v)) {
        *out = -1;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "uses_allowed must be a whole number of at least 0, or null.");
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

/* expiry_time: milliseconds since the epoch, not in the past; or null. */
static bool read_expiry(ht_ctx *ctx, json_t *v, int64_t *out, ht_reply *err) {
    if (json_is_null(v)) {
        *out = -1;
        return true;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "expiry_time must be milliseconds since 1970, or null.");
        return false;
    }
    if (json_integer_value(v) < ctx->now_ms) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "expiry_time must not be in the past.");
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

static bool existing_token(ht_ctx *ctx, ht_reg_token_row *row, ht_reply *err) {
    const char *token = ht_param_get(ctx, "token");
    if (!token_valid(token) || !ht_store_reg_token_get(ctx->env->store, ctx->arena, token, row)) {
        *err = ht_reply_errorf(ctx, HT_M_NOT_FOUND, "No such registration token: %.64s", token);
        return false;
    }
    return true;
}

/* spec: Synapse admin API "Registration Tokens: List all tokens" */
ht_reply ht_api_admin_tokens_list(ht_ctx *ctx) {
    const char *valid_text = ht_request_query(ctx->req, "valid");
    int valid = -1;
    if (valid_text && strcmp(valid_text, "true") == 0) valid = 1;
    else if (valid_text && strcmp(valid_text, "false") == 0) valid = 0;
    else if (valid_text) return ht_reply_error(HT_M_INVALID_PARAM, "valid must be true or false.");
    ht_reg_token_row *rows;
    size_t n = ht_store_reg_token_list(ctx->env->store, ctx->arena, valid, ctx->now_ms, MAX_TOKENS_LISTED, &rows);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(list, token_json(&rows[i]));
    return ht_reply_json(json_pack("{s:o}", "registration_tokens", list));
}

ht_reply ht_api_admin_token_get(ht_ctx *ctx) {
    ht_reg_token_row row;
    ht_reply err;
    if (!existing_token(ctx, &row, &err)) return err;
    return ht_reply_json(token_json(&row));
}

/* spec: Synapse admin API "Registration Tokens: Create token" */
ht_reply ht_api_admin_token_new(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *token = json_object_get(body, "token");
    json_t *length = json_object_get(body, "length");
    int64_t uses = -1, expiry = -1;
    json_t *v;
    if (((v = json_object_get(body, "uses_allowed")) && !read_uses(ctx, v, &uses, &err)) ||
        ((v = json_object_get(body, "expiry_time")) && !read_expiry(ctx, v, &expiry, &err)))
        return err;
    const char *text;
    if (token && !json_is_null(token)) {
        if (!json_is_string(token) || !token_valid(json_string_value(token)))
            return ht_reply_error(HT_M_INVALID_PARAM,
                                  "token must be 1 to 64 characters of A-Z, a-z, 0-9 and . _ ~ -");
        text = json_string_value(token);
    } else {
        int64_t n = DEFAULT_TOKEN_LENGTH;
        if (length && !json_is_null(length)) {
            if (!json_is_integer(length) || json_integer_value(length) < 1 ||
                json_integer_value(length) > MAX_TOKEN_BYTES)
                return ht_reply_error(HT_M_INVALID_PARAM, "length must be a whole number from 1 to 64.");
            n = json_integer_value(length);
        }
        text = ht_random_string(ctx->arena, (size_t)n, token_alphabet);
    }
    if (!ht_store_reg_token_insert(ctx->env->store, text, uses, expiry, ctx->now_ms)) {
        if (ht_store_failed(ctx->env->store)) return ht_reply_error(HT_M_SERVER_ERROR, "The token could not be stored.");
        return ht_reply_error(HT_M_INVALID_PARAM, "That registration token exists already.");
    }
    ht_admin_note(ctx, "made a registration token (%s uses, %s)",
                  uses < 0 ? "unlimited" : ht_arena_printf(ctx->arena, "%lld", (long long)uses),
                  expiry < 0 ? "no expiry" : ht_arena_printf(ctx->arena, "expires at %lld ms", (long long)expiry));
    ht_reg_token_row row;
    ht_store_reg_token_get(ctx->env->store, ctx->arena, text, &row);
    return ht_reply_json(token_json(&row));
}

/* spec: Synapse admin API "Registration Tokens: Update token" */
ht_reply ht_api_admin_token_put(ht_ctx *ctx) {
    ht_reg_token_row row;
    json_t *body;
    ht_reply err;
    if (!existing_token(ctx, &row, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *uses_v = json_object_get(body, "uses_allowed");
    json_t *expiry_v = json_object_get(body, "expiry_time");
    int64_t uses = -1, expiry = -1;
    if ((uses_v && !read_uses(ctx, uses_v, &uses, &err)) || (expiry_v && !read_expiry(ctx, expiry_v, &expiry, &err)))
        return err;
    ht_store_reg_token_update(ctx->env->store, row.token, uses_v != NULL, uses, expiry_v != NULL, expiry);
    ht_admin_note(ctx, "changed a registration token's%s%s", uses_v ? " uses" : "", expiry_v ? " expiry" : "");
    ht_store_reg_token_get(ctx->env->store, ctx->arena, row.token, &row);
    return ht_reply_json(token_json(&row));
}

ht_reply ht_api_admin_token_delete(ht_ctx *ctx) {
    ht_reg_token_row row;
    ht_reply err;
    if (!existing_token(ctx, &row, &err)) return err;
    ht_store_reg_token_delete(ctx->env->store, row.token);
    ht_admin_note(ctx, "deleted a registration token");
    return ht_reply_empty();
}
