/* account.c -- registering, logging in and out, and the account itself:
 * /register, /register/available, /login, /logout, /logout/all,
 * /account/whoami, /account/password, /account/deactivate.
 *
 * A deactivated account keeps its users row (marked deactivated) forever:
 * the name is never registered again, so nobody can inherit its history. */
#include "api/account.h"

#include <string.h>

#include "api/auth.h"
#include "api/registration_tokens.h"
#include "api/rooms.h"
#include "matrix/ids.h"
#include "matrix/password.h"
#include "store/account_data.h"
#include "store/accounts.h"
#include "store/profile.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/json.h"


/* Checks a requested localpart; on success *user_id is the full id. */
static bool check_username(ht_ctx *ctx, const char *localpart, const char **user_id, ht_reply *err) {
    if (!ht_localpart_valid(localpart)) {
        *err = ht_reply_error(HT_M_INVALID_USERNAME,
                              "User names may only contain a-z, 0-9, and . _ = - / +");
        return false;
    }
    const char *id = ht_user_id_make(ctx->arena, localpart, ctx->env->server_name);
    if (strlen(id) > HT_MAX_ID_LENGTH) {
        *err = ht_reply_error(HT_M_INVALID_USERNAME, "That user name is too long.");
        return false;
    }
    ht_user_row row;
    if (ht_store_user_get(ctx->env->store, ctx->arena, id, &row)) {
        *err = ht_reply_error(HT_M_USER_IN_USE, "That user name is already taken.");
        return false;
    }
    *user_id = id;
    return true;
}

/* spec: client-server "POST /register": 403 when "registration is
 * generally not supported by this homeserver". */
static bool registration_open(ht_ctx *ctx, ht_reply *err) {
    if (ctx->env->cfg->registration != HT_REGISTRATION_CLOSED) return true;
    *err = ht_reply_error(HT_M_FORBIDDEN, "Registration is closed on this server: ask its operator for an account.");
    return false;
}

ht_reply ht_api_register(ht_ctx *ctx) {
    ht_reply closed;
    if (!registration_open(ctx, &closed)) return closed;
    const char *kind = ht_request_query(ctx->req, "kind");
    if (kind && strcmp(kind, "guest") == 0)
        return ht_reply_error(HT_M_GUEST_ACCESS_FORBIDDEN, "Guest accounts are not offered here.");
    if (kind && strcmp(kind, "user") != 0)
        return ht_reply_error(HT_M_INVALID_PARAM, "kind must be \"user\" or \"guest\".");
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;

    json_t *username = json_object_get(body, "username");
    json_t *password = json_object_get(body, "password");
    json_t *device_id = json_object_get(body, "device_id");
    json_t *display = json_object_get(body, "initial_device_display_name");
    json_t *inhibit = json_object_get(body, "inhibit_login");
    if ((username && !json_is_string(username)) || (password && !json_is_string(password)) ||
        (device_id && !json_is_string(device_id)) || (display && !json_is_string(display)) ||
        (inhibit && !json_is_boolean(inhibit)))
        return ht_reply_error(HT_M_BAD_JSON, "username, password, device_id and "
                                             "initial_device_display_name must be strings.");

    if (!ht_device_fields_ok(ctx, json_string_value(device_id), json_string_value(display), &err)) return err;
    const char *user_id;
    const char *localpart = json_string_value(username);
    if (localpart) {
        if (!check_username(ctx, localpart, &user_id, &err)) return err;
    } else {
        do {
            localpart = ht_random_string(ctx->arena, 12, "abcdefghijklmnopqrstuvwxyz0123456789");
        } while (!check_username(ctx, localpart, &user_id, &err));
    }
    /* Clients first call with no auth to learn the flows: answer that
     * before asking for what a complete registration needs. */
    ht_reply challenge;
    const char *stage =
        ctx->env->cfg->registration == HT_REGISTRATION_TOKEN ? HT_STAGE_REGISTRATION_TOKEN : "m.login.dummy";
    if (!ht_uia_check(ctx, body, stage, NULL, &challenge)) return challenge;
    if (!password) return ht_reply_error(HT_M_MISSING_PARAM, "A password is required.");
    if (strlen(json_string_value(password)) > HT_MAX_PASSWORD_BYTES)
        return ht_reply_error(HT_M_INVALID_PARAM, "The password is longer than 1024 bytes.");

    const char *hash;
    if (!ht_password_new(ctx, json_string_value(password), &hash, &err)) return err;
    if (!hash) return ht_reply_error(HT_M_SERVER_ERROR, "The password could not be hashed.");
    if (!ht_store_user_insert(ctx->env->store, user_id, hash, ctx->now_ms))
        return ht_reply_error(HT_M_USER_IN_USE, "That user name is already taken.");
    /* A new account is shown by its localpart until it picks a name. */
    ht_store_profile_set_displayname(ctx->env->store, user_id, localpart);

    json_t *reply = json_pack("{s:s, s:s}", "user_id", user_id, "home_server", ctx->env->server_name);
    if (!json_is_true(inhibit) &&
        !ht_session_create(ctx, user_id, json_string_value(device_id), json_string_value(display), reply)) {
        json_decref(reply);
        return ht_reply_error(HT_M_SERVER_ERROR, "The session could not be created.");
    }
    return ht_reply_json(reply);
}

