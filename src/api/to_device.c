/* to_device.c -- PUT /sendToDevice/{eventType}/{txnId}.
 *
 * Messages go to one device, or to every device of a user ("*"), and wait
 * in the store until the device's next /sync acknowledges them. One request
 * takes one stream position, so parked syncs of every recipient wake once.
 * A transaction id seen before from the same device is answered {} and
 * sends nothing again. Messages to other servers' users go to their
 * servers (federation/to_device.c); without federation they are dropped, as
 * they would be for an unreachable server. */
#include <stdlib.h>
#include <string.h>

#include "api/keys.h"
#include "federation/federation.h"
#include "matrix/ids.h"
#include "store/meta.h"
#include "store/store.h"
#include "store/to_device.h"
#include "util/json.h"

/* A message waits in the store and goes out in /sync like an event, so one
 * is bounded as an event is (64 KiB); an encrypted room key is about 2 KiB. */
enum { MAX_TXN_ID_BYTES = 255, MAX_TYPE_BYTES = 255, MAX_MESSAGES = 10000, MAX_MESSAGE_BYTES = 65536 };
/* "*" sends to every device of a user, so 10,000 messages could become as
 * many times a user's device count: the copies stored are bounded too. */
enum { MAX_DELIVERIES = 100000 };

static bool check_messages(ht_ctx *ctx, json_t *messages, ht_reply *err) {
    if (!json_is_object(messages)) {
        *err = ht_reply_error(HT_M_BAD_JSON, "messages must map user ids to {device id: content}.");
        return false;
    }
    size_t count = 0;
    const char *user_id;
    json_t *per_device;
    json_object_foreach(messages, user_id, per_device) {
        if (!ht_user_id_valid(user_id)) {
            *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "%s is not a user id.", user_id);
            return false;
        }
        if (!json_is_object(per_device)) {
            *err = ht_reply_error(HT_M_BAD_JSON, "messages must map user ids to {device id: content}.");
            return false;
        }
        const char *device_id;
        json_t *content;
        json_object_foreach(per_device, device_id, content) {
            if (!json_is_object(content) || !*device_id) {
                *err = ht_reply_error(HT_M_BAD_JSON, "Each message must be a JSON object sent to a device id or \"*\".");
                return false;
            }
            if (strlen(ht_json_dump(ctx->arena, content)) > MAX_MESSAGE_BYTES) {
                *err = ht_reply_error(HT_M_TOO_LARGE, "A to-device message may be at most 65536 bytes.");
                return false;
            }
        }
        count += json_object_size(per_device);
    }
    if (count > MAX_MESSAGES) {
        *err = ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "At most %d messages may be sent at once.", MAX_MESSAGES);
        return false;
    }
    return true;
}

/* Stores the message for one device or all of a user's ("*"); returns how
 * many copies were stored. */
static size_t deliver(ht_ctx *ctx, const char *user_id, const char *device_id, const char *type,
                      const char *content, int64_t stream) {
    ht_store *store = ctx->env->store;
    if (strcmp(device_id, "*") != 0) {
        if (!ht_store_device_exists(store, user_id, device_id)) return 0;
        ht_store_to_device_insert(store, user_id, device_id, ctx->auth.user_id, type, content, stream);
        return 1;
    }
    const char **devices;
    size_t n = ht_store_device_ids(store, ctx->arena, user_id, &devices);
    for (size_t i = 0; i < n; i++)
        ht_store_to_device_insert(store, user_id, devices[i], ctx->auth.user_id, type, content, stream);
    return n;
}

ht_reply ht_api_send_to_device(ht_ctx *ctx) {
    const char *type = ht_param_get(ctx, "eventType");
    const char *txn_id = ht_param_get(ctx, "txnId");
    if (!*type || strlen(type) > MAX_TYPE_BYTES)
        return ht_reply_error(HT_M_INVALID_PARAM, "The event type must be 1 to 255 bytes.");
    if (!*txn_id || strlen(txn_id) > MAX_TXN_ID_BYTES)
        return ht_reply_error(HT_M_INVALID_PARAM, "The transaction id must be 1 to 255 bytes.");
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *messages = json_object_get(body, "messages");
    if (!check_messages(ctx, messages, &err)) return err;
    if (!ht_store_to_device_txn_new(ctx->env->store, ctx->auth.user_id, ctx->auth.device_id, txn_id))
        return ht_reply_empty();

    int64_t stream = (int64_t)ht_store_stream_advance(ctx->env->store);
    size_t delivered = 0;
    const char *user_id;
    json_t *per_device;
    size_t remote = 0;
    json_object_foreach(messages, user_id, per_device) {
        const char *server = ht_id_server(user_id);
        if (!server || strcmp(server, ctx->env->server_name) != 0) {
            /* Another server's user: their server delivers it. The message
             * id is unique here: this request's stream position and the
             * user's place in it. */
            if (ctx->env->cfg->federation &&
                !ht_fed_queue_to_device(ctx, type, user_id, per_device,
                                        ht_arena_printf(ctx->arena, "%lld.%zu", (long long)stream, remote++)))
                return ht_reply_error(HT_M_SERVER_ERROR, "The message could not be queued.");
            continue;
        }
        const char *device_id;
        json_t *content;
        json_object_foreach(per_device, device_id, content) {
            delivered += deliver(ctx, user_id, device_id, type, ht_json_dump(ctx->arena, content), stream);
            if (delivered > MAX_DELIVERIES) /* the transaction undoes what was stored */
                return ht_reply_errorf(ctx, HT_M_INVALID_PARAM, "One request may reach at most %d devices.",
                                       MAX_DELIVERIES);
        }
    }
    return ht_reply_empty();
}
