/* pdus.h -- stored events as other servers get them, and the room state
 * and auth chains that join and state answers carry. */
#ifndef HT_FEDERATION_PDUS_H
#define HT_FEDERATION_PDUS_H

#include <jansson.h>
#include <stdbool.h>

#include "matrix/env.h"
#include "matrix/handler.h"
#include "room/room_version.h"
#include "store/rooms.h"
#include "util/str.h"

/* Is a user of this server joined to the room? */
bool ht_fed_resident(ht_env *env, const char *room_id);

/* A stored event as a PDU (new reference): its stored JSON without
 * `unsigned`, signed by this server if it made the event and kept it
 * unsigned: one no other server was sent when it was made (room/send.c),
 * or one made before this server signed events (schema 7 and earlier). The
 * signature is then stored with the event (a write, in the caller's
 * transaction); its id is the same either way. */
json_t *ht_fed_pdu(ht_env *env, const ht_event_row *row);

/* A stored event as a PDU's text, in the arena: its stored text itself
 * when that already is the PDU (no `unsigned` at its top, and signed by
 * this server if it is ours), which saves a big room's answers a parse and
 * a dump of every event; else ht_fed_pdu's, written out. NULL if it cannot
 * be read. */
const char *ht_fed_pdu_text(ht_env *env, const ht_event_row *row);

/* A list of PDU texts. */
typedef struct ht_fed_texts {
    const char **texts;
    size_t count;
} ht_fed_texts;

/* The room's state before an event and the auth chain of that state and
 * the event, as PDU texts in the arena. False if it cannot be read. A big
 * room's is read a slice a pass (a send_join's): *more then says the
 * reading is kept and goes on (ht_remote_resume, and return as while
 * waiting); the lists are given on the last pass. */
bool ht_fed_state_before(ht_ctx *ctx, const char *event_id, ht_fed_texts *state, ht_fed_texts *auth_chain,
                         bool *more);

/* A JSON reply: the members of `rest` (an object, stolen), and n members
 * named names[i] whose values are the lists of PDU texts lists[i], copied
 * in as they are. */
ht_reply ht_fed_reply_with_pdus(ht_ctx *ctx, json_t *rest, const char *const *names, const ht_fed_texts *lists,
                                size_t n);

/* Keeps a room's events (a join's state and auth chain, the state at a
 * gap) as outliers, each after those of the list that it names as auth
 * events, each checked by ht_room_receive. False, with *why, when one
 * names an auth event that neither the list nor the store holds. */
bool ht_fed_take_outliers(ht_ctx *ctx, const ht_room_version *v, json_t *events, const char **why);

/* The same in steps (federation/join_intake.c takes a big room in slices):
 * a list ordered once for taking, each event after those of the list it
 * names as auth events... */
typedef struct ht_fed_auth_order {
    const char **ids; /* ids[i]: the id of the list's event i ("" when it has none) */
    size_t *order;    /* indexes into the list, in the order to take them... */
    size_t count;     /* ...fewer than the list when some wait on each other in a loop */
} ht_fed_auth_order;
/* Orders `events`: temporaries in tmp, what *out holds in keep. given_ids:
 * the events' ids as ht_fed_pdu_id_or_empty gives them (in keep), worked
 * out already, or NULL to work them out here. */
void ht_fed_order_by_auth(ht_arena *tmp, ht_arena *keep, const ht_room_version *v, json_t *events,
                          const char **given_ids, ht_fed_auth_order *out);
/* ...then taken from order->order[*next] on, at most `budget` of them, each
 * checked by ht_room_receive; *next is moved past those taken, and *kept
 * (when given) past the last that the store holds after it (one dropped as
 * it came is not kept). False, with *why, when one names an auth event
 * neither the list nor the store holds. */
bool ht_fed_take_in_order(ht_ctx *ctx, const ht_room_version *v, json_t *events, const ht_fed_auth_order *order,
                          size_t *next, size_t budget, size_t *kept, const char **why);
/* A PDU's event id in keep, or "" when it has none. */
const char *ht_fed_pdu_id_or_empty(ht_arena *tmp, ht_arena *keep, const ht_room_version *v, json_t *pdu);

/* What an invitee or a knocker is shown of a room (the spec's "stripped
 * state": create, join rules, name, avatar, topic, encryption, canonical
 * alias), a new array. */
json_t *ht_fed_stripped_state(ht_ctx *ctx, const char *room_id);
/* Stripped state another server sent, as it is kept: well-formed entries
 * only ({type, state_key, sender, content}, within the event limits), at
 * most 20 of them. A new array in the arena. */
json_t *ht_fed_kept_stripped_state(ht_ctx *ctx, json_t *given);

/* The membership event a resident handed out to sign (make_join,
 * make_knock, make_leave), made ours: origin, the request's time, the
 * members of `content` but membership (profile, reason) in its content, the
 * hash, our signature. In the arena; NULL if it cannot be. */
json_t *ht_fed_own_membership(ht_ctx *ctx, const ht_room_version *v, json_t *template_event, json_t *content);

/* One attempt to enter a room through a server (remote_join.c, knock.c):
 * true with *out, or with *failed set when this server cannot help
 * (*refused when it said no); false while it waits. */
typedef bool ht_fed_attempt(ht_ctx *ctx, const char *server, const char *room_id, json_t *content, ht_reply *out,
                            const char **failed, bool *refused);
/* Tries the servers in order, our own skipped, until one helps; else *out
 * is 403 when one refused, 404 when none could help, naming the last and
 * what it said (`what`: "joined", "knocked on"). False while it waits. */
bool ht_fed_through_servers(ht_ctx *ctx, ht_fed_attempt *attempt, const char *what, const char *room_id,
                            const char *const *servers, size_t count, json_t *content, ht_reply *out);

/* Queues a stored event for the room's other servers but `except` (the
 * server it came from): the resident passes a joiner's event on. */
void ht_fed_forward(ht_ctx *ctx, const char *room_id, const char *event_id, const char *except);

#endif
