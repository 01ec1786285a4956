/* admin.c -- the admin API's check, and the server's users and their
 * devices: /_synapse/admin/v1/server_version, v2/users (list, query,
 * create or modify), v1/deactivate, v1/reset_password, v1/users/{}/admin,
 * v1/users/{}/joined_rooms, v2/users/{}/devices.
 *
 * Shapes follow Synapse's admin API documentation, since that is what the
 * tools read; times are in milliseconds, as Synapse's newer releases give
 * them. Everything an admin does goes through the same code as the user's
 * own request would (deactivation, password change, profile), so the
 * rooms see the same events. The door logs one line per call (core.c);
 * ht_admin_note adds what changed. */
#include "api/admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/account.h"
#include "api/auth.h"
#include "api/profile.h"
#include "matrix/ids.h"
#include "matrix/log.h"
#include "matrix/password.h"
#include "store/accounts.h"
#include "store/admin.h"
#include "store/profile.h"
#include "store/rooms.h"
#include "store/store.h"
#include "util/json.h"

enum {
    MAX_PASSWORD_BYTES = 1024,   /* as /register and /account/password */
    MAX_DISPLAYNAME_BYTES = 256, /* as /profile */
    MAX_AVATAR_URL_BYTES = 1000,
    MAX_LIST_LIMIT = 1000,
    MAX_DEVICES_PER_CALL = 1000, /* as /delete_devices */
};

/* ---- the check and the shared readings ---------------------------------- */

ht_error ht_admin_check(ht_ctx *ctx, bool operator) {
    if (operator) {
        ctx->admin = "the operator";
        return (ht_error){0};
    }
    ht_error err = ht_auth_check(ctx, true);
    if (err.code) return err;
    ht_admin_user_row row;
    if (!ht_store_admin_user_get(ctx->env->store, ctx->arena, ctx->auth.user_id, &row) || !row.admin) {
        ht_log(ctx->env, HT_LOG_WARN, false, "admin API refused to %s (not a server admin): %s %.300s",
               ctx->auth.user_id, ctx->req->method, ctx->req->raw_path);
        return (ht_error){HT_M_FORBIDDEN, 0, "You are not a server admin."};
    }
    ctx->admin = ctx->auth.user_id;
    return (ht_error){0};
}

void ht_admin_note(ht_ctx *ctx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[1];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    char *text = ht_arena_alloc(ctx->arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ctx->admin_note = text;
}

bool ht_admin_local_user(ht_ctx *ctx, const char *param, const char **user_id, ht_reply *err) {
    const char *id = ht_param_get(ctx, param);
    if (!id || !ht_user_id_valid(id)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid user id.");
        return false;
    }
    const char *server = ht_id_server(id);
    if (!server || strcmp(server, ctx->env->server_name) != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "Only local users can be managed here.");
        return false;
    }
    *user_id = id;
    return true;
}

/* A whole number from the query string; absent: fallback. */
static bool query_number(ht_ctx *ctx, const char *name, int64_t fallback, int64_t *out, ht_reply *err) {
    const char *text = ht_request_query(ctx->req, name);
    *out = fallback;
    if (!text) return true;
    size_t digits = strspn(text, "0123456789");
    if (digits == 0 || text[digits] || digits > 15) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s must be a whole number (at most 15 digits).", name);
        return false;
    }
    *out = 0;
    for (size_t i = 0; i < digits; i++) *out = *out * 10 + (text[i] - '0');
    return true;
}

bool ht_admin_paging(ht_ctx *ctx, int64_t default_limit, int64_t max_limit, int64_t *from,
                     int64_t *limit, ht_reply *err) {
    if (!query_number(ctx, "from", 0, from, err) || !query_number(ctx, "limit", default_limit, limit, err))
        return false;
    if (*limit > max_limit) *limit = max_limit;
    return true;
}

bool ht_admin_direction(ht_ctx *ctx, bool *backwards, ht_reply *err) {
    const char *dir = ht_request_query(ctx->req, "dir");
    *backwards = dir && strcmp(dir, "b") == 0;
    if (dir && strcmp(dir, "b") != 0 && strcmp(dir, "f") != 0) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "dir must be f or b.");
        return false;
    }
    return true;
}

