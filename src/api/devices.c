/* devices.c -- /devices: a user's sessions, listed, renamed and removed. */
#include <string.h>

#include "api/account.h"
#include "api/auth.h"
#include "core/core.h"
#include "store/accounts.h"
#include "util/json.h"

ht_reply ht_api_devices_list(ht_ctx *ctx) {
    return ht_reply_json(json_pack("{s:o}", "devices", ht_store_device_list(ctx->core->store, ctx->auth.user_id)));
}

ht_reply ht_api_device_get(ht_ctx *ctx) {
    json_t *d = ht_store_device_get(ctx->core->store, ctx->auth.user_id, ht_param_get(ctx, "deviceId"));
    if (!d) return ht_reply_error(HT_M_NOT_FOUND, "You have no device with that id.");
    return ht_reply_json(d);
}

ht_reply ht_api_device_put(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    json_t *name = json_object_get(body, "display_name");
    if (name && !json_is_string(name)) return ht_reply_error(HT_M_BAD_JSON, "display_name must be a string.");
    const char *device_id = ht_param_get(ctx, "deviceId");
    json_t *d = ht_store_device_get(ctx->core->store, ctx->auth.user_id, device_id);
    if (!d) return ht_reply_error(HT_M_NOT_FOUND, "You have no device with that id.");
    json_decref(d);
    if (name) ht_store_device_set_name(ctx->core->store, ctx->auth.user_id, device_id, json_string_value(name));
    return ht_reply_empty();
}

ht_reply ht_api_device_delete(ht_ctx *ctx) {
    json_t *body;
    ht_reply err;
    if (!ht_body_object(ctx, &body, &err)) return err;
    const char *device_id = ht_param_get(ctx, "deviceId");
    json_t *d = ht_store_device_get(ctx->core->store, ctx->auth.user_id, device_id);
    if (!d) return ht_reply_error(HT_M_NOT_FOUND, "You have no device with that id.");
    json_decref(d);
    ht_reply challenge;
    if (!ht_uia_check(ctx, body, "m.login.password", ctx->auth.user_id, &challenge)) return challenge;
    ht_store_device_delete(ctx->core->store, ctx->auth.user_id, device_id);
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
    json_array_foreach(devices, i, d) {
        if (!json_is_string(d)) return ht_reply_error(HT_M_BAD_JSON, "devices must be a list of device ids.");
    }
    ht_reply challenge;
    if (!ht_uia_check(ctx, body, "m.login.password", ctx->auth.user_id, &challenge)) return challenge;
    json_array_foreach(devices, i, d) {
        ht_store_device_delete(ctx->core->store, ctx->auth.user_id, json_string_value(d));
    }
    return ht_reply_empty();
}
