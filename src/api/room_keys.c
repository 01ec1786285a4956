/* room_keys.c -- server-side key backups: /room_keys/version and
 * /room_keys/keys[/{roomId}[/{sessionId}]].
 *
 * A user has numbered backup versions; the newest one not deleted is
 * current, and keys may only be added to it (M_WRONG_ROOM_KEYS_VERSION
 * otherwise, so a client with an old backup notices). Keys are the
 * client's encrypted session_data plus clear metadata by which the server
 * keeps the better of two copies. Each change to the keys moves the
 * version's etag. */
#include <stdlib.h>
#include <string.h>

#include "api/keys.h"
#include "store/room_keys.h"
#include "store/store.h"
#include "util/json.h"

/* A session's backed-up key is a few hundred bytes of ciphertext and
 * metadata, auth_data a public key and signatures: 16 KiB each, as a key
 * object in keys.c, is far above either. */
enum {
    MAX_SESSIONS_PER_UPLOAD = 10000,
    MAX_ROOM_KEY_ID_BYTES = 255,
    MAX_ALGORITHM_BYTES = 255,
    MAX_KEY_DATA_BYTES = 16384,
};

static ht_store *store_of(ht_ctx *ctx) { return ctx->env->store; }

static ht_reply no_backup(void) { return ht_reply_error(HT_M_NOT_FOUND, "No current backup version."); }
static ht_reply unknown_version(void) { return ht_reply_error(HT_M_NOT_FOUND, "Unknown backup version."); }

/* A version as the client names it ("3"); 0 if it cannot be one of ours. */
static int64_t version_number(const char *text) {
    if (!text || !*text || strlen(text) > 18) return 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    return *end || v <= 0 ? 0 : v;
}

static const char *version_text(ht_ctx *ctx, int64_t version) {
    return ht_arena_printf(ctx->arena, "%lld", (long long)version);
}

/* {algorithm: string, auth_data: object}. */
static bool check_version_body(ht_ctx *ctx, json_t *body, ht_reply *err) {
    json_t *algorithm = json_object_get(body, "algorithm"), *auth_data = json_object_get(body, "auth_data");
    if (!json_is_string(algorithm) || !json_is_object(auth_data)) {
        *err = ht_reply_error(HT_M_BAD_JSON, "A backup version needs algorithm (a string) and auth_data (an object).");
        return false;
    }
    if (json_string_length(algorithm) > MAX_ALGORITHM_BYTES ||
        strlen(ht_json_dump(ctx->arena, auth_data)) > MAX_KEY_DATA_BYTES) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "algorithm may be at most 255 bytes and auth_data 16 KiB.");
        return false;
    }
    return true;
}

ht_reply ht_api_room_keys_version_create(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err) || !check_version_body(ctx, body, &err)) return err;
    int64_t version = ht_store_backup_version_create(store_of(ctx), ctx->auth.user_id, ht_json_str(body, "algorithm"),
                                                     ht_json_dump(ctx->arena, json_object_get(body, "auth_data")));
    if (!version) return ht_reply_error(HT_M_SERVER_ERROR, "The backup version could not be stored.");
    return ht_reply_json(json_pack("{s:s}", "version", version_text(ctx, version)));
}

static json_t *version_json(ht_ctx *ctx, const ht_backup_version_row *v) {
    json_t *auth_data = ht_json_parse(ctx->arena, v->auth_data);
    return json_pack("{s:s, s:o, s:I, s:s, s:s}", "algorithm", v->algorithm, "auth_data",
                     auth_data ? json_incref(auth_data) : json_object(), "count",
                     (json_int_t)ht_store_backup_count(store_of(ctx), ctx->auth.user_id, v->version), "etag",
                     version_text(ctx, v->etag), "version", version_text(ctx, v->version));
}

ht_reply ht_api_room_keys_version_get(ht_ctx *ctx) {
    const char *param = ht_param_get(ctx, "version");
    ht_backup_version_row v;
    if (!param) {
        if (!ht_store_backup_version_get(store_of(ctx), ctx->arena, ctx->auth.user_id, 0, &v)) return no_backup();
    } else {
        int64_t n = version_number(param);
        if (!n || !ht_store_backup_version_get(store_of(ctx), ctx->arena, ctx->auth.user_id, n, &v))
            return unknown_version();
    }
    return ht_reply_json(version_json(ctx, &v));
}

