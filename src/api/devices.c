/* devices.c -- /devices: a user's sessions, listed, renamed and removed. */
#include <string.h>

#include "api/account.h"
#include "api/auth.h"
#include "store/accounts.h"
#include "store/store.h"
#include "util/json.h"

/* Each deletion takes a device's keys and waiting messages with it. */
enum { MAX_DELETED_AT_ONCE = 1000 };

/* A device as the spec's Device object. */
static json_t *device_json(const ht_device_row *d) {
    json_t *out = json_pack("{s:s}", "device_id", d->device_id);
    if (d->display_name) json_object_set_new(out, "display_name", json_string(d->display_name));
    if (d->seen) json_object_set_new(out, "last_seen_ts", json_integer(d->last_seen_ms));
    return out;
}

static bool own_device(ht_ctx *ctx, const char *device_id, ht_device_row *row) {
    return ht_store_device_get(ctx->env->store, ctx->arena, ctx->auth.user_id, device_id, row);
}

ht_reply ht_api_devices_list(ht_ctx *ctx) {
    ht_device_row *rows;
    size_t n = ht_store_device_list(ctx->env->store, ctx->arena, ctx->auth.user_id, &rows);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(list, device_json(&rows[i]));
    return ht_reply_json(json_pack("{s:o}", "devices", list));
}

ht_reply ht_api_device_get(ht_ctx *ctx) {
    ht_device_row d;
    if (!own_device(ctx, ht_param_get(ctx, "deviceId"), &d))
        return ht_reply_error(HT_M_NOT_FOUND, "You have no device with that id.");
    return ht_reply_json(device_json(&d));
}

ht_reply ht_api_device_put(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *name = json_object_get(body, "display_name");
    if (name && !json_is_string(name)) return ht_reply_error(HT_M_BAD_JSON, "display_name must be a string.");
    if (!ht_device_fields_ok(ctx, NULL, json_string_value(name), &err)) return err;
    const char *device_id = ht_param_get(ctx, "deviceId");
    ht_device_row d;
    if (!own_device(ctx, device_id, &d)) return ht_reply_error(HT_M_NOT_FOUND, "You have no device with that id.");
    if (name) ht_store_device_set_name(ctx->env->store, ctx->auth.user_id, device_id, json_string_value(name));
    return ht_reply_empty();
}

ht_reply ht_api_device_delete(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    const char *device_id = ht_param_get(ctx, "deviceId");
    ht_device_row d;
    if (!own_device(ctx, device_id, &d)) return ht_reply_error(HT_M_NOT_FOUND, "You have no device with that id.");
    ht_reply challenge;
    if (!ht_uia_check(ctx, body, "m.login.password", ctx->auth.user_id, &challenge)) return challenge;
    ht_store_device_delete(ctx->env->store, ctx->auth.user_id, device_id);
    return ht_reply_empty();
}

ht_reply ht_api_devices_delete(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *devices = json_object_get(body, "devices");
    size_t i;
    json_t *d;
    if (!json_is_array(devices)) return ht_reply_error(HT_M_BAD_JSON, "devices must be a list of device ids.");
    if (json_array_size(devices) > MAX_DELETED_AT_ONCE)
        return ht_reply_error(HT_M_INVALID_PARAM, "At most 1000 devices may be deleted at once.");
    json_array_foreach(devices, i, d) {
        if (!json_is_string(d)) return ht_reply_error(HT_M_BAD_JSON, "devices must be a list of device ids.");
    }
    ht_reply challenge;
    if (!ht_uia_check(ctx, body, "m.login.password", ctx->auth.user_id, &challenge)) return challenge;
    json_array_foreach(devices, i, d) {
        ht_store_device_delete(ctx->env->store, ctx->auth.user_id, json_string_value(d));
    }
    return ht_reply_empty();
}
