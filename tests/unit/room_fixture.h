/* room_fixture.h -- rooms built in memory for the tests of the
 * authorization rules and state resolution.
 *
 * Events are written compactly: short ids ("PA" is the event "$PA"), short
 * users ("alice" is "@alice:x"; a full user id stays as it is), content in
 * JSON with ' for " so that it reads in C strings, prev and auth events as
 * space-separated short ids. The fixture is the rules' ht_event_source. */
#ifndef HT_TESTS_ROOM_FIXTURE_H
#define HT_TESTS_ROOM_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "room/id_map.h"
#include "room/pdu_view.h"
#include "room/state_map.h"
#include "util/arena.h"

#define ROOM_ID "!room:x"

typedef struct fixture {
    ht_arena arena;
    ht_id_map *events; /* "$id" -> ht_pdu */
    ht_event_source src;
    const char *version;
    int64_t clock; /* origin_server_ts of the next event that names none */
} fixture;

typedef struct spec_event {
    const char *id, *sender, *type, *state_key; /* state_key NULL: a message */
    const char *content;                        /* NULL: {} */
    const char *prev, *auth;                    /* NULL: none */
    int64_t ts;                                 /* 0: the fixture's clock */
    bool rejected;
} spec_event;

/* Initialisers: an event with its content; the same with prev events, auth
 * events and a timestamp; the same rejected on receipt. */
#define EVENT(id_, sender_, type_, key_, content_)                                                                \
    { .id = id_, .sender = sender_, .type = type_, .state_key = key_, .content = content_ }
#define EVENT_AT(id_, sender_, type_, key_, content_, prev_, auth_, ts_)                                          \
    {                                                                                                             \
        .id = id_, .sender = sender_, .type = type_, .state_key = key_, .content = content_, .prev = prev_,       \
        .auth = auth_, .ts = ts_                                                                                  \
    }
#define REJECTED_AT(id_, sender_, type_, key_, content_, prev_, auth_, ts_)                                       \
    {                                                                                                             \
        .id = id_, .sender = sender_, .type = type_, .state_key = key_, .content = content_, .prev = prev_,       \
        .auth = auth_, .ts = ts_, .rejected = true                                                                \
    }

void fixture_init(fixture *f, const char *version);
void fixture_free(fixture *f);
/* "$id" for "id", "@user:x" for "user": in the fixture's arena. */
const char *fixture_event_id(fixture *f, const char *short_id);
const char *fixture_user(fixture *f, const char *short_user);
/* Builds the event as a PDU, reads it with ht_pdu_view and keeps it. */
ht_pdu *fixture_add(fixture *f, const spec_event *e);
/* fixture_add of an event given field by field (prev, auth: NULL or ids). */
ht_pdu *fixture_event(fixture *f, const char *id, const char *sender, const char *type, const char *state_key,
                      const char *content, const char *prev, const char *auth, int64_t ts);
/* The same, its auth events being what the auth events selection names in
 * `state` (e->auth is ignored): how a server builds an event. */
ht_pdu *fixture_add_on(fixture *f, const spec_event *e, const ht_state_map *state);
ht_pdu *fixture_get(fixture *f, const char *short_id);
/* The state made of these events, each at its own (type, state_key). */
ht_state_map *fixture_state(fixture *f, const char *short_ids);
/* The map's events as short ids in key order, for comparisons and messages. */
const char *fixture_describe(fixture *f, const ht_state_map *map);

#endif