ht_reply ht_api_room_keys_version_put(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err) || !check_version_body(ctx, body, &err)) return err;
    const char *param = ht_param_get(ctx, "version");
    int64_t n = version_number(param);
    ht_backup_version_row v;
    if (!n || !ht_store_backup_version_get(store_of(ctx), ctx->arena, ctx->auth.user_id, n, &v))
        return unknown_version();
    json_t *named = json_object_get(body, "version");
    if (named && (!json_is_string(named) || strcmp(json_string_value(named), param) != 0))
        return ht_reply_error(HT_M_INVALID_PARAM, "The version in the body differs from the one in the path.");
    if (strcmp(ht_json_str(body, "algorithm"), v.algorithm) != 0)
        return ht_reply_error(HT_M_INVALID_PARAM, "A backup version's algorithm cannot be changed.");
    ht_store_backup_version_update(store_of(ctx), ctx->auth.user_id, n,
                                   ht_json_dump(ctx->arena, json_object_get(body, "auth_data")));
    return ht_reply_empty();
}

ht_reply ht_api_room_keys_version_delete(ht_ctx *ctx) {
    int64_t n = version_number(ht_param_get(ctx, "version"));
    ht_backup_version_row v;
    if (!n || !ht_store_backup_version_get(store_of(ctx), ctx->arena, ctx->auth.user_id, n, &v))
        return unknown_version();
    ht_store_backup_version_delete(store_of(ctx), ctx->auth.user_id, n);
    return ht_reply_empty();
}

/* ---- keys -------------------------------------------------------------- */

/* The ?version= of a keys request, which must exist. */
static bool keys_version(ht_ctx *ctx, ht_backup_version_row *v, ht_reply *err) {
    const char *param = ht_request_query(ctx->req, "version");
    if (!param) {
        *err = ht_reply_error(HT_M_MISSING_PARAM, "The version parameter is required.");
        return false;
    }
    int64_t n = version_number(param);
    if (!n || !ht_store_backup_version_get(store_of(ctx), ctx->arena, ctx->auth.user_id, n, v)) {
        *err = unknown_version();
        return false;
    }
    return true;
}

static bool key_data_ok(ht_ctx *ctx, json_t *d) {
    json_t *fmi = json_object_get(d, "first_message_index"), *fc = json_object_get(d, "forwarded_count");
    return json_is_object(d) && json_is_integer(fmi) && json_integer_value(fmi) >= 0 && json_is_integer(fc) &&
           json_integer_value(fc) >= 0 && json_is_boolean(json_object_get(d, "is_verified")) &&
           json_is_object(json_object_get(d, "session_data")) &&
           strlen(ht_json_dump(ctx->arena, d)) <= MAX_KEY_DATA_BYTES;
}

static bool key_id_ok(const char *s) { return *s && strlen(s) <= MAX_ROOM_KEY_ID_BYTES; }

/* Normalizes the three PUT shapes to {room_id: {"sessions": {id: data}}}
 * and checks it. Returns a borrowed or request-owned object. */
static json_t *uploaded_rooms(ht_ctx *ctx, json_t *body, ht_reply *err) {
    const char *room_id = ht_param_get(ctx, "roomId"), *session_id = ht_param_get(ctx, "sessionId");
    json_t *rooms;
    if (session_id)
        rooms = ht_json_keep(ctx->arena, json_pack("{s:{s:{s:O}}}", room_id, "sessions", session_id, body));
    else if (room_id)
        rooms = ht_json_keep(ctx->arena, json_pack("{s:O}", room_id, body));
    else
        rooms = json_object_get(body, "rooms");
    size_t count = 0;
    const char *r, *sid;
    json_t *entry, *data;
    if (!json_is_object(rooms)) goto bad;
    json_object_foreach(rooms, r, entry) {
        json_t *sessions = json_object_get(entry, "sessions");
        if (!key_id_ok(r) || !json_is_object(sessions)) goto bad;
        json_object_foreach(sessions, sid, data) {
            if (!key_id_ok(sid) || !key_data_ok(ctx, data)) goto bad;
        }
        count += json_object_size(sessions);
    }
    if (count <= MAX_SESSIONS_PER_UPLOAD) return rooms;
    *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "At most %d keys may be uploaded at once.", MAX_SESSIONS_PER_UPLOAD);
    return NULL;
bad:
    *err = ht_reply_error(HT_M_BAD_JSON, "Key backup data needs first_message_index, forwarded_count (non-negative "
                                         "integers), is_verified (a boolean) and session_data (an object), "
                                         "at most 16 KiB in all.");
    return NULL;
}

/* Spec order: verified beats unverified, then the lower first message
 * index, then the fewer forwards. */
