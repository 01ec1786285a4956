#ifndef HT_API_DISCOVERY_H
#define HT_API_DISCOVERY_H

#include "matrix/handler.h"

ht_reply ht_api_versions(ht_ctx *ctx);
ht_reply ht_api_well_known_client(ht_ctx *ctx);

#endif