ht_reply ht_api_register_available(ht_ctx *ctx) {
    ht_reply closed;
    if (!registration_open(ctx, &closed)) return closed;
    const char *username = ht_request_query(ctx->req, "username");
    if (!username) return ht_reply_error(HT_M_MISSING_PARAM, "The username parameter is required.");
    const char *user_id;
    ht_reply err;
    if (!check_username(ctx, username, &user_id, &err)) return err;
    return ht_reply_json(json_pack("{s:b}", "available", 1));
}

ht_reply ht_api_login_flows(ht_ctx *ctx) {
    (void)ctx;
    return ht_reply_json(json_pack("{s:[{s:s}]}", "flows", "type", "m.login.password"));
}

ht_reply ht_api_login(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    const char *type = ht_json_str(body, "type");
    if (!type) return ht_reply_error(HT_M_BAD_JSON, "The login type is missing.");
    if (strcmp(type, "m.login.password") != 0)
        return ht_reply_error(HT_M_UNKNOWN, "This server supports only the m.login.password login type.");

    json_t *identifier = json_object_get(body, "identifier");
    const char *user = NULL;
    if (identifier) {
        const char *id_type = ht_json_str(identifier, "type");
        if (!id_type || strcmp(id_type, "m.id.user") != 0)
            return ht_reply_error(HT_M_UNKNOWN, "Only m.id.user identifiers are supported.");
        user = ht_json_str(identifier, "user");
    } else {
        user = ht_json_str(body, "user"); /* the deprecated form, still sent by SDKs */
    }
    const char *password = ht_json_str(body, "password");
    json_t *device_id = json_object_get(body, "device_id");
    json_t *display = json_object_get(body, "initial_device_display_name");
    if (!user || !password || (device_id && !json_is_string(device_id)) ||
        (display && !json_is_string(display)))
        return ht_reply_error(HT_M_BAD_JSON, "A user and a password (strings) are required.");

    if (!ht_device_fields_ok(ctx, json_string_value(device_id), json_string_value(display), &err)) return err;
    const char *user_id = ht_login_user_id(ctx, user);
    ht_user_row row;
    bool ok = false;
    /* Only a check that runs Argon2 is charged to the login rate limits. */
    if (user_id && strlen(password) <= HT_MAX_PASSWORD_BYTES &&
        ht_store_user_get(ctx->env->store, ctx->arena, user_id, &row) && row.password_hash &&
        !ht_password_check_login(ctx, user_id, row.password_hash, password, &ok, &err))
        return err;
    if (!ok) return ht_reply_error(HT_M_FORBIDDEN, "Invalid user name or password.");
    if (row.deactivated) return ht_reply_error(HT_M_USER_DEACTIVATED, "This account has been deactivated.");

    json_t *reply = json_pack("{s:s}", "home_server", ctx->env->server_name);
    if (!ht_session_create(ctx, user_id, json_string_value(device_id), json_string_value(display), reply)) {
        json_decref(reply);
        return ht_reply_error(HT_M_SERVER_ERROR, "The session could not be created.");
    }
    return ht_reply_json(reply);
}