static bool better(const ht_backup_key_meta *a, const ht_backup_key_meta *b) {
    if (a->is_verified != b->is_verified) return a->is_verified;
    if (a->first_message_index != b->first_message_index) return a->first_message_index < b->first_message_index;
    return a->forwarded_count < b->forwarded_count;
}

static json_t *count_etag(ht_ctx *ctx, int64_t version) {
    ht_backup_version_row v;
    ht_store_backup_version_get(store_of(ctx), ctx->arena, ctx->auth.user_id, version, &v);
    return json_pack("{s:I, s:s}", "count", (json_int_t)ht_store_backup_count(store_of(ctx), ctx->auth.user_id, version),
                     "etag", version_text(ctx, v.etag));
}

ht_reply ht_api_room_keys_put(ht_ctx *ctx) {
    json_t *body;
    ht_backup_version_row v, current;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err) || !keys_version(ctx, &v, &err)) return err;
    if (ht_store_backup_version_get(store_of(ctx), ctx->arena, ctx->auth.user_id, 0, &current) &&
        current.version != v.version) {
        ht_reply r = ht_reply_error(HT_M_WRONG_ROOM_KEYS_VERSION, "That is not the current backup version.");
        r.error_extra = json_pack("{s:s}", "current_version", version_text(ctx, current.version));
        return r;
    }
    json_t *rooms = uploaded_rooms(ctx, body, &err);
    if (!rooms) return err;
    bool changed = false;
    const char *room_id, *session_id;
    json_t *entry, *data;
    json_object_foreach(rooms, room_id, entry) {
        json_object_foreach(json_object_get(entry, "sessions"), session_id, data) {
            ht_backup_key_meta meta = {json_integer_value(json_object_get(data, "first_message_index")),
                                       json_integer_value(json_object_get(data, "forwarded_count")),
                                       json_is_true(json_object_get(data, "is_verified"))},
                               old;
            if (ht_store_backup_key_get(store_of(ctx), ctx->auth.user_id, v.version, room_id, session_id, &old) &&
                !better(&meta, &old))
                continue;
            ht_store_backup_key_put(store_of(ctx), ctx->auth.user_id, v.version, room_id, session_id, &meta,
                                    ht_json_dump(ctx->arena, data));
            changed = true;
        }
    }
    if (changed) ht_store_backup_etag_bump(store_of(ctx), ctx->auth.user_id, v.version);
    return ht_reply_json(count_etag(ctx, v.version));
}

ht_reply ht_api_room_keys_get(ht_ctx *ctx) {
    ht_backup_version_row v;
    ht_reply err;
    if (!keys_version(ctx, &v, &err)) return err;
    const char *room_id = ht_param_get(ctx, "roomId"), *session_id = ht_param_get(ctx, "sessionId");
    ht_backup_key_row *rows;
    size_t n = ht_store_backup_keys(store_of(ctx), ctx->arena, ctx->auth.user_id, v.version, room_id, session_id,
                                    &rows);
    json_t *rooms = json_object();
    for (size_t i = 0; i < n; i++) {
        json_t *entry = json_object_get(rooms, rows[i].room_id);
        if (!entry) {
            entry = json_pack("{s:{}}", "sessions");
            json_object_set_new(rooms, rows[i].room_id, entry);
        }
        json_t *data = ht_json_parse(ctx->arena, rows[i].json);
        if (data) json_object_set(json_object_get(entry, "sessions"), rows[i].session_id, data);
    }
    if (!room_id) return ht_reply_json(json_pack("{s:o}", "rooms", rooms));
    json_t *sessions = json_object_get(json_object_get(rooms, room_id), "sessions");
    if (!session_id) {
        json_t *reply = json_pack("{s:o}", "sessions", sessions ? json_incref(sessions) : json_object());
        json_decref(rooms);
        return ht_reply_json(reply);
    }
    json_t *data = json_object_get(sessions, session_id);
    if (!data) {
        json_decref(rooms);
        return ht_reply_error(HT_M_NOT_FOUND, "No key for that session in this backup.");
    }
    json_incref(data);
    json_decref(rooms);
    return ht_reply_json(data);
}

ht_reply ht_api_room_keys_delete(ht_ctx *ctx) {
    ht_backup_version_row v;
    ht_reply err;
    if (!keys_version(ctx, &v, &err)) return err;
    if (ht_store_backup_keys_delete(store_of(ctx), ctx->auth.user_id, v.version, ht_param_get(ctx, "roomId"),
                                    ht_param_get(ctx, "sessionId")) > 0)
        ht_store_backup_etag_bump(store_of(ctx), ctx->auth.user_id, v.version);
    return ht_reply_json(count_etag(ctx, v.version));
}
