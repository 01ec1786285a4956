#include "api/room_access.h"

#include <string.h>

#include "matrix/ids.h"
#include "room/room.h"
#include "store/store.h"
#include "util/json.h"

bool ht_room_param(ht_ctx *ctx, const char **room_id, ht_reply *err) {
    const char *id = ht_param_get(ctx, "roomId");
    if (!id || !ht_room_id_valid(id)) {
        *err = ht_reply_error(HT_M_INVALID_PARAM, "That is not a valid room id.");
        return false;
    }
    ht_room_row row;
    if (!ht_store_room_get(ctx->env->store, ctx->arena, id, &row)) {
        *err = ht_reply_error(HT_M_NOT_FOUND, "There is no room with that id on this server.");
        return false;
    }
    *room_id = id;
    return true;
}

bool ht_room_read_limit(ht_ctx *ctx, const char *room_id, int64_t *upto, ht_reply *err) {
    int64_t stream = 0;
    const char *membership =
        ht_store_membership_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, &stream, NULL);
    *upto = 0;
    if (membership && strcmp(membership, "join") == 0) return true;
    json_t *hv = ht_room_state_content(ctx->env, room_id, "m.room.history_visibility", "");
    const char *visibility = ht_json_str(hv, "history_visibility");
    if (visibility && strcmp(visibility, "world_readable") == 0) return true;
    /* A former member reads up to their leave. Someone who left without
     * ever joining (a knock withdrawn or rejected, an invite declined) was
     * never a member: anyone may knock and withdraw on a knock room. */
    if (membership && (strcmp(membership, "leave") == 0 || strcmp(membership, "ban") == 0) &&
        ht_store_member_joined_after(ctx->env->store, room_id, ctx->auth.user_id, 0)) {
        *upto = stream;
        return true;
    }
    *err = ht_reply_error(HT_M_FORBIDDEN, "You are not a member of this room.");
    return false;
}

bool ht_room_require_joined(ht_ctx *ctx, const char *room_id, ht_reply *err) {
    const char *membership =
        ht_store_membership_get(ctx->env->store, ctx->arena, room_id, ctx->auth.user_id, NULL, NULL);
    if (membership && strcmp(membership, "join") == 0) return true;
    *err = ht_reply_error(HT_M_FORBIDDEN, "You are not joined to this room.");
    return false;
}