ht_reply ht_api_logout(ht_ctx *ctx) {
    ht_store_device_delete(ctx->env->store, ctx->auth.user_id, ctx->auth.device_id);
    return ht_reply_empty();
}

ht_reply ht_api_logout_all(ht_ctx *ctx) {
    ht_store_device_delete_all_but(ctx->env->store, ctx->auth.user_id, NULL);
    ht_store_token_delete_all_but(ctx->env->store, ctx->auth.user_id, 0);
    return ht_reply_empty();
}

ht_reply ht_api_whoami(ht_ctx *ctx) {
    return ht_reply_json(json_pack("{s:s, s:s, s:b}", "user_id", ctx->auth.user_id, "device_id",
                                   ctx->auth.device_id, "is_guest", 0));
}

ht_reply ht_api_change_password(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *new_password = json_object_get(body, "new_password");
    json_t *logout = json_object_get(body, "logout_devices");
    if (!json_is_string(new_password))
        return ht_reply_error(HT_M_BAD_JSON, "new_password must be a string.");
    if (logout && !json_is_boolean(logout))
        return ht_reply_error(HT_M_BAD_JSON, "logout_devices must be a boolean.");
    if (strlen(json_string_value(new_password)) > HT_MAX_PASSWORD_BYTES)
        return ht_reply_error(HT_M_INVALID_PARAM, "The password is longer than 1024 bytes.");
    ht_reply challenge;
    if (!ht_uia_check(ctx, body, "m.login.password", ctx->auth.user_id, &challenge)) return challenge;
    const char *hash;
    if (!ht_password_new(ctx, json_string_value(new_password), &hash, &err)) return err;
    if (!hash) return ht_reply_error(HT_M_SERVER_ERROR, "The password could not be hashed.");
    ht_store_user_set_password(ctx->env->store, ctx->auth.user_id, hash);
    if (!logout || json_is_true(logout)) {
        ht_store_device_delete_all_but(ctx->env->store, ctx->auth.user_id, ctx->auth.device_id);
        ht_store_token_delete_all_but(ctx->env->store, ctx->auth.user_id, ctx->auth.token_id);
    }
    return ht_reply_empty();
}

ht_reply ht_api_deactivate(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *erase = json_object_get(body, "erase");
    json_t *id_server = json_object_get(body, "id_server");
    if (erase && !json_is_boolean(erase)) return ht_reply_error(HT_M_BAD_JSON, "erase must be a boolean.");
    if (id_server && !json_is_string(id_server))
        return ht_reply_error(HT_M_BAD_JSON, "id_server must be a string.");
    ht_reply challenge;
    if (!ht_uia_check(ctx, body, "m.login.password", ctx->auth.user_id, &challenge)) return challenge;
    if (!ht_account_deactivate(ctx, ctx->auth.user_id, json_is_true(erase), &err)) return err;
    /* hometab binds no third-party identifiers (m.3pid_changes is off), and
     * the spec says the answer "must be success" when none are to unbind. */
    return ht_reply_json(json_pack("{s:s}", "id_server_unbind_result", "success"));
}

bool ht_account_deactivate(ht_ctx *ctx, const char *user_id, bool erase, ht_reply *err) {
    ht_store *store = ctx->env->store;
    /* Leaving first: the leave events are sent while the account is still
     * whole, the same way /leave sends them. */
    if (!ht_rooms_leave_all(ctx, user_id, err)) return false;
    if (erase) {
        ht_store_profile_set_displayname(store, user_id, NULL);
        ht_store_profile_set_avatar_url(store, user_id, NULL);
        ht_store_account_data_delete_user(store, user_id);
    }
    /* Deleting the devices takes their tokens, keys and to-device inboxes
     * with them and tells contacts the device list changed (schema.c). */
    ht_store_device_delete_all_but(store, user_id, NULL);
    ht_store_token_delete_all_but(store, user_id, 0);
    ht_store_user_deactivate(store, user_id);
    return true;
}
