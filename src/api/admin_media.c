/* admin_media.c -- the admin API's media: a user's files listed and
 * deleted (/_synapse/admin/v1/users/{userId}/media) and one file deleted
 * (/_synapse/admin/v1/media/{serverName}/{mediaId}).
 *
 * Files are blobs in the database, so deleting one frees its pages inside
 * the file (SQLite reuses them) rather than disk space at once. */
#include <string.h>

#include "api/admin.h"
#include "store/admin.h"
#include "store/media.h"
#include "store/store.h"
#include "util/json.h"

enum { MAX_LIST_LIMIT = 1000 };

static bool known_media_order(const char *order) {
    static const char *const known[] = {"media_id", "upload_name", "created_ts", "last_access_ts",
                                        "media_length", "media_type", "quarantined_by", "safe_from_quarantine"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(order, known[i]) == 0) return true;
    return false;
}

/* The paging, order and user both endpoints read. Without order_by and
 * dir, the newest files come first (Synapse's default). */
static bool media_query(ht_ctx *ctx, const char **user_id, const char **order, bool *backwards, int64_t *from,
                        int64_t *limit, ht_reply *err) {
    if (!ht_admin_local_user(ctx, "userId", user_id, err) ||
        !ht_admin_paging(ctx, 100, MAX_LIST_LIMIT, from, limit, err) || !ht_admin_direction(ctx, backwards, err))
        return false;
    *order = ht_request_query(ctx->req, "order_by");
    if (*order && !known_media_order(*order)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "order_by must name a column of the media list.");
        return false;
    }
    if (!*order && !ht_request_query(ctx->req, "dir")) *backwards = true;
    if (!*order) *order = "created_ts";
    return true;
}

/* spec: Synapse admin API "List media uploaded by a user" */
ht_reply ht_api_admin_user_media_list(ht_ctx *ctx) {
    const char *user_id, *order;
    bool backwards;
    int64_t from, limit;
    ht_reply err;
    if (!media_query(ctx, &user_id, &order, &backwards, &from, &limit, &err)) return err;
    ht_admin_media_row *rows;
    size_t n = ht_store_admin_media_of_user(ctx->env->store, ctx->arena, user_id, order, backwards, limit, from, &rows);
    int64_t total = ht_store_admin_media_count(ctx->env->store, user_id);
    json_t *media = json_array();
    for (size_t i = 0; i < n; i++) {
        ht_admin_media_row *m = &rows[i];
        json_array_append_new(
            media, json_pack("{s:s, s:I, s:n, s:I, s:s?, s:n, s:b, s:s?}", "media_id", m->media_id, "created_ts",
                             (json_int_t)m->created_ms, "last_access_ts", "media_length", (json_int_t)m->size,
                             "media_type", m->content_type, "quarantined_by", "safe_from_quarantine", 0,
                             "upload_name", m->filename));
    }
    json_t *reply = json_pack("{s:o, s:I}", "media", media, "total", (json_int_t)total);
    if (from + (int64_t)n < total) json_object_set_new(reply, "next_token", json_integer(from + (int64_t)n));
    return ht_reply_json(reply);
}

/* spec: Synapse admin API "Delete media uploaded by a user" */
ht_reply ht_api_admin_user_media_delete(ht_ctx *ctx) {
    const char *user_id, *order;
    bool backwards;
    int64_t from, limit;
    ht_reply err;
    if (!media_query(ctx, &user_id, &order, &backwards, &from, &limit, &err)) return err;
    ht_admin_media_row *rows;
    size_t n = ht_store_admin_media_of_user(ctx->env->store, ctx->arena, user_id, order, backwards, limit, from, &rows);
    json_t *deleted = json_array();
    for (size_t i = 0; i < n; i++) {
        ht_store_media_delete(ctx->env->store, rows[i].media_id);
        json_array_append_new(deleted, json_string(rows[i].media_id));
    }
    ht_admin_note(ctx, "deleted %zu files of %s", n, user_id);
    return ht_reply_json(json_pack("{s:o, s:I}", "deleted_media", deleted, "total", (json_int_t)n));
}

/* spec: Synapse admin API "Delete a specific local media" */
ht_reply ht_api_admin_media_delete(ht_ctx *ctx) {
    const char *server = ht_param_get(ctx, "serverName");
    const char *media_id = ht_param_get(ctx, "mediaId");
    if (strcmp(server, ctx->env->server_name) != 0)
        return ht_reply_error(HT_M_INVALID_PARAM, "Only local media can be deleted here.");
    ht_media_row row;
    if (!ht_store_media_get(ctx->env->store, ctx->arena, media_id, &row))
        return ht_reply_error(HT_M_NOT_FOUND, "There is no such file on this server.");
    ht_store_media_delete(ctx->env->store, media_id);
    ht_admin_note(ctx, "deleted file %s of %s", media_id, row.uploader);
    return ht_reply_json(json_pack("{s:[s], s:i}", "deleted_media", media_id, "total", 1));
}
