/* routes.c -- every endpoint hometab serves, in one table.
 *
 * (r0|v3) accepts both the old and the current prefix where the spec had
 * both; endpoints that only ever existed under v1 or v3 say so. */
#include "router/router.h"

#include "api/discovery.h"

#define CLIENT "/_matrix/client/(r0|v3)"

const ht_route ht_routes[] = {
    {"GET", "/_matrix/client/versions", ht_api_versions, 0},
    {"GET", "/.well-known/matrix/client", ht_api_well_known_client, 0},
    {NULL, NULL, NULL, 0},
};
