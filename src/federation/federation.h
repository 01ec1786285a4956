/* federation.h -- the server-server API: the handlers of /_matrix/key/ and
 * /_matrix/federation/, and what the door and the client API ask of it.
 *
 * Federation handlers get the same ht_ctx as client handlers; ctx->origin
 * is the server that signed the request (the door checked its X-Matrix
 * signature before the handler runs). Everything another server sends is
 * untrusted input: bounded where it enters, checked as the spec says. */
#ifndef HT_FEDERATION_H
#define HT_FEDERATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matrix/handler.h"
#include "store/presence.h"

/* ---- keys.c ---- */
ht_reply ht_fed_key_server(ht_ctx *ctx);    /* GET /_matrix/key/v2/server[/{keyId}] */
ht_reply ht_fed_version(ht_ctx *ctx);       /* GET /_matrix/federation/v1/version */

/* A server's public key (unpadded base64) for key_id, usable at ts: from
 * the cache, or asked of the server itself (false: the request must wait,
 * see matrix/remote.h). *key is NULL when the server has no such key or
 * could not be reached; *why then says why. */
bool ht_fed_server_key(ht_ctx *ctx, const char *server, const char *key_id, int64_t ts, const char **key,
                       const char **why);
/* Fetches (or finds) every key that signed the given PDUs, so that the
 * receive path finds them in the cache; false: the request must wait. */
bool ht_fed_prefetch_keys(ht_ctx *ctx, json_t *const *pdus, size_t count);
/* The receive path's key lookup over the cache (room/pdu.h); ctx is the env. */
const char *ht_fed_cached_key(void *env, const char *server, const char *key_id, int64_t ts);

/* ---- query.c ---- */
ht_reply ht_fed_query_profile(ht_ctx *ctx);    /* GET /v1/query/profile */
ht_reply ht_fed_query_directory(ht_ctx *ctx);  /* GET /v1/query/directory */
/* A remote user's profile (or one field) for our client, as *out; false:
 * the request must wait. */
bool ht_fed_remote_profile(ht_ctx *ctx, const char *user_id, const char *field, ht_reply *out);
/* A remote alias: *room_id and the servers to join through (strings, at
 * most HT_FED_MAX_ALIAS_SERVERS, in the arena), or *room_id NULL with *err;
 * false: the request must wait. */
enum { HT_FED_MAX_ALIAS_SERVERS = 20 };
bool ht_fed_remote_alias(ht_ctx *ctx, const char *alias, const char **room_id, json_t **servers, ht_reply *err);
/* Another server's room directory (POST /v1/publicRooms with body: limit,
 * since, filter) as the reply to our client: its rooms, at most 500, as far
 * as each names a room; its error as the client's. False: it waits. */
bool ht_fed_remote_public_rooms(ht_ctx *ctx, const char *server, json_t *body, ht_reply *out);

/* ---- join.c: another server's user joins or leaves a room we are in ---- */
ht_reply ht_fed_make_join(ht_ctx *ctx);    /* GET /v1/make_join/{roomId}/{userId} */
ht_reply ht_fed_send_join(ht_ctx *ctx);    /* PUT /v2/send_join/{roomId}/{eventId} */
ht_reply ht_fed_make_knock(ht_ctx *ctx);   /* GET /v1/make_knock/{roomId}/{userId} */
ht_reply ht_fed_send_knock(ht_ctx *ctx);   /* PUT /v1/send_knock/{roomId}/{eventId} */
ht_reply ht_fed_make_leave(ht_ctx *ctx);   /* GET /v1/make_leave/{roomId}/{userId} */
ht_reply ht_fed_send_leave(ht_ctx *ctx);   /* PUT /v2/send_leave/{roomId}/{eventId} */

/* ---- send.c ---- */
ht_reply ht_fed_send(ht_ctx *ctx);         /* PUT /v1/send/{txnId} */

/* ---- remote_join.c: our user joins a room on other servers ---- */
/* Joins ctx's user to room_id through the servers in order, with our member
 * event's content; *out is {room_id} or the error of the last server
 * tried. False while it waits for them. */
bool ht_fed_join(ht_ctx *ctx, const char *room_id, const char *const *servers, size_t count, json_t *content,
                 ht_reply *out);
/* ---- knock.c: our user knocks on a room on other servers ---- */
/* Knocks through the first of `servers` that will take it (make_knock,
 * send_knock); *out is {room_id}, 403 when the room refused, 404 when no
 * server could help. False while it waits. */
