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

typedef struct net net;

/* A server that lies: called for each fetch carried; returning true
 * answers it with *status and *body (malloc'd JSON, or NULL for none)
 * instead of the destination's own answer. */
typedef bool net_liar(void *arg, const char *destination, const char *target, int *status, char **body);

struct net {
    ht_core *cores[NET_MAX];
    const char *names[NET_MAX];
    bool down[NET_MAX];
    int count;
    int64_t clock_ms;
    unsigned fetches; /* fetches carried so far */
    net_liar *liar;
    void *liar_arg;
    /* Calls that asked to be called again at once, having done part of a
     * long job (a park until now: matrix/remote.h's ht_remote_resume);
     * on_resume, if set, runs before each such call is made again, as a
     * host serves others meanwhile. */
    unsigned resumes;
    void (*on_resume)(net *n, int i, void *arg);
    void *on_resume_arg;
};

typedef struct reply {
    int status;
    json_t *json;          /* owned; NULL if the body is not JSON */
    char *body;            /* owned: the body's bytes (NUL after them) */
    size_t body_len;
    char content_type[256]; /* "" if none */
} reply;

bool net_open(net *n, int count, const char *const *names);
/* The same with the rate limit of each user of server `limited` on (its
 * other limits, and every other server's, stay off). */
bool net_open_user_limited(net *n, int count, const char *const *names, int limited, double per_second,
                           unsigned burst);
/* The same with servers in peer-to-peer mode: each is named by its key. */
bool net_open_p2p(net *n, int count);
void net_close(net *n);
/* A client request to server i (token may be NULL), answered after every
 * fetch it needed was carried. */
reply net_call(net *n, int i, const char *method, const char *path, const char *token, json_t *body);
/* Delivers outbox transactions until none waits (or `rounds` passes). */
void net_pump(net *n);
void reply_free(reply *r);
/* Registers @name:server on server i; returns the access token (malloc'd). */
char *net_register(net *n, int i, const char *name);

/* A server-server request from server `from` to server `to`, signed with
 * X-Matrix as `from` signs its own (authorization NULL), or carrying the
 * given Authorization header instead ("" for none). */
reply net_fed_call(net *n, int from, int to, const char *method, const char *target, json_t *body,
                   const char *authorization);
/* The X-Matrix header `from` would send, signed over these fields (for
 * tests that change one of them). malloc'd. */
char *net_xmatrix(net *n, int from, const char *destination, const char *method, const char *target,
                  json_t *body);

/* Runs task on server i as the door runs a handler: in a transaction,
 * again after every fetch it asked for was carried, until it no longer
 * waits (it returns false while it waits, as matrix/remote.h says); then
 * commits. The task must copy out what it keeps: its arena is reused. */
struct ht_ctx;
typedef bool net_task(struct ht_ctx *ctx, void *arg);
void net_run(net *n, int i, net_task *task, void *arg);

#endif
