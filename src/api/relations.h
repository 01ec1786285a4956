/* relations.h -- reading rooms beyond the timeline: event relations and
 * full-text search. */
#ifndef HT_API_RELATIONS_H
#define HT_API_RELATIONS_H

#include "matrix/handler.h"

/* relations.c: GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]] */
ht_reply ht_api_relations(ht_ctx *ctx);
/* search.c: POST /search */
ht_reply ht_api_search(ht_ctx *ctx);

#endif