bool ht_fed_knock(ht_ctx *ctx, const char *room_id, const char *const *servers, size_t count, json_t *content,
                  ht_reply *out);

/* ---- invite.c ---- */
ht_reply ht_fed_invite(ht_ctx *ctx);       /* PUT /v2/invite/{roomId}/{eventId} */
/* Invites another server's user (content: the member event's); *out is {}
 * or why not. False while it waits. */
bool ht_fed_invite_remote(ht_ctx *ctx, const char *room_id, const char *invitee, json_t *content, ht_reply *out);
/* Leaves (or declines the invite into) a room no user of ours is joined
 * to, through a resident server; locally only if none answers. */
bool ht_fed_leave_remote(ht_ctx *ctx, const char *room_id, json_t *content, ht_reply *out);

/* ---- user_keys.c: users' devices and keys across servers ---- */
enum {
    HT_FED_MAX_REMOTE_DEVICES = 1000,          /* devices taken for one remote user */
    HT_FED_MAX_KEY_BYTES = 16384,              /* one key object, as for our own clients */
    HT_FED_MAX_CACHED_KEYS_BYTES = 1024 * 1024, /* one remote user's keys kept */
};
ht_reply ht_fed_user_devices(ht_ctx *ctx);    /* GET /v1/user/devices/{userId} */
ht_reply ht_fed_user_keys_query(ht_ctx *ctx); /* POST /v1/user/keys/query */
ht_reply ht_fed_user_keys_claim(ht_ctx *ctx); /* POST /v1/user/keys/claim */
/* Our client's /keys/query about other servers' users (`wanted`: {user:
 * [device ids]}, none of ours): fills answer's device_keys, master_keys,
 * self_signing_keys, and failures for servers that gave no usable answer.
 * False while it waits. */
bool ht_fed_remote_keys_query(ht_ctx *ctx, json_t *wanted, int64_t timeout_ms, json_t *answer);
/* Our client's /keys/claim ({user: {device: algorithm}}): fills answer's
 * one_time_keys and failures. False while it waits. */
bool ht_fed_remote_keys_claim(ht_ctx *ctx, json_t *wanted, int64_t timeout_ms, json_t *answer);

/* ---- device_lists.c ---- */
/* Queues, for the servers sharing a room with each user, what changed in our
 * users' device lists since the last call (bounded per call). The door
 * calls it after each write; false if the store failed. */
bool ht_fed_device_lists_queue(ht_env *env);
/* ---- presence.c: m.presence ---- */
/* Queues our users' presence changes after stream position `since` for the
 * servers that share a room with each (the door calls it after a write). */
bool ht_fed_presence_queue(ht_env *env, int64_t since);
/* Queues one of our users' presence, as it is, for those servers. */
bool ht_fed_presence_tell(ht_env *env, const ht_presence_row *row);
/* An m.presence EDU's content, from ctx->origin. */
void ht_fed_take_presence(ht_ctx *ctx, json_t *content);
/* Incoming EDUs (send.c): m.device_list_update, m.signing_key_update. */
void ht_fed_take_device_list_update(ht_ctx *ctx, json_t *content);
void ht_fed_take_signing_key_update(ht_ctx *ctx, json_t *content);

/* ---- to_device.c ---- */
/* Queues ctx's user's to-device messages to one remote user ({device id or
 * "*": content}) as an m.direct_to_device EDU for their server. */
bool ht_fed_queue_to_device(ht_ctx *ctx, const char *type, const char *user_id, json_t *per_device,
                            const char *message_id);
/* An incoming m.direct_to_device EDU: delivered to our users' devices. */
void ht_fed_take_to_device(ht_ctx *ctx, json_t *content);

/* ---- media.c ---- */
typedef struct ht_fed_media {
    bool found;
    bool not_found;            /* the other server has no such file */
    bool unreachable;          /* no answer came (timeout, refused connection) */
    bool transient;            /* ...or one that may change if asked again (5xx, 429) */
    const char *why;           /* when not found: what went wrong */
    const unsigned char *bytes; /* borrowed: valid until the handler returns */
    size_t len;
    const char *content_type;  /* as the server said, unchecked, or NULL */
    const char *disposition;   /* its Content-Disposition, unchecked, or NULL */
} ht_fed_media;
/* Another server's file (mxc://server/media_id), asked of it; false while
 * it waits. The bytes are as it sent them, at most the door's answer limit. */
