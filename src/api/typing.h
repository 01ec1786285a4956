/* typing.h -- PUT /rooms/{roomId}/typing/{userId}. */
#ifndef HT_API_TYPING_H
#define HT_API_TYPING_H

#include "matrix/handler.h"

ht_reply ht_api_typing(ht_ctx *ctx);

#endif