/* "true" or "false" in the query string; absent: fallback. */
static bool query_bool(ht_ctx *ctx, const char *name, int fallback, int *out, ht_reply *err) {
    const char *text = ht_request_query(ctx->req, name);
    *out = fallback;
    if (!text) return true;
    if (strcmp(text, "true") == 0) *out = 1;
    else if (strcmp(text, "false") == 0) *out = 0;
    else {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s must be true or false.", name);
        return false;
    }
    return true;
}

/* The user of the path, which must exist (404 M_NOT_FOUND). */
static bool existing_user(ht_ctx *ctx, const char **user_id, ht_admin_user_row *row, ht_reply *err) {
    if (!ht_admin_local_user(ctx, "userId", user_id, err)) return false;
    if (!ht_store_admin_user_get(ctx->env->store, ctx->arena, *user_id, row)) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "There is no such user on this server.");
        return false;
    }
    return true;
}

/* ---- the server --------------------------------------------------------- */

ht_reply ht_api_admin_server_version(ht_ctx *ctx) {
    (void)ctx;
    return ht_reply_json(json_pack("{s:s}", "server_version", "hometab " HT_VERSION));
}

/* ---- users -------------------------------------------------------------- */

/* A user as the list and the query show it (Synapse's fields; those
 * hometab has no notion of are constant). */
static json_t *user_json(const ht_admin_user_row *u, bool details) {
    json_t *out = json_pack("{s:s, s:o, s:o, s:b, s:b, s:b, s:b, s:b, s:I, s:n, s:b, s:b}", "name", u->user_id,
                            "displayname", u->displayname ? json_string(u->displayname) : json_null(),
                            "avatar_url", u->avatar_url ? json_string(u->avatar_url) : json_null(),
                            "admin", u->admin, "deactivated", u->deactivated, "is_guest", 0,
                            "shadow_banned", 0, "erased", 0, "creation_ts", (json_int_t)u->created_ms,
                            "user_type", "approved", 1, "locked", 0);
    if (details) {
        json_object_set_new(out, "threepids", json_array());
        json_object_set_new(out, "external_ids", json_array());
        json_object_set_new(out, "appservice_id", json_null());
        json_object_set_new(out, "consent_server_notice_sent", json_null());
        json_object_set_new(out, "consent_version", json_null());
        json_object_set_new(out, "consent_ts", json_null());
        json_object_set_new(out, "password_set", json_boolean(u->has_password));
    }
    return out;
}

static bool known_user_order(const char *order) {
    static const char *const known[] = {"name", "displayname", "avatar_url", "admin", "deactivated",
                                        "creation_ts", "is_guest", "user_type", "shadow_banned"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(order, known[i]) == 0) return true;
    return false;
}

/* spec: Synapse admin API "List Accounts" (GET /_synapse/admin/v2/users) */
ht_reply ht_api_admin_users_list(ht_ctx *ctx) {
    int64_t from, limit;
    bool backwards;
    int deactivated, admins, guests;
    ht_reply err;
    if (!ht_admin_paging(ctx, 100, MAX_LIST_LIMIT, &from, &limit, &err) ||
        !ht_admin_direction(ctx, &backwards, &err) ||
        !query_bool(ctx, "deactivated", 0, &deactivated, &err) || !query_bool(ctx, "admins", -1, &admins, &err) ||
        !query_bool(ctx, "guests", 1, &guests, &err))
        return err;
    const char *order = ht_request_query(ctx->req, "order_by");
    if (!order) order = "name";
    if (!known_user_order(order))
        return ht_reply_error(HT_M_INVALID_PARAM, "order_by must name a column of the user list.");
    /* name filters localparts and display names; user_id whole ids, and
     * only when name is absent (as Synapse reads them). */
    ht_admin_user_filter filter = {.name_part = ht_request_query(ctx->req, "name"),
                                   .with_deactivated = deactivated, .admins = admins};
    if (!filter.name_part) filter.user_id_part = ht_request_query(ctx->req, "user_id");
    ht_admin_user_row *rows;
    size_t n = ht_store_admin_users(ctx->env->store, ctx->arena, &filter, order, backwards, limit, from, &rows);
    int64_t total = ht_store_admin_users_count(ctx->env->store, &filter);
    json_t *users = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(users, user_json(&rows[i], false));
    json_t *reply = json_pack("{s:o, s:I}", "users", users, "total", (json_int_t)total);
    if (from + (int64_t)n < total)
        json_object_set_new(reply, "next_token", json_string(ht_arena_printf(ctx->arena, "%lld",
                                                                             (long long)(from + (int64_t)n))));
    return ht_reply_json(reply);
}

