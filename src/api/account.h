#ifndef HT_API_ACCOUNT_H
#define HT_API_ACCOUNT_H

#include "matrix/handler.h"

ht_reply ht_api_register(ht_ctx *ctx);
ht_reply ht_api_register_available(ht_ctx *ctx);
ht_reply ht_api_login_flows(ht_ctx *ctx);
ht_reply ht_api_login(ht_ctx *ctx);
ht_reply ht_api_logout(ht_ctx *ctx);
ht_reply ht_api_logout_all(ht_ctx *ctx);
ht_reply ht_api_whoami(ht_ctx *ctx);
ht_reply ht_api_change_password(ht_ctx *ctx);
ht_reply ht_api_deactivate(ht_ctx *ctx);

ht_reply ht_api_devices_list(ht_ctx *ctx);
ht_reply ht_api_device_get(ht_ctx *ctx);
ht_reply ht_api_device_put(ht_ctx *ctx);
ht_reply ht_api_device_delete(ht_ctx *ctx);
ht_reply ht_api_devices_delete(ht_ctx *ctx);

#endif
