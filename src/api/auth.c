/* auth.c -- who is calling, and proving it again for sensitive changes.
 *
 * Access tokens are 32 random bytes (256 bits) from libsodium's CSPRNG, sent
 * to the client once and stored only as their SHA-256, so the database never
 * holds a usable token. */
#include "api/auth.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "api/registration_tokens.h"
#include "matrix/ids.h"
#include "matrix/password.h"
#include "store/accounts.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/utf8.h"

enum { TOKEN_BYTES = 32, UIA_SESSION_TTL_MS = 30 * 60 * 1000 };

static const char device_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

ht_error ht_auth_check(ht_ctx *ctx, bool required) {
    const char *token = NULL;
    const char *header = ht_request_header(ctx->req, "authorization");
    if (header && strncasecmp(header, "Bearer ", 7) == 0) token = header + 7;
    if (!token) token = ht_request_query(ctx->req, "access_token");
    if (!token || !*token) {
        if (!required) return (ht_error){0};
        return (ht_error){HT_M_MISSING_TOKEN, 0, "An access token is required."};
    }
    unsigned char hash[HT_SHA256_BYTES];
    ht_sha256(token, strlen(token), hash);
    ht_token_row row;
    if (!ht_store_token_lookup(ctx->env->store, ctx->arena, hash, sizeof hash, &row) ||
        row.deactivated)
        return (ht_error){HT_M_UNKNOWN_TOKEN, 0, "The access token is not known or was logged out."};
    ctx->auth = (ht_auth){.user_id = row.user_id, .device_id = row.device_id, .token_id = row.id};
    ctx->authenticated = true;
    return (ht_error){0};
}

bool ht_session_create(ht_ctx *ctx, const char *user_id, const char *device_id,
                       const char *display_name, json_t *reply) {
    ht_store *store = ctx->env->store;
    if (!device_id) device_id = ht_random_string(ctx->arena, 10, device_alphabet);
    /* A login naming an existing device replaces that device's session. */
    ht_store_token_delete_device(store, user_id, device_id);
    if (!ht_store_device_upsert(store, user_id, device_id, display_name, ctx->now_ms)) return false;
    const char *token = ht_random_token(ctx->arena, TOKEN_BYTES);
    unsigned char hash[HT_SHA256_BYTES];
    ht_sha256(token, strlen(token), hash);
    if (!ht_store_token_insert(store, hash, sizeof hash, user_id, device_id, ctx->now_ms)) return false;
    json_object_set_new(reply, "user_id", json_string(user_id));
    json_object_set_new(reply, "access_token", json_string(token));
    json_object_set_new(reply, "device_id", json_string(device_id));
    return true;
}

bool ht_device_fields_ok(ht_ctx *ctx, const char *device_id, const char *display_name, ht_reply *err) {
    if (device_id && (!*device_id || strlen(device_id) > HT_MAX_DEVICE_ID_BYTES)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "A device id must be 1 to 255 bytes.");
        return false;
    }
    if (display_name && ht_utf8_count(display_name) > HT_MAX_DEVICE_NAME_CHARS) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "A device's display name may be at most %d characters.",
                               HT_MAX_DEVICE_NAME_CHARS);
        return false;
    }
    return true;
}

const char *ht_login_user_id(ht_ctx *ctx, const char *user) {
    if (!user || !*user) return NULL;
    char *id;
    if (user[0] == '@') {
        if (!ht_user_id_valid(user)) return NULL;
        const char *server = ht_id_server(user);
        if (!server || strcmp(server, ctx->env->server_name) != 0) return NULL;
        id = ht_arena_strdup(ctx->arena, user);
    } else {
        id = ht_user_id_make(ctx->arena, user, ctx->env->server_name);
    }
    /* Localparts are lower case; people type their names as they like. */
    for (char *p = id + 1; *p && *p != ':'; p++) *p = (char)tolower((unsigned char)*p);
    return id;
}

static ht_reply uia_challenge(ht_ctx *ctx, const char *stage, const char *session,
                              ht_errcode code, const char *message) {
    json_t *body = json_pack("{s:[{s:[s]}], s:{}, s:s, s:[]}", "flows", "stages", stage, "params",
                             "session", session, "completed");
    if (code) {
        json_object_set_new(body, "errcode", json_string(ht_errcode_name(code)));
        json_object_set_new(body, "error", json_string(message));
    }
    (void)ctx;
    ht_reply reply = ht_reply_json(body);
    reply.status = 401;
    return reply;
}

bool ht_uia_check(ht_ctx *ctx, json_t *body, const char *stage, const char *user_id,
                  ht_reply *reply) {
    ht_store *store = ctx->env->store;
    json_t *auth = json_object_get(body, "auth");
    const char *session = ht_json_str(auth, "session");
    const char *session_user = NULL;
    bool known = session && ht_store_uia_get(store, ctx->arena, session,
                                             ctx->now_ms - UIA_SESSION_TTL_MS, &session_user);
    if (known && session_user && (!user_id || strcmp(session_user, user_id) != 0)) known = false;
    if (!json_is_object(auth) || (!known && strcmp(stage, "m.login.dummy") != 0)) {
        const char *fresh = ht_random_token(ctx->arena, 18);
        ht_store_uia_insert(store, fresh, user_id, ctx->now_ms);
        *reply = uia_challenge(ctx, stage, fresh, HT_OK, NULL);
        return false;
    }
    const char *type = ht_json_str(auth, "type");
    if (!type || strcmp(type, stage) != 0) {
        *reply = ht_reply_errorf(ctx, HT_M_UNRECOGNIZED, "This server offers only the %s stage here.", stage);
        reply->error.status = 400;
        return false;
    }
    if (strcmp(stage, HT_STAGE_REGISTRATION_TOKEN) == 0 &&
        !ht_registration_token_redeem(ctx, ht_json_str(auth, "token"))) {
        /* spec: client-server "Token-authenticated registration" */
        *reply = uia_challenge(ctx, stage, session, HT_M_UNAUTHORIZED,
                               "That registration token is not valid: unknown, used up or expired.");
        return false;
    }
    if (strcmp(stage, "m.login.password") == 0) {
        json_t *identifier = json_object_get(auth, "identifier");
        const char *who = ht_json_str(identifier, "user");
        if (!who) who = ht_json_str(auth, "user");
        const char *claimed = ht_login_user_id(ctx, who);
        const char *password = ht_json_str(auth, "password");
        ht_user_row user;
        bool ok = false;
        if (claimed && password && strlen(password) <= HT_MAX_PASSWORD_BYTES && strcmp(claimed, user_id) == 0 &&
            ht_store_user_get(store, ctx->arena, user_id, &user) && user.password_hash &&
            !ht_password_check(ctx, user.password_hash, password, &ok, reply))
            return false;
        if (!ok) {
            *reply = uia_challenge(ctx, stage, session, HT_M_FORBIDDEN, "Invalid password.");
            return false;
        }
    }
    if (session) ht_store_uia_delete(store, session, ctx->now_ms - UIA_SESSION_TTL_MS);
    return true;
}
