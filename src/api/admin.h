/* admin.h -- the server admin API: the part of Synapse's admin API under
 * /_synapse/admin/ that existing admin tools call (synadm, Synapse-Admin),
 * in the shapes Synapse answers with. Routes flagged HT_ROUTE_ADMIN. */
#ifndef HT_API_ADMIN_H
#define HT_API_ADMIN_H

#include "matrix/handler.h"

/* The door's check for HT_ROUTE_ADMIN routes: the caller's access token
 * must belong to a server admin (403 M_FORBIDDEN otherwise, logged), or the
 * call comes from the operator (ht_request_meta.operator). Sets ctx->admin. */
ht_error ht_admin_check(ht_ctx *ctx, bool operator);

/* A local user id from the path: valid and on this server (400
 * M_INVALID_PARAM otherwise). Shared by the admin files. */
bool ht_admin_local_user(ht_ctx *ctx, const char *param, const char **user_id, ht_reply *err);
/* "from" and "limit" as Synapse reads them: whole numbers (400
 * M_INVALID_PARAM otherwise), limit at most max. */
bool ht_admin_paging(ht_ctx *ctx, int64_t default_limit, int64_t max_limit, int64_t *from,
                     int64_t *limit, ht_reply *err);
/* "dir": f (false) or b (true). */
bool ht_admin_direction(ht_ctx *ctx, bool *backwards, ht_reply *err);
/* Notes what the call changed, for its log line. */
void ht_admin_note(ht_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* admin.c: the server and its users */
ht_reply ht_api_admin_server_version(ht_ctx *ctx);
ht_reply ht_api_admin_users_list(ht_ctx *ctx);
ht_reply ht_api_admin_user_get(ht_ctx *ctx);
ht_reply ht_api_admin_user_put(ht_ctx *ctx);
ht_reply ht_api_admin_deactivate(ht_ctx *ctx);
ht_reply ht_api_admin_reset_password(ht_ctx *ctx);
ht_reply ht_api_admin_admin_get(ht_ctx *ctx);
ht_reply ht_api_admin_admin_put(ht_ctx *ctx);
ht_reply ht_api_admin_joined_rooms(ht_ctx *ctx);
ht_reply ht_api_admin_devices_list(ht_ctx *ctx);
ht_reply ht_api_admin_device_get(ht_ctx *ctx);
ht_reply ht_api_admin_device_put(ht_ctx *ctx);
ht_reply ht_api_admin_device_delete(ht_ctx *ctx);
ht_reply ht_api_admin_devices_delete(ht_ctx *ctx);

/* admin_rooms.c */
ht_reply ht_api_admin_rooms_list(ht_ctx *ctx);
ht_reply ht_api_admin_room_get(ht_ctx *ctx);
ht_reply ht_api_admin_room_members(ht_ctx *ctx);
ht_reply ht_api_admin_room_state(ht_ctx *ctx);
ht_reply ht_api_admin_room_delete_v1(ht_ctx *ctx);
ht_reply ht_api_admin_room_delete_v2(ht_ctx *ctx);
ht_reply ht_api_admin_room_delete_status(ht_ctx *ctx);
ht_reply ht_api_admin_delete_status(ht_ctx *ctx);

/* admin_media.c */
ht_reply ht_api_admin_user_media_list(ht_ctx *ctx);
ht_reply ht_api_admin_user_media_delete(ht_ctx *ctx);
ht_reply ht_api_admin_media_delete(ht_ctx *ctx);

/* registration_tokens.c */
ht_reply ht_api_admin_tokens_list(ht_ctx *ctx);
ht_reply ht_api_admin_token_get(ht_ctx *ctx);
ht_reply ht_api_admin_token_new(ht_ctx *ctx);
ht_reply ht_api_admin_token_put(ht_ctx *ctx);
ht_reply ht_api_admin_token_delete(ht_ctx *ctx);
ht_reply ht_api_registration_token_validity(ht_ctx *ctx);

#endif
