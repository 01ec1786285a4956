#ifndef HT_API_SYNC_H
#define HT_API_SYNC_H

#include "matrix/handler.h"

ht_reply ht_api_sync(ht_ctx *ctx);

#endif
