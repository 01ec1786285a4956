/* for_servers.h -- what another server may read of a room: the rooms
 * engine's side of the server-server read endpoints (federation/events.c,
 * federation/backfill.c), beside room.h's state before an event and auth
 * chains.
 *
 * The one decision: an event is judged for a server as for its users.
 * History visibility is read at the event itself (the state before it, and
 * its users' memberships at it, from the event's own place in the graph,
 * not from the room's timeline), and a server sees what any of its users
 * could see. What a server may not see it still gets, redacted: the graph
 * stays whole and checkable (ids, hashes, signatures), the words do not
 * leave. Every walk here is bounded; the caller says by how much. */
#ifndef HT_ROOM_FOR_SERVERS_H
#define HT_ROOM_FOR_SERVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matrix/env.h"
#include "store/rooms.h"

enum {
    /* Users of one server whose memberships a request reads, and how many
     * membership lookups it may make in all: past either, an event whose
     * visibility needs them is judged not visible (served redacted). */
    HT_SERVER_VIEWER_MAX_USERS = 1000,
    HT_SERVER_VIEWER_LOOKUPS = 20000,
};

/* One server asking about one room, judged event after event. */
typedef struct ht_server_viewer {
    ht_env *env;
    const char *server, *room_id;
    bool joined;          /* the server has a user joined in the room now */
    const char **users;   /* its users with a membership in the room (read when first needed) */
    size_t user_count;
    bool users_read;
    int64_t lookups_left; /* membership lookups this request may still make */
} ht_server_viewer;

void ht_server_viewer_init(ht_env *env, ht_server_viewer *viewer, const char *room_id, const char *server);

/* May the server see the event? Its own events (by their sender's server)
 * always; an outlier's state is unknown, so only if it is a state event
 * (auth events and the state given at a join, which members get anyway);
 * a rejected event never; any other as the history visibility in force
 * before it says for the memberships its users had at it: world_readable
 * for everyone, shared while the server is in the room, invited and joined
 * for a user of it invited or joined at the event. As for users, the
 * visibility after a history_visibility event, and the membership before a
 * user's own member event, count too. */
bool ht_server_may_see(ht_server_viewer *viewer, const ht_event_row *ev);

/* /backfill: the events `from` (those of the room) and the events before
 * them through prev_events, newest first (greatest depth, then latest
 * stream), at most limit. Only events in the room's graph are listed
 * (timeline and soft-failed): rejected ones are walked through, outliers
 * end a path. */
size_t ht_room_backfill(ht_env *env, const char *room_id, const char *const *from, size_t from_count,
                        size_t limit, ht_event_row **out);

/* /get_missing_events: a breadth-first walk back through the prev events of
 * `latest` (not listed themselves), never into `earliest` nor below
 * min_depth, at most limit events, listed oldest first (by depth, then
 * stream). What is listed and walked is as for ht_room_backfill. */
size_t ht_room_missing_events(ht_env *env, const char *room_id, const char *const *earliest, size_t earliest_count,
                              const char *const *latest, size_t latest_count, size_t limit, int64_t min_depth,
                              ht_event_row **out);

#endif
