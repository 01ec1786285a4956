/* federation_net.h -- several cores in one process, joined by a "network"
 * that carries their fetches: what a host does with HT_FETCH and the
 * outbox, with no sockets, so the server-server API can be driven in unit
 * tests as two real servers would drive it.
 *
 *   net n; net_open(&n, 2, (const char *[]){"a.test", "b.test"});
 *   reply r = net_call(&n, 0, "POST", "/_matrix/client/v3/...", token, body);
 *   net_pump(&n);       // deliver every outbox transaction until quiet
 *   net_close(&n);
 *
 * A fetch to a server the net does not have, or one marked down, answers
 * with a transport error, as an unreachable server would. */
#ifndef HT_TESTS_FEDERATION_NET_H
#define HT_TESTS_FEDERATION_NET_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "hometab.h"

enum { NET_MAX = 4 };

typedef struct net {
    ht_core *cores[NET_MAX];
    const char *names[NET_MAX];
    bool down[NET_MAX];
    int count;
    int64_t clock_ms;
    unsigned fetches; /* fetches carried so far */
} net;

typedef struct reply {
    int status;
    json_t *json; /* owned; NULL if the body is not JSON */
} reply;

bool net_open(net *n, int count, const char *const *names);
void net_close(net *n);
/* A client request to server i (token may be NULL), answered after every
 * fetch it needed was carried. */
reply net_call(net *n, int i, const char *method, const char *path, const char *token, json_t *body);
/* Delivers outbox transactions until none waits (or `rounds` passes). */
void net_pump(net *n);
void reply_free(reply *r);
/* Registers @name:server on server i; returns the access token (malloc'd). */
char *net_register(net *n, int i, const char *name);

#endif
