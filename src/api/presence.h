/* presence.h -- /presence/{userId}/status. */
#ifndef HT_API_PRESENCE_H
#define HT_API_PRESENCE_H

#include "matrix/handler.h"
#include "store/presence.h"

ht_reply ht_api_presence_put(ht_ctx *ctx);
ht_reply ht_api_presence_get(ht_ctx *ctx);

/* Shows offline the users none of whose clients has synced for
 * cfg.presence_offline_ms: a presence change like any other, at a new stream
 * position, so the people who share a room with them hear of it. Run before
 * presence is read (each /sync, GET /presence); a bounded number per call. */
void ht_presence_expire(ht_ctx *ctx);

/* How often a syncing client's activity is written down: often enough that
 * a running client is never taken for a silent one. */
int64_t ht_presence_activity_interval(const ht_ctx *ctx);

/* Writes down the activity of ctx's user, whose presence row is `row`
 * (unchanged otherwise). Other servers are told the unchanged presence
 * again once every 20 minutes of wall clock, so that theirs (Synapse's:
 * 30 minutes without news) do not take the user for gone. */
void ht_presence_touch(ht_ctx *ctx, const ht_presence_row *row);

#endif
