/* directory.h -- room aliases, the published room directory, /publicRooms. */
#ifndef HT_API_DIRECTORY_H
#define HT_API_DIRECTORY_H

#include "matrix/handler.h"

ht_reply ht_api_alias_put(ht_ctx *ctx);
ht_reply ht_api_alias_get(ht_ctx *ctx);
ht_reply ht_api_alias_delete(ht_ctx *ctx);
ht_reply ht_api_room_aliases(ht_ctx *ctx);
ht_reply ht_api_directory_visibility_get(ht_ctx *ctx);
ht_reply ht_api_directory_visibility_put(ht_ctx *ctx);
ht_reply ht_api_public_rooms_get(ht_ctx *ctx);
ht_reply ht_api_public_rooms_post(ht_ctx *ctx);

/* A room's public summary (a PublishedRoomsChunk, also the core of a space
 * hierarchy entry): room_id, num_joined_members, name, topic,
 * canonical_alias, avatar_url, join_rule, room_type, world_readable,
 * guest_can_join. Kept by the arena: the caller increfs to keep it. */
json_t *ht_directory_room_summary(ht_ctx *ctx, const char *room_id, int64_t members);

/* An m.room.canonical_alias content a client sends must name aliases that
 * exist and point to this room (400 M_BAD_ALIAS otherwise). */
bool ht_directory_check_canonical_alias(ht_ctx *ctx, const char *room_id, json_t *content, ht_reply *err);

#endif
