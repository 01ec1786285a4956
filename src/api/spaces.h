/* spaces.h -- the space hierarchy (/rooms/{roomId}/hierarchy). */
#ifndef HT_API_SPACES_H
#define HT_API_SPACES_H

#include "matrix/handler.h"

ht_reply ht_api_hierarchy(ht_ctx *ctx);

#endif
