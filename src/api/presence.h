/* presence.h -- /presence/{userId}/status. */
#ifndef HT_API_PRESENCE_H
#define HT_API_PRESENCE_H

#include "api/handler.h"

ht_reply ht_api_presence_put(ht_ctx *ctx);
ht_reply ht_api_presence_get(ht_ctx *ctx);

#endif
