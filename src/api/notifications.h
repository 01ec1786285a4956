/* notifications.h -- GET /_matrix/client/v3/notifications. */
#ifndef HT_API_NOTIFICATIONS_H
#define HT_API_NOTIFICATIONS_H

#include "matrix/handler.h"

ht_reply ht_api_notifications(ht_ctx *ctx);

#endif
