/* to_device.c -- send-to-device messages across servers: the
 * m.direct_to_device EDU (spec, server-server API, "Send-to-device
 * messaging"), queued for our clients' messages to other servers' users and
 * delivered to our devices when another server sends one.
 *
 * One EDU per remote user of a request, so that one EDU stays the size of
 * what one user's devices get (a room key for each: a few KiB each). A
 * sender must be a user of the server that sent the EDU; messages to users
 * not ours are ignored. */
#include "federation/federation.h"

#include <string.h>

#include "federation/outbox.h"
#include "matrix/ids.h"
#include "store/meta.h"
#include "store/to_device.h"
#include "util/json.h"
#include "util/str.h"

enum {
    MAX_TYPE_BYTES = 255,
    MAX_ID_BYTES = 255,
    MAX_MESSAGE_BYTES = 65536, /* as for our own clients' messages */
    MAX_DELIVERIES = 10000,    /* copies stored for one EDU ("*" fans out) */
};

bool ht_fed_queue_to_device(ht_ctx *ctx, const char *type, const char *user_id, json_t *per_device,
                            const char *message_id) {
    json_t *content = json_pack("{s:s, s:s, s:s, s:{s:O}}", "sender", ctx->auth.user_id, "type", type, "message_id",
                                message_id, "messages", user_id, per_device);
    json_t *edu = ht_json_keep(ctx->arena, json_pack("{s:s, s:o}", "edu_type", "m.direct_to_device", "content",
                                                     content));
    return ht_outbox_queue_edu(ctx->env, ht_id_server(user_id), edu);
}

void ht_fed_take_to_device(ht_ctx *ctx, json_t *content) {
    ht_store *store = ctx->env->store;
    const char *sender = ht_json_str(content, "sender"), *type = ht_json_str(content, "type");
    json_t *messages = json_object_get(content, "messages");
    if (!sender || !ht_user_id_valid(sender) || !ht_str_is(ht_id_server(sender), ctx->origin) || !type || !*type ||
        strlen(type) > MAX_TYPE_BYTES || !json_is_object(messages))
        return;
    int64_t stream = 0;
    size_t delivered = 0;
    const char *user_id;
    json_t *per_device;
    json_object_foreach(messages, user_id, per_device) {
        if (!ht_str_is(ht_id_server(user_id), ctx->env->server_name) || !ht_user_id_valid(user_id)) continue;
        const char *device_id;
        json_t *message;
        json_object_foreach(per_device, device_id, message) {
            const char *text = json_is_object(message) ? ht_json_dump(ctx->arena, message) : NULL;
            if (!text || strlen(text) > MAX_MESSAGE_BYTES || strlen(device_id) > MAX_ID_BYTES) continue;
            const char **devices = &device_id;
            size_t n = 1;
            if (strcmp(device_id, "*") == 0) n = ht_store_device_ids(store, ctx->arena, user_id, &devices);
            else if (!ht_store_device_exists(store, user_id, device_id)) n = 0;
            for (size_t i = 0; i < n && delivered < MAX_DELIVERIES; i++, delivered++) {
                if (!stream) stream = (int64_t)ht_store_stream_advance(store);
                ht_store_to_device_insert(store, user_id, devices[i], sender, type, text, stream);
            }
        }
    }
}
