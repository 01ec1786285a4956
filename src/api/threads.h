/* threads.h -- GET /_matrix/client/v1/rooms/{roomId}/threads. */
#ifndef HT_API_THREADS_H
#define HT_API_THREADS_H

#include "matrix/handler.h"

ht_reply ht_api_threads(ht_ctx *ctx);

#endif
