/* capabilities.h -- what clients ask at start-up: /capabilities,
 * /voip/turnServer, /thirdparty/protocols, /account/3pid; and content
 * reports. */
#ifndef HT_API_CAPABILITIES_H
#define HT_API_CAPABILITIES_H

#include "matrix/handler.h"

ht_reply ht_api_capabilities(ht_ctx *ctx);
ht_reply ht_api_turn_server(ht_ctx *ctx);
ht_reply ht_api_thirdparty_protocols(ht_ctx *ctx);
ht_reply ht_api_account_3pids(ht_ctx *ctx);
ht_reply ht_api_report_event(ht_ctx *ctx);

#endif
