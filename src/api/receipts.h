/* receipts.h -- read receipts and read markers. */
#ifndef HT_API_RECEIPTS_H
#define HT_API_RECEIPTS_H

#include "matrix/handler.h"

ht_reply ht_api_receipt(ht_ctx *ctx);
ht_reply ht_api_read_markers(ht_ctx *ctx);

#endif