/* spec: Synapse admin API "Query User Account" */
ht_reply ht_api_admin_user_get(ht_ctx *ctx) {
    const char *user_id;
    ht_admin_user_row row;
    ht_reply err;
    if (!existing_user(ctx, &user_id, &row, &err)) return err;
    return ht_reply_json(user_json(&row, true));
}

/* The body of PUT /v2/users/{userId}, checked before anything changes. */
typedef struct user_changes {
    json_t *password, *logout, *displayname, *avatar_url, *admin, *deactivated;
} user_changes;

static bool optional_type(ht_ctx *ctx, json_t *v, bool (*is)(const json_t *), const char *name, const char *what,
                          ht_reply *err) {
    if (!v || is(v)) return true;
    *err = ht_reply_errorf(ctx, HT_M_BAD_JSON, "%s must be %s.", name, what);
    return false;
}

static bool is_string(const json_t *v) { return json_is_string(v); }
static bool is_bool(const json_t *v) { return json_is_boolean(v); }

static bool read_user_changes(ht_ctx *ctx, json_t *body, user_changes *c, ht_reply *err) {
    *c = (user_changes){json_object_get(body, "password"), json_object_get(body, "logout_devices"),
                        json_object_get(body, "displayname"), json_object_get(body, "avatar_url"),
                        json_object_get(body, "admin"), json_object_get(body, "deactivated")};
    if (!optional_type(ctx, c->password, is_string, "password", "a string", err) ||
        !optional_type(ctx, c->logout, is_bool, "logout_devices", "true or false", err) ||
        !optional_type(ctx, c->displayname, is_string, "displayname", "a string", err) ||
        !optional_type(ctx, c->avatar_url, is_string, "avatar_url", "a string", err) ||
        !optional_type(ctx, c->admin, is_bool, "admin", "true or false", err) ||
        !optional_type(ctx, c->deactivated, is_bool, "deactivated", "true or false", err))
        return false;
    if (c->password && strlen(json_string_value(c->password)) > MAX_PASSWORD_BYTES) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "The password is longer than 1024 bytes.");
        return false;
    }
    if (c->displayname && strlen(json_string_value(c->displayname)) > MAX_DISPLAYNAME_BYTES) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "displayname is too long (at most 256 bytes).");
        return false;
    }
    if (c->avatar_url && (strncmp(json_string_value(c->avatar_url), "mxc://", 6) != 0 ||
                          strlen(json_string_value(c->avatar_url)) > MAX_AVATAR_URL_BYTES)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "avatar_url must be an mxc:// URI of at most 1000 bytes.");
        return false;
    }
    /* What hometab has no notion of may be sent empty (the tools send the
     * fields of their forms), never with something it would have to drop. */
    static const char *const lists[] = {"threepids", "external_ids"};
    for (size_t i = 0; i < 2; i++) {
        json_t *v = json_object_get(body, lists[i]);
        if (v && (!json_is_array(v) || json_array_size(v) > 0)) {
            *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s: this server keeps no third-party ids.", lists[i]);
            return false;
        }
    }
    json_t *user_type = json_object_get(body, "user_type");
    json_t *locked = json_object_get(body, "locked");
    if ((user_type && !json_is_null(user_type)) || (locked && !json_is_false(locked))) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "user_type and locked are not supported here.");
        return false;
    }
    return true;
}

/* Sets a new password hash, and logs the user's devices out unless told not
 * to. False when the request must wait for the hashing (*err is the wait). */
static bool set_password(ht_ctx *ctx, const char *user_id, const char *password, bool logout, ht_reply *err) {
    const char *hash;
    if (!ht_password_new(ctx, password, &hash, err)) return false;
    if (!hash) {
        *err = ht_reply_error(HT_M_SERVER_ERROR, "The password could not be hashed.");
        return false;
    }
    ht_store_user_set_password(ctx->env->store, user_id, hash);
    if (logout) {
        ht_store_device_delete_all_but(ctx->env->store, user_id, NULL);
        ht_store_token_delete_all_but(ctx->env->store, user_id, 0);
    }
    return true;
}