bool ht_fed_remote_media(ht_ctx *ctx, const char *server, const char *media_id, ht_fed_media *out);
/* The same for a thumbnail of it, of the size and method given. */
bool ht_fed_remote_thumbnail(ht_ctx *ctx, const char *server, const char *media_id, int width, int height,
                             const char *method, ht_fed_media *out);

/* ---- auth.c ---- */
/* For routes flagged HT_ROUTE_FEDERATION: checks the X-Matrix signature and
 * sets ctx->origin. HT_OK, a 401 error, or *wait when the origin's key must
 * be fetched first. */
ht_error ht_fed_authenticate(ht_ctx *ctx, bool *wait);

/* ---- events.c, backfill.c: other servers read our rooms ---- */
ht_reply ht_fed_event(ht_ctx *ctx);              /* GET /v1/event/{eventId} */
ht_reply ht_fed_state(ht_ctx *ctx);              /* GET /v1/state/{roomId}?event_id= */
ht_reply ht_fed_state_ids(ht_ctx *ctx);          /* GET /v1/state_ids/{roomId}?event_id= */
ht_reply ht_fed_event_auth(ht_ctx *ctx);         /* GET /v1/event_auth/{roomId}/{eventId} */
ht_reply ht_fed_backfill(ht_ctx *ctx);           /* GET /v1/backfill/{roomId}?v=&limit= */
ht_reply ht_fed_get_missing_events(ht_ctx *ctx); /* POST /v1/get_missing_events/{roomId} */

/* ---- fetch_events.c: we read other servers' rooms ----
 * Each returns false while it waits for the other server (matrix/remote.h:
 * return from the handler at once) and true once *out is filled. What
 * comes back is parsed, not verified: the caller gives every PDU to
 * ht_room_receive (room/room.h). */

/* PDUs of one room, each with the id it has in the room's version. */
typedef struct ht_fed_pdus {
    json_t **pdus;          /* borrowed, the arena's */
    const char **event_ids;
    size_t count;
    size_t dropped;         /* left out: not a PDU of the room, no id, a repeat, more than asked */
    const char *error;      /* NULL, or why nothing came: unreachable, refused, malformed */
} ht_fed_pdus;

/* One event (GET /v1/event): exactly the one asked for, its id being the
 * reference hash of what came. */
bool ht_fed_fetch_event(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                        const char *event_id, ht_fed_pdus *out);
/* The events before `latest` that we lack, stopping at `earliest` (POST
 * /v1/get_missing_events); limit at most 20. */
bool ht_fed_fetch_missing_events(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                                 const char *const *earliest, size_t earliest_count, const char *const *latest,
                                 size_t latest_count, int64_t limit, int64_t min_depth, ht_fed_pdus *out);

typedef struct ht_fed_state_lists {
    const char **pdu_ids;        /* the state before the event */
    size_t pdu_count;
    const char **auth_chain_ids; /* that state's auth chain */
    size_t auth_chain_count;
    const char *error;
} ht_fed_state_lists;

/* The state before an event, as ids (GET /v1/state_ids): lists of event
 * ids, at most 50,000 each, or an error. */
bool ht_fed_fetch_state_ids(ht_ctx *ctx, const char *server, const char *room_id, const char *event_id,
                            ht_fed_state_lists *out);
/* The state before an event, as PDUs, and that state's auth chain (GET
 * /v1/state): at most 50,000 events each; an error is in state->error. */
bool ht_fed_fetch_state(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                        const char *event_id, ht_fed_pdus *state, ht_fed_pdus *auth_chain);
/* An event's auth chain (GET /v1/event_auth). */
bool ht_fed_fetch_event_auth(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                             const char *event_id, ht_fed_pdus *out);
/* The history before the `from` events (GET /v1/backfill), at most limit
 * (up to 100) events, from at most 5 of them. */
bool ht_fed_fetch_backfill(ht_ctx *ctx, const char *server, const char *room_id, const char *room_version,
                           const char *const *from, size_t from_count, int64_t limit, ht_fed_pdus *out);

/* ---- history.c: our clients page back past what this server holds ---- */
enum { HT_FED_HISTORY_MAX_ASKS = 3 }; /* /backfill asks one client request may make */
/* Fetches the room's history from before the oldest event shown here, as
 * the client's backward /messages reaches it: at least `want` events if
 * the room has them, in at most HT_FED_HISTORY_MAX_ASKS asks. *more: the
 * room may still have older history (the asks ran out). False while it
 * waits. */
bool ht_fed_backfill_history(ht_ctx *ctx, const char *room_id, int64_t want, bool *more);

#endif
