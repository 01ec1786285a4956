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
/* Deactivates user_id for good: leaves every room, deletes every device
 * and token, marks the account; erase also clears the profile and account
 * data. The account's own /account/deactivate and the admin API's. */
bool ht_account_deactivate(ht_ctx *ctx, const char *user_id, bool erase, ht_reply *err);

ht_reply ht_api_devices_list(ht_ctx *ctx);
ht_reply ht_api_device_get(ht_ctx *ctx);
ht_reply ht_api_device_put(ht_ctx *ctx);
ht_reply ht_api_device_delete(ht_ctx *ctx);
ht_reply ht_api_devices_delete(ht_ctx *ctx);

#endif