/* spec: Synapse admin API "Create or modify Account" */
ht_reply ht_api_admin_user_put(ht_ctx *ctx) {
    const char *user_id;
    json_t *body;
    ht_reply err;
    if (!ht_admin_local_user(ctx, "userId", &user_id, &err) || !ht_body_object(ctx, &body, &err)) return err;
    user_changes c;
    if (!read_user_changes(ctx, body, &c, &err)) return err;
    ht_store *store = ctx->env->store;
    ht_admin_user_row row;
    bool exists = ht_store_admin_user_get(store, ctx->arena, user_id, &row);
    if (ctx->auth.user_id && strcmp(ctx->auth.user_id, user_id) == 0 && json_is_false(c.admin))
        return ht_reply_error(HT_M_UNKNOWN, "You may not demote yourself.");
    if (exists && row.deactivated && json_is_false(c.deactivated) && !c.password)
        return ht_reply_error(HT_M_INVALID_PARAM, "Reactivating an account needs a new password.");

    const char *changed;
    if (!exists) {
        /* A new account is held to the names /register accepts. */
        const char *localpart = ht_arena_strndup(ctx->arena, user_id + 1, strcspn(user_id + 1, ":"));
        if (!ht_localpart_valid(localpart) || strlen(user_id) > HT_MAX_ID_LENGTH)
            return ht_reply_error(HT_M_INVALID_USERNAME,
                                  "User names may only contain a-z, 0-9, and . _ = - / + (at most 255 bytes).");
        const char *hash = NULL;
        if (c.password) {
            if (!ht_password_new(ctx, json_string_value(c.password), &hash, &err)) return err;
            if (!hash) return ht_reply_error(HT_M_SERVER_ERROR, "The password could not be hashed.");
        }
        if (!ht_store_user_insert(store, user_id, hash, ctx->now_ms))
            return ht_reply_error(HT_M_SERVER_ERROR, "The account could not be created.");
        ht_store_profile_set_displayname(store, user_id,
                                         c.displayname ? json_string_value(c.displayname) : localpart);
        if (c.avatar_url) ht_store_profile_set_avatar_url(store, user_id, json_string_value(c.avatar_url));
        if (json_is_true(c.admin)) ht_store_admin_set(store, user_id, true);
        if (json_is_true(c.deactivated)) ht_store_user_deactivate(store, user_id);
        changed = ht_arena_printf(ctx->arena, "created %s%s%s", user_id, json_is_true(c.admin) ? " as an admin" : "",
                                  c.password ? " with a password" : " without a password");
    } else {
        const char *what = "";
        if (c.password) {
            if (!set_password(ctx, user_id, json_string_value(c.password), !json_is_false(c.logout), &err)) return err;
            what = ht_arena_printf(ctx->arena, "%s, password", what);
        }
        if (c.displayname || c.avatar_url) {
            if (c.displayname) ht_store_profile_set_displayname(store, user_id, json_string_value(c.displayname));
            if (c.avatar_url) ht_store_profile_set_avatar_url(store, user_id, json_string_value(c.avatar_url));
            ht_profile_announce(ctx, user_id);
            what = ht_arena_printf(ctx->arena, "%s, profile", what);
        }
        if (c.admin && json_is_true(c.admin) != row.admin) {
            ht_store_admin_set(store, user_id, json_is_true(c.admin));
            what = ht_arena_printf(ctx->arena, "%s, %s", what, json_is_true(c.admin) ? "made admin" : "admin revoked");
        }
        if (json_is_true(c.deactivated) && !row.deactivated) {
            if (!ht_account_deactivate(ctx, user_id, false, &err)) return err;
            what = ht_arena_printf(ctx->arena, "%s, deactivated", what);
        } else if (json_is_false(c.deactivated) && row.deactivated) {
            ht_store_user_reactivate(store, user_id);
            what = ht_arena_printf(ctx->arena, "%s, reactivated", what);
        }
        changed = *what ? ht_arena_printf(ctx->arena, "changed %s: %s", user_id, what + 2)
                        : ht_arena_printf(ctx->arena, "nothing to change for %s", user_id);
    }
    ht_admin_note(ctx, "%s", changed);
    ht_store_admin_user_get(store, ctx->arena, user_id, &row);
    ht_reply reply = ht_reply_json(user_json(&row, true));
    if (!exists) reply.status = 201;
    return reply;
}

