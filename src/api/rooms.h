#ifndef HT_API_ROOMS_H
#define HT_API_ROOMS_H

#include "matrix/handler.h"

/* rooms.c */
ht_reply ht_api_create_room(ht_ctx *ctx);
ht_reply ht_api_join(ht_ctx *ctx);
ht_reply ht_api_join_room_id(ht_ctx *ctx);
ht_reply ht_api_knock(ht_ctx *ctx);
ht_reply ht_api_invite(ht_ctx *ctx);
ht_reply ht_api_kick(ht_ctx *ctx);
ht_reply ht_api_ban(ht_ctx *ctx);
ht_reply ht_api_unban(ht_ctx *ctx);
ht_reply ht_api_leave(ht_ctx *ctx);
ht_reply ht_api_forget(ht_ctx *ctx);
ht_reply ht_api_joined_rooms(ht_ctx *ctx);
/* Sends user_id's leave into every room they are joined to, invited to or
 * knocking on (account deactivation). False with the error reply if one fails. */
bool ht_rooms_leave_all(ht_ctx *ctx, const char *user_id, ht_reply *err);

/* room_events.c */
ht_reply ht_api_send(ht_ctx *ctx);
ht_reply ht_api_redact(ht_ctx *ctx);
ht_reply ht_api_state_put(ht_ctx *ctx);
ht_reply ht_api_state_get(ht_ctx *ctx);
ht_reply ht_api_state_all(ht_ctx *ctx);
ht_reply ht_api_event_get(ht_ctx *ctx);
ht_reply ht_api_members(ht_ctx *ctx);
ht_reply ht_api_joined_members(ht_ctx *ctx);
/* The checks a state event from a client passes before the rooms engine
 * judges it, whichever endpoint carries it (PUT /state, createRoom's
 * initial_state): an m.room.canonical_alias may name only aliases of this
 * room; a member event's display name and avatar are bounded as a
 * profile's. False with the error reply. */
bool ht_room_state_content_ok(ht_ctx *ctx, const char *room_id, const char *type, json_t *content,
                              ht_reply *err);

/* messages.c */
ht_reply ht_api_messages(ht_ctx *ctx);
ht_reply ht_api_context(ht_ctx *ctx);
ht_reply ht_api_timestamp_to_event(ht_ctx *ctx);

#endif