/* spec: Synapse admin API "Deactivate Account" */
ht_reply ht_api_admin_deactivate(ht_ctx *ctx) {
    const char *user_id;
    ht_admin_user_row row;
    json_t *body;
    ht_reply err;
    if (!existing_user(ctx, &user_id, &row, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *erase = json_object_get(body, "erase");
    if (erase && !json_is_boolean(erase)) return ht_reply_error(HT_M_BAD_JSON, "erase must be true or false.");
    if (!ht_account_deactivate(ctx, user_id, json_is_true(erase), &err)) return err;
    ht_admin_note(ctx, "deactivated %s%s", user_id, json_is_true(erase) ? " and erased its profile" : "");
    return ht_reply_json(json_pack("{s:s}", "id_server_unbind_result", "success"));
}

/* spec: Synapse admin API "Reset password" */
ht_reply ht_api_admin_reset_password(ht_ctx *ctx) {
    const char *user_id;
    ht_admin_user_row row;
    json_t *body;
    ht_reply err;
    if (!existing_user(ctx, &user_id, &row, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *password = json_object_get(body, "new_password");
    json_t *logout = json_object_get(body, "logout_devices");
    if (!password) return ht_reply_error(HT_M_MISSING_PARAM, "new_password is required.");
    if (!json_is_string(password)) return ht_reply_error(HT_M_BAD_JSON, "new_password must be a string.");
    if (logout && !json_is_boolean(logout)) return ht_reply_error(HT_M_BAD_JSON, "logout_devices must be true or false.");
    if (strlen(json_string_value(password)) > MAX_PASSWORD_BYTES)
        return ht_reply_error(HT_M_INVALID_PARAM, "The password is longer than 1024 bytes.");
    if (!set_password(ctx, user_id, json_string_value(password), !json_is_false(logout), &err)) return err;
    ht_admin_note(ctx, "reset the password of %s%s", user_id, json_is_false(logout) ? "" : " and logged it out");
    return ht_reply_empty();
}

ht_reply ht_api_admin_admin_get(ht_ctx *ctx) {
    const char *user_id;
    ht_admin_user_row row;
    ht_reply err;
    if (!existing_user(ctx, &user_id, &row, &err)) return err;
    return ht_reply_json(json_pack("{s:b}", "admin", row.admin));
}

ht_reply ht_api_admin_admin_put(ht_ctx *ctx) {
    const char *user_id;
    ht_admin_user_row row;
    json_t *body;
    ht_reply err;
    if (!existing_user(ctx, &user_id, &row, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *admin = json_object_get(body, "admin");
    if (!admin) return ht_reply_error(HT_M_MISSING_PARAM, "admin is required.");
    if (!json_is_boolean(admin)) return ht_reply_error(HT_M_BAD_JSON, "admin must be true or false.");
    if (ctx->auth.user_id && strcmp(ctx->auth.user_id, user_id) == 0 && json_is_false(admin))
        return ht_reply_error(HT_M_UNKNOWN, "You may not demote yourself.");
    ht_store_admin_set(ctx->env->store, user_id, json_is_true(admin));
    ht_admin_note(ctx, "%s %s", json_is_true(admin) ? "made an admin:" : "revoked admin from", user_id);
    return ht_reply_empty();
}

/* spec: Synapse admin API "List room memberships of a user" */
ht_reply ht_api_admin_joined_rooms(ht_ctx *ctx) {
    const char *user_id;
    ht_admin_user_row row;
    ht_reply err;
    if (!existing_user(ctx, &user_id, &row, &err)) return err;
    ht_membership_row *rows;
    size_t n = ht_store_memberships_of_user(ctx->env->store, ctx->arena, user_id, &rows);
    json_t *rooms = json_array();
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].membership, "join") == 0) json_array_append_new(rooms, json_string(rows[i].room_id));
    return ht_reply_json(json_pack("{s:o, s:I}", "joined_rooms", rooms, "total", (json_int_t)json_array_size(rooms)));
}

/* ---- devices ------------------------------------------------------------ */

static json_t *device_json(const char *user_id, const ht_device_row *d) {
    json_t *out = json_pack("{s:s, s:s, s:n, s:n}", "device_id", d->device_id, "user_id", user_id,
                            "last_seen_ip", "last_seen_user_agent");
    if (d->display_name) json_object_set_new(out, "display_name", json_string(d->display_name));
    json_object_set_new(out, "last_seen_ts", d->seen ? json_integer(d->last_seen_ms) : json_null());
    return out;
}

static bool existing_device(ht_ctx *ctx, const char **user_id, const char **device_id, ht_device_row *d,
                            ht_reply *err) {
    ht_admin_user_row row;
    if (!existing_user(ctx, user_id, &row, err)) return false;
    *device_id = ht_param_get(ctx, "deviceId");
    if (!ht_store_device_get(ctx->env->store, ctx->arena, *user_id, *device_id, d)) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "That user has no device with that id.");
        return false;
    }
    return true;
}

/* spec: Synapse admin API "List all devices" */
ht_reply ht_api_admin_devices_list(ht_ctx *ctx) {
    const char *user_id;
    ht_admin_user_row row;
    ht_reply err;
    if (!existing_user(ctx, &user_id, &row, &err)) return err;
    ht_device_row *rows;
    size_t n = ht_store_device_list(ctx->env->store, ctx->arena, user_id, &rows);
    json_t *devices = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(devices, device_json(user_id, &rows[i]));
    return ht_reply_json(json_pack("{s:o, s:I}", "devices", devices, "total", (json_int_t)n));
}

ht_reply ht_api_admin_device_get(ht_ctx *ctx) {
    const char *user_id, *device_id;
    ht_device_row d;
    ht_reply err;
    if (!existing_device(ctx, &user_id, &device_id, &d, &err)) return err;
    return ht_reply_json(device_json(user_id, &d));
}

ht_reply ht_api_admin_device_put(ht_ctx *ctx) {
    const char *user_id, *device_id;
    ht_device_row d;
    json_t *body;
    ht_reply err;
    if (!existing_device(ctx, &user_id, &device_id, &d, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *name = json_object_get(body, "display_name");
    if (name && !json_is_string(name)) return ht_reply_error(HT_M_BAD_JSON, "display_name must be a string.");
    if (name && strlen(json_string_value(name)) > 100 * 4)
        return ht_reply_error(HT_M_INVALID_PARAM, "display_name is too long.");
    if (name) {
        ht_store_device_set_name(ctx->env->store, user_id, device_id, json_string_value(name));
        ht_admin_note(ctx, "renamed device %s of %s", device_id, user_id);
    }
    return ht_reply_empty();
}

ht_reply ht_api_admin_device_delete(ht_ctx *ctx) {
    const char *user_id, *device_id;
    ht_device_row d;
    ht_reply err;
    if (!existing_device(ctx, &user_id, &device_id, &d, &err)) return err;
    ht_store_device_delete(ctx->env->store, user_id, device_id);
    ht_admin_note(ctx, "deleted device %s of %s", device_id, user_id);
    return ht_reply_empty();
}

/* spec: Synapse admin API "Delete multiple devices" */
ht_reply ht_api_admin_devices_delete(ht_ctx *ctx) {
    const char *user_id;
    ht_admin_user_row row;
    json_t *body;
    ht_reply err;
    if (!existing_user(ctx, &user_id, &row, &err) || !ht_body_object(ctx, &body, &err)) return err;
    json_t *devices = json_object_get(body, "devices");
    if (!devices) return ht_reply_error(HT_M_MISSING_PARAM, "devices is required.");
    size_t i;
    json_t *d;
    if (!json_is_array(devices)) return ht_reply_error(HT_M_BAD_JSON, "devices must be a list of device ids.");
    if (json_array_size(devices) > MAX_DEVICES_PER_CALL)
        return ht_reply_error(HT_M_INVALID_PARAM, "At most 1000 devices can be deleted at once.");
    json_array_foreach(devices, i, d) {
        if (!json_is_string(d)) return ht_reply_error(HT_M_BAD_JSON, "devices must be a list of device ids.");
    }
    json_array_foreach(devices, i, d) {
        ht_store_device_delete(ctx->env->store, user_id, json_string_value(d));
    }
    ht_admin_note(ctx, "deleted %zu devices of %s", json_array_size(devices), user_id);
    return ht_reply_empty();
}
