/* statements.h -- every SQL statement the server runs, by name.
 *
 * Each X(NAME, "SQL") line becomes an ht_stmt_id HT_STMT_NAME and a prepared
 * statement in the open store. Grouped by the store file that uses them. */
#ifndef HT_STORE_STATEMENTS_H
#define HT_STORE_STATEMENTS_H

#include "store/statements_operator.h"

/* The columns every event query returns, decoded by ht_store_event_read. */
#define HT_EVENT_COLUMNS                                                                  \
    "stream, event_id, room_id, type, state_key, sender, origin_ts, depth, json, "       \
    "redacted_by, txn_id, device_id, prev_state, status, state_group"

#define HT_STATEMENTS(X)                                                                 \
    /* meta.c */                                                                         \
    X(STREAM_GET, "SELECT position FROM stream WHERE id = 1")                           \
    X(STREAM_ADVANCE, "UPDATE stream SET position = position + 1 WHERE id = 1")         \
    X(META_GET, "SELECT value FROM meta WHERE key = ?1")                                 \
    X(META_ADD, "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING") \
    /* accounts.c */                                                                     \
    X(USER_INSERT, "INSERT INTO users(user_id, password_hash, created_ms) VALUES (?1, ?2, ?3)") \
    X(USER_GET, "SELECT password_hash, deactivated, displayname, avatar_url "            \
                "FROM users WHERE user_id = ?1")                                         \
    X(USER_SET_PASSWORD, "UPDATE users SET password_hash = ?2 WHERE user_id = ?1")       \
    X(USER_DEACTIVATE, "UPDATE users SET deactivated = 1 WHERE user_id = ?1")           \
    X(DEVICE_UPSERT, "INSERT INTO devices(user_id, device_id, display_name, last_seen_ms) " \
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(user_id, device_id) DO UPDATE SET " \
                     "display_name = coalesce(excluded.display_name, display_name), "    \
                     "last_seen_ms = excluded.last_seen_ms")                             \
    X(DEVICE_GET, "SELECT device_id, display_name, last_seen_ms FROM devices "           \
                  "WHERE user_id = ?1 AND device_id = ?2")                               \
    X(DEVICE_LIST, "SELECT device_id, display_name, last_seen_ms FROM devices "          \
                   "WHERE user_id = ?1 ORDER BY device_id")                              \
    X(DEVICE_SET_NAME, "UPDATE devices SET display_name = ?3 "                           \
                       "WHERE user_id = ?1 AND device_id = ?2")                          \
    X(DEVICE_DELETE, "DELETE FROM devices WHERE user_id = ?1 AND device_id = ?2")        \
    X(DEVICE_DELETE_ALL_BUT, "DELETE FROM devices WHERE user_id = ?1 AND device_id IS NOT ?2") \
    X(TOKEN_INSERT, "INSERT INTO access_tokens(token_hash, user_id, device_id, created_ms) " \
                    "VALUES (?1, ?2, ?3, ?4)")                                           \
    X(TOKEN_LOOKUP, "SELECT t.id, t.user_id, t.device_id, u.deactivated "                \
                    "FROM access_tokens t JOIN users u USING (user_id) WHERE token_hash = ?1") \
    X(TOKEN_DELETE_DEVICE, "DELETE FROM access_tokens WHERE user_id = ?1 AND device_id = ?2") \
    X(TOKEN_DELETE_ALL_BUT, "DELETE FROM access_tokens WHERE user_id = ?1 AND id IS NOT ?2") \
    X(UIA_INSERT, "INSERT INTO uia_sessions(session, user_id, created_ms) VALUES (?1, ?2, ?3)") \
    X(UIA_GET, "SELECT user_id FROM uia_sessions WHERE session = ?1 AND created_ms > ?2") \
    X(UIA_DELETE, "DELETE FROM uia_sessions WHERE session = ?1 OR created_ms <= ?2")     \
    /* filters.c */                                                                      \
    X(FILTER_INSERT, "INSERT INTO filters(user_id, json) VALUES (?1, ?2) RETURNING filter_id") \
    X(FILTER_GET, "SELECT json FROM filters WHERE user_id = ?1 AND filter_id = ?2")      \
    /* rooms.c */                                                                        \
    X(ROOM_INSERT, "INSERT INTO rooms(room_id, version, creator, created_ms, published) " \
                   "VALUES (?1, ?2, ?3, ?4, ?5)")                                        \
    X(ROOM_GET, "SELECT version, creator, published FROM rooms WHERE room_id = ?1")      \
    X(ROOM_SET_PUBLISHED, "UPDATE rooms SET published = ?2 WHERE room_id = ?1")         \
    X(ALIAS_INSERT, "INSERT INTO room_aliases(alias, room_id, creator) VALUES (?1, ?2, ?3)") \
    X(ALIAS_GET, "SELECT room_id, creator FROM room_aliases WHERE alias = ?1")           \
    X(ALIAS_DELETE, "DELETE FROM room_aliases WHERE alias = ?1")                         \
    X(ALIAS_LIST, "SELECT alias FROM room_aliases WHERE room_id = ?1 ORDER BY alias")    \
    X(MEMBERSHIP_SET, "INSERT INTO memberships(room_id, user_id, membership, stream, display_name, " \
                      "name_key, user_key, own_rules) VALUES (?1, ?2, ?3, ?4, ?5, name_key(?5), user_key(?2), " \
                      "EXISTS (SELECT 1 FROM push_rules WHERE user_id = ?2) "         \
                      "OR EXISTS (SELECT 1 FROM push_rule_defaults WHERE user_id = ?2)) " \
                      "ON CONFLICT(room_id, user_id) DO UPDATE SET " \
                      "membership = excluded.membership, stream = excluded.stream, forgotten = 0, " \
                      "display_name = excluded.display_name, name_key = excluded.name_key") \
    X(MEMBERSHIP_GET, "SELECT membership, stream, forgotten FROM memberships "           \
                      "WHERE room_id = ?1 AND user_id = ?2")                             \
    X(MEMBERSHIP_FORGET, "UPDATE memberships SET forgotten = 1 "                         \
                         "WHERE room_id = ?1 AND user_id = ?2")                          \
    X(MEMBERSHIPS_OF_USER, "SELECT room_id, membership, stream FROM memberships "        \
                           "WHERE user_id = ?1 AND forgotten = 0 ORDER BY stream")       \
    X(MEMBERS_OF_ROOM, "SELECT user_id, membership, stream FROM memberships "            \
                       "WHERE room_id = ?1 ORDER BY user_id")                            \
    /* The joined: counted per server by the membership triggers. */           \
    X(MEMBERS_JOINED_COUNT, "SELECT coalesce(sum(joined), 0) FROM room_servers WHERE room_id = ?1") \
    /* By the partial index of invites (which the literal 'invite' allows):     \
     * the primary key, which SQLite would rather take, reads every member. */  \
    X(MEMBERS_INVITED_COUNT, "SELECT count(*) FROM memberships INDEXED BY memberships_invited " \
                             "WHERE room_id = ?1 AND membership = 'invite'")           \
    X(MEMBERS_HEROES, "SELECT user_id FROM memberships WHERE room_id = ?1 "             \
                      "AND membership IN ('join', 'invite') AND user_id != ?2 "         \
                      "ORDER BY user_id LIMIT ?3")                                      \
    /* events.c */                                                                       \
    X(EVENT_INSERT, "INSERT INTO events(stream, event_id, room_id, type, state_key, sender, " \
                    "origin_ts, depth, json, txn_id, device_id, prev_state, status, state_group) " \
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)") \
    X(EVENT_BY_ID, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE event_id = ?1")        \
    X(EVENT_BY_STREAM, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE stream = ?1")      \
    X(EVENT_KEY_BY_ID, "SELECT room_id, type, state_key FROM events WHERE event_id = ?1") \
    X(EVENT_REDACT, "UPDATE events SET json = ?2, redacted_by = ?3 WHERE stream = ?1")   \
    X(EVENT_SIGNED, "UPDATE events SET json = ?2 WHERE stream = ?1")                      \
    X(REDACTION_WAIT, "INSERT OR IGNORE INTO redactions_waiting(target, room_id, stream) " \
                      "VALUES (?1, ?2, ?3)")                                             \
    X(REDACTION_WAITING, "SELECT stream FROM redactions_waiting WHERE target = ?1")       \
    X(REDACTION_WAITED, "DELETE FROM redactions_waiting WHERE target = ?1")               \
    X(EVENTS_AFTER, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE room_id = ?1 AND status = 0 " \
                    "AND stream > ?2 AND stream <= ?3 ORDER BY stream LIMIT ?4")         \
    X(EVENTS_BEFORE, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE room_id = ?1 AND status = 0 " \
                     "AND stream <= ?2 AND stream > ?3 ORDER BY stream DESC LIMIT ?4")   \
    /* Events of others in the rooms user ?1 is joined to, after their join, \
     * below ?2, newest first, at most ?3: what /notifications looks at. A walk \
     * down the stream (stopping at the limit, never below the user's oldest \
     * join) rather than a sort of every event of every joined room. */        \
    X(EVENTS_OF_JOINED_ROOMS, "SELECT " HT_EVENT_COLUMNS " FROM events e WHERE stream < ?2 " \
                              "AND stream > (SELECT min(stream) FROM memberships "     \
                              "WHERE user_id = ?1 AND membership = 'join') "          \
                              "AND stream > (SELECT m.stream FROM memberships m WHERE m.room_id = e.room_id " \
                              "AND m.user_id = ?1 AND m.membership = 'join') "         \
                              "AND sender != ?1 AND redacted_by IS NULL AND status = 0 " \
                              "ORDER BY stream DESC LIMIT ?3")                           \
    /* The room's forward extremities, deepest first, at most ?2; and      \
     * (graph.c) at most ?2 of them in no order, which needs no sorter.     */ \
    X(EXTREMITIES_OF_ROOM, "SELECT e.event_id, e.depth, e.stream FROM room_extremities x " \
                           "JOIN events e ON e.event_id = x.event_id WHERE x.room_id = ?1 " \
                           "ORDER BY e.depth DESC, e.stream DESC LIMIT ?2")              \
    X(EXTREMITIES_ANY, "SELECT e.event_id, e.depth, e.stream FROM room_extremities x "   \
                       "JOIN events e ON e.event_id = x.event_id WHERE x.room_id = ?1 LIMIT ?2") \
    X(EXTREMITY_INSERT, "INSERT OR IGNORE INTO room_extremities(room_id, event_id) VALUES (?1, ?2)") \
    X(EXTREMITY_DELETE, "DELETE FROM room_extremities WHERE room_id = ?1 AND event_id = ?2") \
    X(EDGE_INSERT, "INSERT OR IGNORE INTO event_edges(stream, prev_event_id) VALUES (?1, ?2)") \
    X(EVENT_SET_STATUS, "UPDATE events SET status = ?2, state_group = ?3 WHERE stream = ?1") \
    /* An outlier that joins the timeline moves to a new position (?2): every  \
     * reference to its old one (?1) moves with it. */                           \
    /* The lowest position taken, 1 when none: backfilled history goes below it. */    \
    X(EVENTS_LOWEST_STREAM, "SELECT coalesce(min(stream), 1) FROM events")              \
    X(EVENT_MOVE, "UPDATE events SET stream = ?2 WHERE stream = ?1")                     \
    X(EVENT_MOVE_PREV_STATE, "UPDATE events SET prev_state = ?2 WHERE prev_state = ?1")  \
    X(EVENT_MOVE_EDGES, "UPDATE event_edges SET stream = ?2 WHERE stream = ?1")          \
    X(EVENT_MOVE_STATE, "UPDATE room_state SET stream = ?2 WHERE stream = ?1")           \
    X(EVENT_MOVE_STATE_LOG, "UPDATE room_state_log SET event_stream = ?2 WHERE event_stream = ?1") \
    X(EVENT_MOVE_GROUPS, "UPDATE state_group_entries SET event_stream = ?2 WHERE event_stream = ?1") \
    X(EVENT_MOVE_MEMBERSHIPS, "UPDATE memberships SET stream = ?2 WHERE stream = ?1")    \
    /* The closest event to a time, walked in (origin_ts, stream) order from a cursor, \
     * among events at or below stream ?4 (events_room_ts). */                          \
    X(EVENTS_FROM_TS, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE room_id = ?1 AND status = 0 " \
                      "AND (origin_ts, stream) > (?2, ?3) AND stream <= ?4 "              \
                      "ORDER BY origin_ts, stream LIMIT ?5")                              \
    X(EVENTS_UNTIL_TS, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE room_id = ?1 AND status = 0 " \
                       "AND (origin_ts, stream) < (?2, ?3) AND stream <= ?4 "             \
                       "ORDER BY origin_ts DESC, stream DESC LIMIT ?5")                   \
    /* The room's last news at or below ?2: a timeline event or a state change. */  \
    X(ROOM_MAX_STREAM_BELOW, "SELECT max(m) FROM (SELECT max(stream) AS m FROM events "   \
                             "WHERE room_id = ?1 AND status = 0 AND stream <= ?2 "       \
                             "UNION ALL SELECT max(stream) FROM room_state_log "         \
                             "WHERE room_id = ?1 AND stream <= ?2)")                     \
    X(STATE_SET, "INSERT INTO room_state(room_id, type, state_key, stream) VALUES (?1, ?2, ?3, ?4) " \
                 "ON CONFLICT(room_id, type, state_key) DO UPDATE SET stream = excluded.stream") \
    X(STATE_GET, "SELECT stream FROM room_state WHERE room_id = ?1 AND type = ?2 AND state_key = ?3") \
    X(STATE_DELETE, "DELETE FROM room_state WHERE room_id = ?1 AND type = ?2 AND state_key = ?3") \
    X(STATE_LOG_INSERT, "INSERT INTO room_state_log(room_id, type, state_key, stream, event_stream) " \
                        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE "            \
                        "SET event_stream = excluded.event_stream")                     \
    /* State at a position: the latest change of the key at or below it. */      \
    X(STATE_AT, "SELECT event_stream FROM room_state_log WHERE room_id = ?1 AND type = ?2 " \
                "AND state_key = ?3 AND stream <= ?4 ORDER BY stream DESC LIMIT 1")     \
    X(STATE_LIST, "SELECT stream FROM room_state WHERE room_id = ?1 ORDER BY stream")    \
    X(STATE_LIST_AT, "SELECT event_stream FROM (SELECT event_stream, max(stream) "      \
                     "FROM room_state_log WHERE room_id = ?1 AND stream <= ?2 "          \
                     "GROUP BY type, state_key) WHERE event_stream IS NOT NULL ORDER BY 1") \
    /* STATE_LIST_AT without the member events but those of the users in ?3 \
     * (a JSON array): the keys below and above m.room.member, then each   \
     * listed member's key, so the room's other members are never read. */ \
    X(STATE_LIST_AT_LAZY, "SELECT event_stream FROM ("                                   \
                          "SELECT event_stream, max(stream) FROM room_state_log WHERE room_id = ?1 " \
                          "AND type < 'm.room.member' AND stream <= ?2 GROUP BY type, state_key " \
                          "UNION ALL SELECT event_stream, max(stream) FROM room_state_log " \
                          "WHERE room_id = ?1 AND type > 'm.room.member' AND stream <= ?2 " \
                          "GROUP BY type, state_key UNION ALL SELECT (SELECT l.event_stream " \
                          "FROM room_state_log l WHERE l.room_id = ?1 AND l.type = 'm.room.member' " \
                          "AND l.state_key = k.value AND l.stream <= ?2 ORDER BY l.stream DESC LIMIT 1), 0 " \
                          "FROM json_each(?3) k) WHERE event_stream IS NOT NULL ORDER BY 1") \
    /* The state at ?3 of the keys that changed in (?2, ?3]. */                    \
    X(STATE_CHANGED_BETWEEN, "SELECT l.event_stream FROM room_state_log l WHERE l.room_id = ?1 " \
                             "AND l.stream > ?2 AND l.stream <= ?3 AND l.event_stream IS NOT NULL " \
                             "AND NOT EXISTS (SELECT 1 FROM room_state_log m WHERE m.room_id = ?1 " \
                             "AND m.type = l.type AND m.state_key = l.state_key "        \
                             "AND m.stream > l.stream AND m.stream <= ?3) ORDER BY 1")   \
    /* The whole state at a position, or the current state, as (type,        \
     * state_key, event stream, event id), by key. */                            \
    X(STATE_KEYS_AT, "SELECT l.type, l.state_key, l.event_stream, e.event_id FROM (SELECT type, " \
                     "state_key, event_stream, max(stream) FROM room_state_log WHERE room_id = ?1 " \
                     "AND stream <= ?2 GROUP BY type, state_key) l JOIN events e "        \
                     "ON e.stream = l.event_stream ORDER BY l.type, l.state_key")         \
    X(STATE_KEYS_CURRENT, "SELECT s.type, s.state_key, s.stream, e.event_id FROM room_state s " \
                          "JOIN events e ON e.stream = s.stream WHERE s.room_id = ?1 "     \
                          "ORDER BY s.type, s.state_key")                                \
    X(STATE_GET_EVENT_ID, "SELECT e.event_id FROM room_state s JOIN events e ON e.stream = s.stream " \
                          "WHERE s.room_id = ?1 AND s.type = ?2 AND s.state_key = ?3")   \
    X(STATE_GROUP_INSERT, "INSERT INTO state_groups(room_id, base_stream) VALUES (?1, ?2) RETURNING id") \
    X(STATE_GROUP_ENTRY_INSERT, "INSERT INTO state_group_entries(group_id, type, state_key, event_stream) " \
                                "VALUES (?1, ?2, ?3, ?4)")                               \
    X(STATE_GROUP_BASE, "SELECT base_stream FROM state_groups WHERE id = ?1")            \
    X(STATE_GROUP_ENTRIES, "SELECT g.type, g.state_key, g.event_stream, e.event_id "     \
                           "FROM state_group_entries g LEFT JOIN events e ON e.stream = g.event_stream " \
                           "WHERE g.group_id = ?1 ORDER BY g.type, g.state_key")         \
    X(STATE_GROUP_ENTRY, "SELECT event_stream FROM state_group_entries WHERE group_id = ?1 " \
                         "AND type = ?2 AND state_key = ?3")                             \
    X(STATE_OF_TYPE, "SELECT stream FROM room_state WHERE room_id = ?1 AND type = ?2 "     \
                     "ORDER BY state_key LIMIT ?3")                                      \
    X(MEMBER_JOINED_AFTER, "SELECT 1 FROM events WHERE room_id = ?1 AND status = 0 AND type = 'm.room.member' " \
                           "AND state_key = ?2 AND stream >= ?3 "                        \
                           "AND json ->> '$.content.membership' = 'join' LIMIT 1")       \
    X(TXN_GET, "SELECT e.event_id FROM txn_keys t JOIN events e ON e.stream = t.stream "  \
               "WHERE t.key = txn_key(?1, ?2, ?3)")                                       \
    X(TXN_PUT, "INSERT INTO txn_keys(key, stream) VALUES (txn_key(?1, ?2, ?3), ?4)")    \
    HT_STATEMENTS_E2EE_MEDIA(X) \
    HT_STATEMENTS_CLIENT_REST(X) \
    HT_STATEMENTS_FEDERATION(X) \
    HT_STATEMENTS_GRAPH_READ(X) \
    HT_STATEMENTS_OPERATOR(X)

/* ---- media, end-to-end encryption, to-device, relations, search -------- */

/* Did membership row m become "join" (not a profile change while joined)
 * in the stream window (?2, ?3]? */
#define HT_JOINED_IN_WINDOW(m)                                                           \
    "EXISTS (SELECT 1 FROM events e LEFT JOIN events p ON p.stream = e.prev_state "      \
    "WHERE e.room_id = " m ".room_id AND e.status = 0 AND e.type = 'm.room.member' "     \
    "AND e.state_key = " m ".user_id AND e.stream > ?2 AND e.stream <= ?3 "              \
    "AND e.json ->> '$.content.membership' = 'join' "                                    \
    "AND coalesce(p.json ->> '$.content.membership', '') != 'join')"

/* Users whose device list ?1 must refetch for (?2, ?3]: changes of the
 * user or of someone sharing a room, and everyone who newly shares one.
 * moved: how the memberships that moved in the window are read: room by
 * room ("memberships b") or by position ("memberships b INDEXED BY
 * memberships_stream", keys.c: when the window is short). */
#define HT_DEVICE_LISTS_CHANGED(moved)                                                   \
    "SELECT c.user_id FROM e2e_device_list_changes c WHERE c.stream > ?2 AND c.stream <= ?3 " \
    "AND (c.only_for = ?1 OR (c.only_for = '' AND (c.user_id = ?1 OR EXISTS (SELECT 1 " \
    "FROM memberships a JOIN memberships b USING (room_id) WHERE a.user_id = ?1 "       \
    "AND a.membership = 'join' AND b.user_id = c.user_id AND b.membership = 'join')))) " \
    "UNION SELECT b.user_id FROM memberships a JOIN " moved " USING (room_id) "        \
    "WHERE a.user_id = ?1 AND a.membership = 'join' AND b.membership = 'join' "        \
    "AND b.user_id != ?1 AND b.stream > ?2 AND b.stream <= ?3 "                        \
    "AND " HT_JOINED_IN_WINDOW("b") " "                                                \
    "UNION SELECT b.user_id FROM memberships a JOIN memberships b USING (room_id) "     \
    "WHERE a.user_id = ?1 AND a.membership = 'join' AND a.stream > ?2 AND a.stream <= ?3 " \
    "AND " HT_JOINED_IN_WINDOW("a") " AND b.membership = 'join' AND b.user_id != ?1 "  \
    "ORDER BY 1 LIMIT ?4"

/* Users ?1 stopped sharing every room with during (?2, ?3]; moved as above. */
#define HT_DEVICE_LISTS_LEFT(moved)                                                      \
    "WITH gone(user_id) AS (SELECT b.user_id FROM memberships a JOIN " moved " "       \
    "USING (room_id) WHERE a.user_id = ?1 AND b.user_id != ?1 "                        \
    "AND b.membership IN ('leave', 'ban') AND b.stream > ?2 AND b.stream <= ?3 "       \
    "UNION SELECT b.user_id FROM memberships a JOIN memberships b USING (room_id) "    \
    "WHERE a.user_id = ?1 AND b.user_id != ?1 "                                        \
    "AND a.membership IN ('leave', 'ban') AND a.stream > ?2 AND a.stream <= ?3 "       \
    "AND b.membership = 'join') "                                                      \
    "SELECT user_id FROM gone g WHERE NOT EXISTS (SELECT 1 FROM memberships c "        \
    "JOIN memberships d USING (room_id) WHERE c.user_id = ?1 AND c.membership = 'join' " \
    "AND d.user_id = g.user_id AND d.membership = 'join') ORDER BY 1 LIMIT ?4"

/* The text of an event e that the word index holds (relations.c says which
 * key of which type): its rows are found again by its words, so the index
 * needs no second key by event. */
#define HT_SEARCHED_TEXT                                                                  \
    "CASE e.type WHEN 'm.room.message' THEN e.json ->> '$.content.body' "                \
    "WHEN 'm.room.name' THEN e.json ->> '$.content.name' "                               \
    "WHEN 'm.room.topic' THEN e.json ->> '$.content.topic' END"

/* The events that say every asked word (search.c), with how often they say
 * them: each word is a range of event_words' key, [word, word + U+10FFFF).
 * CROSS JOIN keeps that order (the words' ranges first, then their events
 * by key), never a walk through every event of the rooms. */
#define HT_SEARCH_MATCHES                                                                 \
    "SELECT w.stream, sum(w.hits) AS hits FROM json_each(?1) q "                         \
    "CROSS JOIN event_words w ON w.word >= q.value AND w.word < q.value || char(1114111) "     \
    "CROSS JOIN events e ON e.stream = w.stream "                                         \
    "WHERE e.room_id IN (SELECT value FROM json_each(?2)) AND ((e.type = 'm.room.message' AND ?3) " \
    "OR (e.type = 'm.room.name' AND ?4) OR (e.type = 'm.room.topic' AND ?5)) "           \
    "GROUP BY w.stream HAVING count(DISTINCT q.key) = json_array_length(?1) "

#define HT_STATEMENTS_E2EE_MEDIA(X)                                                      \
    /* media.c */                                                                        \
    X(MEDIA_INSERT, "INSERT INTO media(media_id, uploader, created_ms, content_type, filename, " \
                    "size, uploaded_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?3)")            \
    X(MEDIA_CREATE, "INSERT INTO media(media_id, uploader, created_ms, expires_ms) "     \
                    "VALUES (?1, ?2, ?3, ?4)")                                           \
    X(MEDIA_FILL, "UPDATE media SET content_type = ?2, filename = ?3, size = ?4, "       \
                  "uploaded_ms = ?5, expires_ms = NULL "                                 \
                  "WHERE media_id = ?1 AND uploaded_ms IS NULL")                         \
    X(MEDIA_PART_INSERT, "INSERT INTO media_parts(media_id, part, bytes) VALUES (?1, ?2, ?3)") \
    X(MEDIA_PART_GET, "SELECT bytes FROM media_parts WHERE media_id = ?1 AND part = ?2")  \
    X(MEDIA_GET, "SELECT uploader, created_ms, expires_ms, content_type, filename, size, " \
                 "uploaded_ms FROM media WHERE media_id = ?1")                           \
    X(MEDIA_PENDING_COUNT, "SELECT count(*) FROM media WHERE uploader = ?1 "             \
                           "AND uploaded_ms IS NULL AND expires_ms > ?2")                \
    X(MEDIA_PENDING_EXPIRE, "DELETE FROM media WHERE uploader = ?1 "                     \
                            "AND uploaded_ms IS NULL AND expires_ms <= ?2")              \
    /* keys.c */                                                                         \
    X(E2E_DEVICE_KEYS_GET, "SELECT json FROM e2e_device_keys WHERE user_id = ?1 AND device_id = ?2") \
    X(E2E_DEVICE_KEYS_PUT, "INSERT INTO e2e_device_keys(user_id, device_id, json) VALUES (?1, ?2, ?3) " \
                           "ON CONFLICT(user_id, device_id) DO UPDATE SET json = excluded.json") \
    X(E2E_DEVICE_KEYS_OF_USER, "SELECT k.device_id, k.json, d.display_name FROM e2e_device_keys k " \
                               "JOIN devices d USING (user_id, device_id) WHERE k.user_id = ?1 " \
                               "ORDER BY k.device_id")                                   \
    X(E2E_OTK_GET, "SELECT json FROM e2e_one_time_keys "                                 \
                   "WHERE user_id = ?1 AND device_id = ?2 AND key_id = ?3")              \
    X(E2E_OTK_INSERT, "INSERT INTO e2e_one_time_keys(user_id, device_id, algorithm, key_id, json) " \
                      "VALUES (?1, ?2, ?3, ?4, ?5)")                                     \
    X(E2E_OTK_COUNTS, "SELECT algorithm, count(*) FROM e2e_one_time_keys "               \
                      "WHERE user_id = ?1 AND device_id = ?2 GROUP BY algorithm ORDER BY algorithm") \
    X(E2E_OTK_CLAIM, "DELETE FROM e2e_one_time_keys WHERE id = (SELECT id FROM e2e_one_time_keys " \
                     "WHERE user_id = ?1 AND device_id = ?2 AND algorithm = ?3 ORDER BY id LIMIT 1) " \
                     "RETURNING key_id, json")                                           \
    X(E2E_OTK_TAKEN_MARK, "INSERT INTO e2e_one_time_keys_taken(user_id, device_id, stream) " \
                          "VALUES (?1, ?2, ?3) ON CONFLICT(user_id, device_id) DO UPDATE " \
                          "SET stream = excluded.stream")                                \
    X(E2E_OTK_TAKEN_GET, "SELECT stream FROM e2e_one_time_keys_taken "                   \
                         "WHERE user_id = ?1 AND device_id = ?2")                        \
    X(E2E_FALLBACK_PUT, "INSERT INTO e2e_fallback_keys(user_id, device_id, algorithm, key_id, json) " \
                        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(user_id, device_id, algorithm) " \
                        "DO UPDATE SET used = (json = excluded.json AND used), "         \
                        "key_id = excluded.key_id, json = excluded.json")               \
    X(E2E_FALLBACK_CLAIM, "UPDATE e2e_fallback_keys SET used = 1 WHERE user_id = ?1 "    \
                          "AND device_id = ?2 AND algorithm = ?3 RETURNING key_id, json") \
    X(E2E_FALLBACK_COUNT, "SELECT count(*) FROM e2e_fallback_keys WHERE user_id = ?1 AND device_id = ?2") \
    X(E2E_FALLBACK_UNUSED, "SELECT algorithm FROM e2e_fallback_keys WHERE user_id = ?1 " \
                           "AND device_id = ?2 AND used = 0 ORDER BY algorithm")         \
    X(E2E_XSIGN_GET, "SELECT public_key, json FROM e2e_cross_signing_keys "             \
                     "WHERE user_id = ?1 AND key_type = ?2")                             \
    X(E2E_XSIGN_PUT, "INSERT INTO e2e_cross_signing_keys(user_id, key_type, public_key, json) " \
                     "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(user_id, key_type) DO UPDATE " \
                     "SET public_key = excluded.public_key, json = excluded.json")       \
    X(E2E_XSIGN_BY_PUBLIC_KEY, "SELECT key_type, json FROM e2e_cross_signing_keys "      \
                               "WHERE user_id = ?1 AND public_key = ?2")                 \
    X(E2E_SIGNATURE_PUT, "INSERT INTO e2e_signatures(target_user, target_key, signer_user, " \
                         "signer_key_id, signature) VALUES (?1, ?2, ?3, ?4, ?5) "       \
                         "ON CONFLICT DO UPDATE SET signature = excluded.signature")     \
    X(E2E_SIGNATURES_OF, "SELECT signer_user, signer_key_id, signature FROM e2e_signatures " \
                         "WHERE target_user = ?1 AND target_key = ?2 "                   \
                         "AND (signer_user = ?1 OR signer_user = ?3) "                   \
                         "ORDER BY signer_user, signer_key_id")                          \
    X(E2E_DEVICE_LIST_CHANGE, "INSERT OR IGNORE INTO e2e_device_list_changes(user_id, stream, only_for, " \
                              "device_id) VALUES (?1, ?2, coalesce(?3, ''), ?4)")        \
    X(E2E_DEVICE_LISTS_CHANGED, HT_DEVICE_LISTS_CHANGED("memberships b"))                \
    X(E2E_DEVICE_LISTS_LEFT, HT_DEVICE_LISTS_LEFT("memberships b"))                      \
    X(E2E_DEVICE_LISTS_CHANGED_BY_STREAM,                                                \
      HT_DEVICE_LISTS_CHANGED("memberships b INDEXED BY memberships_stream"))            \
    X(E2E_DEVICE_LISTS_LEFT_BY_STREAM,                                                   \
      HT_DEVICE_LISTS_LEFT("memberships b INDEXED BY memberships_stream"))               \
    /* keys.c: device lists across servers (federation/device_lists.c). */    \
    X(E2E_DEVICE_LIST_STREAM, "SELECT coalesce(max(stream), 0) FROM e2e_device_list_changes " \
                              "WHERE user_id = ?1 AND only_for = '' AND device_id IS NOT NULL " \
                              "AND stream < ?2")                                          \
    X(E2E_DEVICE_LIST_SWEEP, "SELECT user_id, device_id, stream FROM e2e_device_list_changes " \
                             "WHERE stream > ?1 AND only_for = '' "                     \
                             "AND substr(user_id, -length(?2) - 1) = ':' || ?2 ORDER BY stream LIMIT ?3") \
    X(E2E_DEVICE_LIST_MARK_GET, "SELECT stream FROM e2e_device_list_sent WHERE id = 1")   \
    X(E2E_DEVICE_LIST_MARK_SET, "UPDATE e2e_device_list_sent SET stream = ?1 WHERE id = 1") \
    X(E2E_USER_SERVERS, "SELECT DISTINCT s.server_name FROM memberships m JOIN room_servers s " \
                        "USING (room_id) WHERE m.user_id = ?1 AND m.membership = 'join' "  \
                        "AND s.joined > 0 AND s.server_name != ?2 ORDER BY 1 LIMIT ?3")   \
    X(E2E_SHARES_ROOM_WITH, "SELECT 1 FROM memberships m JOIN room_servers s USING (room_id) " \
                            "WHERE m.user_id = ?1 AND m.membership = 'join' "            \
                            "AND s.server_name = ?2 AND s.joined > 0 LIMIT 1")           \
    /* Trusted while the user's memberships are as they were when it was  \
     * kept: a leave or a join since may mean updates we were not sent. */   \
    X(E2E_REMOTE_KEYS_GET, "SELECT k.json FROM e2e_remote_keys k WHERE k.user_id = ?1 "   \
                           "AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = ?1 " \
                           "AND m.stream > k.stream)")                                   \
    X(E2E_REMOTE_KEYS_PUT, "INSERT INTO e2e_remote_keys(user_id, json, stream) VALUES (?1, ?2, ?3) " \
                           "ON CONFLICT(user_id) DO UPDATE SET json = excluded.json, "   \
                           "stream = excluded.stream")                                   \
    X(E2E_REMOTE_KEYS_FORGET, "DELETE FROM e2e_remote_keys WHERE user_id = ?1")           \
    /* to_device.c */                                                                    \
    X(TO_DEVICE_INSERT, "INSERT INTO to_device(user_id, device_id, sender, type, content, stream) " \
                        "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                               \
    X(TO_DEVICE_ACK, "DELETE FROM to_device WHERE user_id = ?1 AND device_id = ?2 AND stream <= ?3") \
    X(TO_DEVICE_NTH_STREAM, "SELECT stream FROM to_device WHERE user_id = ?1 AND device_id = ?2 " \
                            "AND stream > ?3 AND stream <= ?4 ORDER BY stream, id LIMIT 1 OFFSET ?5") \
    X(TO_DEVICE_LIST, "SELECT sender, type, content FROM to_device WHERE user_id = ?1 "  \
                      "AND device_id = ?2 AND stream > ?3 AND stream <= ?4 ORDER BY stream, id") \
    X(TO_DEVICE_TXN_INSERT, "INSERT OR IGNORE INTO to_device_txns(user_id, device_id, txn_id) " \
                            "VALUES (?1, ?2, ?3)")                                       \
    X(TO_DEVICE_DEVICES_OF, "SELECT device_id FROM devices WHERE user_id = ?1 ORDER BY device_id") \
    X(TO_DEVICE_DEVICE_EXISTS, "SELECT 1 FROM devices WHERE user_id = ?1 AND device_id = ?2") \
    /* room_keys.c */                                                                    \
    X(BACKUP_VERSION_CREATE, "INSERT INTO e2e_backup_versions(user_id, version, algorithm, auth_data) " \
                             "VALUES (?1, (SELECT coalesce(max(version), 0) + 1 FROM e2e_backup_versions " \
                             "WHERE user_id = ?1), ?2, ?3) RETURNING version")            \
    X(BACKUP_VERSION_CURRENT, "SELECT version, algorithm, auth_data, etag FROM e2e_backup_versions " \
                              "WHERE user_id = ?1 AND deleted = 0 ORDER BY version DESC LIMIT 1") \
    X(BACKUP_VERSION_GET, "SELECT version, algorithm, auth_data, etag FROM e2e_backup_versions " \
                          "WHERE user_id = ?1 AND version = ?2 AND deleted = 0")          \
    X(BACKUP_VERSION_UPDATE, "UPDATE e2e_backup_versions SET auth_data = ?3 "            \
                             "WHERE user_id = ?1 AND version = ?2")                       \
    X(BACKUP_VERSION_DELETE, "UPDATE e2e_backup_versions SET deleted = 1 "               \
                             "WHERE user_id = ?1 AND version = ?2")                       \
    X(BACKUP_ETAG_BUMP, "UPDATE e2e_backup_versions SET etag = etag + 1 "                \
                        "WHERE user_id = ?1 AND version = ?2")                           \
    X(BACKUP_COUNT, "SELECT count(*) FROM e2e_backup_keys WHERE user_id = ?1 AND version = ?2") \
    X(BACKUP_KEY_GET, "SELECT first_message_index, forwarded_count, is_verified FROM e2e_backup_keys " \
                      "WHERE user_id = ?1 AND version = ?2 AND room_id = ?3 AND session_id = ?4") \
    X(BACKUP_KEY_PUT, "INSERT INTO e2e_backup_keys(user_id, version, room_id, session_id, "  \
                      "first_message_index, forwarded_count, is_verified, json) "         \
                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "                          \
                      "ON CONFLICT(user_id, version, room_id, session_id) DO UPDATE SET " \
                      "first_message_index = excluded.first_message_index, "             \
                      "forwarded_count = excluded.forwarded_count, "                      \
                      "is_verified = excluded.is_verified, json = excluded.json")         \
    X(BACKUP_KEYS_LIST, "SELECT room_id, session_id, json FROM e2e_backup_keys "         \
                        "WHERE user_id = ?1 AND version = ?2 AND (?3 IS NULL OR room_id = ?3) " \
                        "AND (?4 IS NULL OR session_id = ?4) ORDER BY room_id, session_id") \
    X(BACKUP_KEYS_DELETE, "DELETE FROM e2e_backup_keys WHERE user_id = ?1 AND version = ?2 " \
                          "AND (?3 IS NULL OR room_id = ?3) AND (?4 IS NULL OR session_id = ?4)") \
    /* relations.c */                                                                    \
    X(RELATION_INSERT, "INSERT OR IGNORE INTO event_relations(stream, room_id, relates_to, rel_type, type) " \
                       "VALUES (?1, ?2, ?3, ?4, ?5)")                                    \
    X(RELATION_FORGET, "DELETE FROM event_relations "                                    \
                       "WHERE stream = (SELECT stream FROM events WHERE event_id = ?1)") \
    /* ?1: a JSON array of the parents' event ids. */                                \
    X(RELATIONS_BACK, "SELECT stream FROM event_relations WHERE relates_to IN "         \
                      "(SELECT value FROM json_each(?1)) AND room_id = ?2 "             \
                      "AND (?3 IS NULL OR rel_type = ?3) AND (?4 IS NULL OR type = ?4) " \
                      "AND stream <= ?5 AND stream > ?6 ORDER BY stream DESC LIMIT ?7")  \
    X(RELATIONS_FORWARD, "SELECT stream FROM event_relations WHERE relates_to IN "      \
                         "(SELECT value FROM json_each(?1)) AND room_id = ?2 "          \
                         "AND (?3 IS NULL OR rel_type = ?3) AND (?4 IS NULL OR type = ?4) " \
                         "AND stream > ?5 AND stream <= ?6 ORDER BY stream LIMIT ?7")    \
    /* Whether room ?1 has any thread at all: one index seek, so that a   \
     * room without threads is not asked about each of its events. */     \
    X(ROOM_HAS_THREADS, "SELECT 1 FROM event_relations WHERE room_id = ?1 "             \
                        "AND rel_type = 'm.thread' LIMIT 1")                            \
    /* ?1 root, ?2 room, ?3 user: the thread's size, latest reply and whether \
     * the user wrote any reply. */                                                      \
    X(THREAD_SUMMARY, "SELECT count(*), coalesce(max(r.stream), 0), coalesce(max(e.sender = ?3), 0) " \
                      "FROM event_relations r JOIN events e ON e.stream = r.stream "     \
                      "WHERE r.relates_to = ?1 AND r.room_id = ?2 AND r.rel_type = 'm.thread'") \
    /* Thread roots of room ?1 by latest reply, newest first: a reply at r is a \
     * root's latest if no reply to it comes after r (up to the ceiling ?3). \
     * ?2 pages (r < ?2); ?4 non-NULL keeps threads user ?4 started or replied in. */ \
    X(THREAD_ROOTS, "SELECT root.stream, r.stream FROM event_relations r "               \
                    "JOIN events root ON root.event_id = r.relates_to AND root.room_id = r.room_id " \
                    "WHERE r.room_id = ?1 AND r.rel_type = 'm.thread' AND r.stream < ?2 AND r.stream <= ?3 " \
                    "AND NOT EXISTS (SELECT 1 FROM event_relations l WHERE l.relates_to = r.relates_to " \
                    "AND l.room_id = r.room_id AND l.rel_type = 'm.thread' AND l.stream > r.stream " \
                    "AND l.stream <= ?3) "                                               \
                    "AND (?4 IS NULL OR root.sender = ?4 OR EXISTS (SELECT 1 FROM event_relations p " \
                    "JOIN events pe ON pe.stream = p.stream WHERE p.relates_to = r.relates_to " \
                    "AND p.room_id = r.room_id AND p.rel_type = 'm.thread' AND pe.sender = ?4)) " \
                    "ORDER BY r.stream DESC LIMIT ?5")                                   \
    /* search.c: ?1 a JSON array of words (each the prefix of a word the     \
     * event must say), ?2 a JSON array of room ids, ?3..?5 which keys         \
     * (content.body, content.name, content.topic) count. */                   \
    X(SEARCH_INSERT, "INSERT INTO event_words(word, stream, hits) VALUES (?1, ?2, ?3)")  \
    /* ?1: the event's position, while it still holds what was indexed. */           \
    X(SEARCH_FORGET, "DELETE FROM event_words WHERE (word, stream) IN "                  \
                     "(SELECT w.value, e.stream FROM events e, "                         \
                     "json_each(words(" HT_SEARCHED_TEXT ")) w WHERE e.stream = ?1)")    \
    X(SEARCH_BY_RANK, HT_SEARCH_MATCHES "ORDER BY hits DESC, w.stream DESC LIMIT ?6 OFFSET ?7") \
    X(SEARCH_BY_RECENT, HT_SEARCH_MATCHES "ORDER BY w.stream DESC LIMIT ?6 OFFSET ?7")

/* profile.c, presence.c, typing.c, receipts.c, account_data.c, push_rules.c,
 * directory.c: what clients keep besides rooms. */
#define HT_STATEMENTS_CLIENT_REST(X)                                                     \
    /* profile.c */                                                                      \
    X(PROFILE_SET_DISPLAYNAME, "UPDATE users SET displayname = ?2 WHERE user_id = ?1")   \
    X(PROFILE_SET_AVATAR_URL, "UPDATE users SET avatar_url = ?2 WHERE user_id = ?1")     \
    X(USER_DIRECTORY_SEARCH,                                                             \
      "SELECT u.user_id, u.displayname, u.avatar_url FROM users u WHERE u.deactivated = 0 " \
      "AND (instr(lower(u.user_id), lower(?2)) > 0 "                                     \
      "OR instr(lower(coalesce(u.displayname, '')), lower(?2)) > 0) "                    \
      "AND (u.user_id = ?1 OR EXISTS (SELECT 1 FROM memberships a JOIN memberships b "   \
      "ON a.room_id = b.room_id WHERE a.user_id = ?1 AND a.membership = 'join' "         \
      "AND b.user_id = u.user_id AND b.membership = 'join') "                            \
      "OR EXISTS (SELECT 1 FROM memberships m JOIN room_state rs ON rs.room_id = m.room_id " \
      "AND rs.type = 'm.room.join_rules' AND rs.state_key = '' JOIN events e "           \
      "ON e.stream = rs.stream WHERE m.user_id = u.user_id AND m.membership = 'join' "   \
      "AND e.json ->> '$.content.join_rule' = 'public')) "                               \
      "ORDER BY (instr(lower(u.user_id), '@' || lower(?2)) = 1 "                         \
      "OR instr(lower(coalesce(u.displayname, '')), lower(?2)) = 1) DESC, "              \
      "u.displayname IS NULL, u.user_id LIMIT ?3")                                       \
    /* presence.c */                                                                     \
    X(PRESENCE_GET, "SELECT presence, status_msg, last_active_ms, stream FROM presence " \
                    "WHERE user_id = ?1")                                                \
    X(PRESENCE_SET, "INSERT INTO presence(user_id, presence, status_msg, last_active_ms, stream) " \
                    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(user_id) DO UPDATE SET "     \
                    "presence = excluded.presence, status_msg = excluded.status_msg, "   \
                    "last_active_ms = excluded.last_active_ms, stream = excluded.stream") \
    X(PRESENCE_TOUCH, "UPDATE presence SET last_active_ms = ?2 WHERE user_id = ?1")      \
    X(PRESENCE_STALE, "SELECT user_id FROM presence WHERE presence != 'offline' "         \
                      "AND last_active_ms < ?1 AND (last_active_ms < ?3 "                 \
                      "OR substr(user_id, -length(?4)) = ?4) ORDER BY last_active_ms LIMIT ?2") \
    X(PRESENCE_CHANGED_SINCE, "SELECT user_id, presence, status_msg, last_active_ms, stream " \
                              "FROM presence WHERE stream > ?1 ORDER BY stream LIMIT ?2")  \
    X(PRESENCE_GO_OFFLINE, "UPDATE presence SET presence = 'offline', stream = ?2 "       \
                           "WHERE user_id = ?1")                                         \
    X(PRESENCE_VISIBLE_SINCE,                                                            \
      "SELECT user_id, presence, status_msg, last_active_ms, stream FROM presence "      \
      "WHERE stream > ?2 AND stream <= ?4 AND (user_id = ?1 OR EXISTS (SELECT 1 "       \
      "FROM memberships a JOIN memberships b ON a.room_id = b.room_id "                  \
      "WHERE a.user_id = ?1 AND a.membership = 'join' AND b.user_id = presence.user_id " \
      "AND b.membership = 'join')) ORDER BY stream DESC LIMIT ?3")                       \
    X(USERS_SHARE_ROOM, "SELECT 1 FROM memberships a JOIN memberships b "                \
                        "ON a.room_id = b.room_id WHERE a.user_id = ?1 AND b.user_id = ?2 " \
                        "AND a.membership = 'join' AND b.membership = 'join' LIMIT 1")   \
    /* typing.c */                                                                       \
    X(TYPING_GET, "SELECT expires_ms FROM typing WHERE room_id = ?1 AND user_id = ?2")   \
    X(TYPING_SET, "INSERT INTO typing(room_id, user_id, expires_ms) VALUES (?1, ?2, ?3) " \
                  "ON CONFLICT(room_id, user_id) DO UPDATE SET expires_ms = excluded.expires_ms") \
    X(TYPING_DELETE, "DELETE FROM typing WHERE room_id = ?1 AND user_id = ?2")           \
    X(TYPING_MARK, "INSERT INTO typing_changes(room_id, stream) VALUES (?1, ?2) "        \
                   "ON CONFLICT(room_id) DO UPDATE SET stream = excluded.stream")        \
    X(TYPING_CHANGED, "SELECT stream FROM typing_changes WHERE room_id = ?1")            \
    X(TYPING_EXPIRED_ROOMS, "SELECT DISTINCT room_id FROM typing WHERE expires_ms <= ?1 " \
                            "ORDER BY room_id")                                          \
    X(TYPING_DELETE_EXPIRED, "DELETE FROM typing WHERE expires_ms <= ?1")                \
    X(TYPING_USERS, "SELECT t.user_id FROM typing t JOIN memberships m "                 \
                    "ON m.room_id = t.room_id AND m.user_id = t.user_id "                \
                    "WHERE t.room_id = ?1 AND t.expires_ms > ?2 AND m.membership = 'join' " \
                    "ORDER BY t.user_id")                                                \
    X(TYPING_NEXT_EXPIRY, "SELECT min(t.expires_ms) FROM typing t JOIN memberships m "   \
                          "ON m.room_id = t.room_id WHERE m.user_id = ?1 "               \
                          "AND m.membership = 'join'")                                   \
    /* receipts.c */                                                                     \
    X(RECEIPT_GET, "SELECT event_id, event_stream, ts, stream FROM receipts "            \
                   "WHERE room_id = ?1 AND user_id = ?2 AND type = ?3 AND thread_id = ?4") \
    X(RECEIPT_SET, "INSERT INTO receipts(room_id, user_id, type, thread_id, event_id, "  \
                   "event_stream, ts, stream) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "  \
                   "ON CONFLICT(room_id, user_id, type, thread_id) DO UPDATE SET "       \
                   "event_id = excluded.event_id, event_stream = excluded.event_stream, " \
                   "ts = excluded.ts, stream = excluded.stream")                         \
    X(RECEIPTS_SINCE, "SELECT user_id, type, thread_id, event_id, event_stream, ts, stream " \
                      "FROM receipts WHERE room_id = ?1 AND stream > ?2 AND stream <= ?3 " \
                      "ORDER BY stream") \
    X(READ_MARKS, "SELECT thread_id, max(event_stream) FROM receipts WHERE room_id = ?1 " \
                  "AND user_id = ?2 AND type IN ('m.read', 'm.read.private') "           \
                  "GROUP BY thread_id ORDER BY thread_id")                               \
    /* unread.c */                                                                       \
    X(MEMBERS_JOINED, "SELECT m.user_id, m.display_name, m.own_rules "                    \
                      "FROM memberships m WHERE m.room_id = ?1 AND m.membership = 'join' " \
                      "ORDER BY m.user_id")                                              \
    /* The members a send may judge apart from the rest (push_actions.c):  \
     * those whose name or localpart key is one of its words (?3, with ''  \
     * for names without a word), those it names by id (?2), and those     \
     * with rules of their own. One member may come more than once; the    \
     * caller keeps each once. UNION ALL and CROSS JOIN: each key is one   \
     * index lookup, with no temporary b-tree to merge them (a UNION, an   \
     * IN list and ORDER BY made it four times dearer). INDEXED BY: without \
     * statistics SQLite would read the room's members by the primary key. */ \
    X(MEMBERS_APART, "SELECT m.user_id, m.display_name, m.own_rules FROM json_each(?3) w "   \
                     "CROSS JOIN memberships m INDEXED BY memberships_name_key "          \
                     "WHERE m.room_id = ?1 AND m.membership = 'join' AND m.name_key = w.value " \
                     "UNION ALL SELECT m.user_id, m.display_name, m.own_rules FROM json_each(?3) w " \
                     "CROSS JOIN memberships m INDEXED BY memberships_user_key "          \
                     "WHERE m.room_id = ?1 AND m.membership = 'join' AND m.user_key = w.value " \
                     "UNION ALL SELECT m.user_id, m.display_name, m.own_rules FROM json_each(?2) i " \
                     "CROSS JOIN memberships m "                                          \
                     "WHERE m.room_id = ?1 AND m.user_id = i.value AND m.membership = 'join' " \
                     "UNION ALL SELECT m.user_id, m.display_name, m.own_rules "          \
                     "FROM memberships m INDEXED BY memberships_own_rules "               \
                     "WHERE m.room_id = ?1 AND m.membership = 'join' AND m.own_rules = 1") \
    X(READ_FLOOR, "SELECT max(coalesce((SELECT stream FROM memberships WHERE room_id = ?1 " \
                  "AND user_id = ?2), 0), coalesce((SELECT max(event_stream) FROM receipts " \
                  "WHERE room_id = ?1 AND user_id = ?2 AND thread_id = '' "               \
                  "AND type IN ('m.read', 'm.read.private')), 0))")                     \
    X(UNREAD_ADD, "INSERT INTO unread_threads(user_id, room_id, thread_id, notifications, " \
                  "highlights, alike_seq) VALUES (?1, ?2, ?3, ?4, ?5, coalesce((SELECT alike_seq " \
                  "FROM unread_rooms WHERE user_id = ?1 AND room_id = ?2), 0)) "         \
                  "ON CONFLICT(room_id, user_id, thread_id) DO UPDATE SET "              \
                  "notifications = notifications + ?4, highlights = highlights + ?5")    \
    X(UNREAD_OWN, "INSERT INTO unread_threads(user_id, room_id, thread_id, own_upto, alike_seq) " \
                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(room_id, user_id, thread_id) " \
                  "DO UPDATE SET notifications = 0, highlights = 0, "                    \
                  "own_upto = max(own_upto, ?4), alike_seq = ?5")                        \
    X(UNREAD_ZERO, "UPDATE unread_threads SET notifications = 0, highlights = 0, alike_seq = ?3 " \
                   "WHERE user_id = ?1 AND room_id = ?2")                                \
    X(UNREAD_SET, "INSERT INTO unread_threads(user_id, room_id, thread_id, notifications, " \
                  "highlights, alike_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "              \
                  "ON CONFLICT(room_id, user_id, thread_id) DO UPDATE SET "              \
                  "notifications = ?4, highlights = ?5, alike_seq = ?6")                 \
    X(UNREAD_OWN_MARKS, "SELECT thread_id, own_upto FROM unread_threads "              \
                        "WHERE user_id = ?1 AND room_id = ?2 AND own_upto > 0")          \
    X(UNREAD_GET, "SELECT thread_id, notifications, highlights, alike_seq FROM unread_threads " \
                  "WHERE user_id = ?1 AND room_id = ?2 ORDER BY thread_id")              \
    X(UNREAD_ROOM_GET, "SELECT stale, alike_seq FROM unread_rooms WHERE user_id = ?1 AND room_id = ?2") \
    X(UNREAD_ROOM_JUDGED, "INSERT INTO unread_rooms(user_id, room_id, stale) VALUES (?1, ?2, 0) " \
                          "ON CONFLICT(user_id, room_id) DO UPDATE SET stale = 0")       \
    /* A new row is stale until judged (as no row is: unjudged). */                      \
    X(UNREAD_ROOM_ZERO, "INSERT INTO unread_rooms(user_id, room_id, stale, alike_seq) "  \
                        "VALUES (?1, ?2, 1, ?3) ON CONFLICT(user_id, room_id) DO UPDATE SET " \
                        "alike_seq = ?3")                                                \
    /* the counts shared by members judged alike */                                      \
    X(ALIKE_SEQ, "SELECT coalesce(max(seq), 0) FROM unread_alike_threads WHERE room_id = ?1") \
    X(ALIKE_LATEST, "SELECT seq, notifications, highlights FROM unread_alike_threads "  \
                    "WHERE room_id = ?1 AND thread_id = ?2")                             \
    X(ALIKE_AT, "SELECT notifications, highlights FROM unread_alike WHERE room_id = ?1 " \
                "AND thread_id = ?2 AND seq <= ?3 ORDER BY seq DESC LIMIT 1")            \
    X(ALIKE_THREADS_SINCE, "SELECT thread_id FROM unread_alike_threads "                 \
                           "WHERE room_id = ?1 AND seq > ?2 ORDER BY thread_id")         \
    X(ALIKE_LOG_PUT, "INSERT INTO unread_alike(room_id, thread_id, seq, notifications, " \
                     "highlights) VALUES (?1, ?2, ?3, ?4, ?5)")                          \
    X(ALIKE_THREAD_PUT, "INSERT INTO unread_alike_threads(room_id, thread_id, seq, "      \
                        "notifications, highlights) VALUES (?1, ?2, ?3, ?4, ?5) "        \
                        "ON CONFLICT(room_id, thread_id) DO UPDATE SET seq = ?3, "       \
                        "notifications = ?4, highlights = ?5")                           \
    X(UNREAD_STALE_USER, "UPDATE unread_rooms SET stale = 1 WHERE user_id = ?1")         \
    X(UNREAD_STALE_ROOM, "UPDATE unread_rooms SET stale = 1 WHERE room_id = ?1")         \
    X(UNREAD_STALE_MEMBER, "UPDATE unread_rooms SET stale = 1 WHERE user_id = ?2 AND room_id = ?1") \
    X(UNREAD_STALE_COUNT_RULES, "UPDATE unread_rooms SET stale = 1 WHERE room_id = ?1 "  \
                                "AND user_id IN (SELECT user_id FROM push_rules "        \
                                "WHERE conditions LIKE '%room_member_count%')")          \
    /* room_news.c: the rooms with anything a sync reports in (?2, ?3]: by    \
     * the streams' positions (the events' key, migration 17's indexes), or   \
     * room by room over ?1's joined rooms. */                                  \
    X(ROOM_NEWS_BY_STREAM, "SELECT room_id FROM events WHERE stream > ?2 AND stream <= ?3 " \
                           "AND status = 0 "                                           \
                           "UNION SELECT room_id FROM room_state_log INDEXED BY room_state_log_stream " \
                           "WHERE stream > ?2 AND stream <= ?3 "                       \
                           "UNION SELECT room_id FROM receipts INDEXED BY receipts_stream " \
                           "WHERE stream > ?2 AND stream <= ?3 "                       \
                           "UNION SELECT room_id FROM typing_changes INDEXED BY typing_changes_stream " \
                           "WHERE stream > ?2 AND stream <= ?3 "                       \
                           "UNION SELECT room_id FROM account_data WHERE user_id = ?1 " \
                           "AND stream > ?2 AND stream <= ?3 AND room_id != '' ORDER BY 1") \
    X(ROOM_NEWS_BY_ROOM, "SELECT m.room_id FROM memberships m WHERE m.user_id = ?1 "     \
                         "AND m.membership = 'join' AND (EXISTS (SELECT 1 FROM events " \
                         "WHERE room_id = m.room_id AND status = 0 AND stream > ?2 AND stream <= ?3) " \
                         "OR EXISTS (SELECT 1 FROM room_state_log INDEXED BY room_state_log_position " \
                         "WHERE room_id = m.room_id AND stream > ?2 AND stream <= ?3) " \
                         "OR EXISTS (SELECT 1 FROM receipts INDEXED BY receipts_room_stream " \
                         "WHERE room_id = m.room_id AND stream > ?2 AND stream <= ?3) " \
                         "OR EXISTS (SELECT 1 FROM typing_changes WHERE room_id = m.room_id " \
                         "AND stream > ?2 AND stream <= ?3) "                          \
                         "OR EXISTS (SELECT 1 FROM account_data WHERE user_id = ?1 "    \
                         "AND room_id = m.room_id AND stream > ?2 AND stream <= ?3)) ORDER BY 1") \
    /* account_data.c */                                                                 \
    X(ACCOUNT_DATA_PUT, "INSERT INTO account_data(user_id, room_id, type, content, stream) " \
                        "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(user_id, room_id, type) " \
                        "DO UPDATE SET content = excluded.content, stream = excluded.stream") \
    X(ACCOUNT_DATA_GET, "SELECT content FROM account_data WHERE user_id = ?1 "           \
                        "AND room_id = ?2 AND type = ?3")                                \
    X(ACCOUNT_DATA_DELETE_USER, "DELETE FROM account_data WHERE user_id = ?1")          \
    X(ACCOUNT_DATA_USAGE, "SELECT count(*), coalesce(sum(length(CAST(content AS BLOB))), 0) " \
                          "FROM account_data WHERE user_id = ?1 AND type <> 'm.fully_read'") \
    X(ACCOUNT_DATA_SINCE, "SELECT type, content, stream FROM account_data "              \
                          "WHERE user_id = ?1 AND room_id = ?2 AND stream > ?3 AND stream <= ?4 " \
                          "ORDER BY stream") \
    /* push_rules.c */                                                                   \
    X(PUSH_RULES_LIST, "SELECT kind, rule_id, priority, enabled, actions, conditions, pattern " \
                       "FROM push_rules WHERE user_id = ?1 ORDER BY kind, priority DESC, rule_id") \
    X(PUSH_RULE_PUT, "INSERT INTO push_rules(user_id, kind, rule_id, priority, enabled, "  \
                     "actions, conditions, pattern) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) " \
                     "ON CONFLICT(user_id, kind, rule_id) DO UPDATE SET "                \
                     "priority = excluded.priority, enabled = excluded.enabled, "        \
                     "actions = excluded.actions, conditions = excluded.conditions, "    \
                     "pattern = excluded.pattern")                                       \
    X(PUSH_RULE_DELETE, "DELETE FROM push_rules WHERE user_id = ?1 AND kind = ?2 AND rule_id = ?3") \
    X(PUSH_DEFAULTS_LIST, "SELECT kind, rule_id, enabled, actions FROM push_rule_defaults " \
                          "WHERE user_id = ?1")                                          \
    X(PUSH_DEFAULT_SET_ENABLED, "INSERT INTO push_rule_defaults(user_id, kind, rule_id, enabled) " \
                                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(user_id, kind, rule_id) " \
                                "DO UPDATE SET enabled = excluded.enabled")              \
    X(PUSH_DEFAULT_SET_ACTIONS, "INSERT INTO push_rule_defaults(user_id, kind, rule_id, actions) " \
                                "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(user_id, kind, rule_id) " \
                                "DO UPDATE SET actions = excluded.actions")              \
    X(PUSHER_PUT, "INSERT INTO pushers(app_id, pushkey, user_id, json, created_ms) "     \
                  "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(app_id, pushkey, user_id) "   \
                  "DO UPDATE SET json = excluded.json")                                  \
    X(PUSHER_DELETE, "DELETE FROM pushers WHERE app_id = ?1 AND pushkey = ?2 AND user_id = ?3") \
    X(PUSHER_DELETE_OTHERS, "DELETE FROM pushers WHERE app_id = ?1 AND pushkey = ?2 "    \
                            "AND user_id != ?3")                                         \
    X(PUSHERS_OF_USER, "SELECT json FROM pushers WHERE user_id = ?1 ORDER BY created_ms, app_id, pushkey") \
    X(PUSHERS_COUNT, "SELECT count(*) FROM pushers WHERE user_id = ?1")                  \
    /* directory.c */                                                                    \
    X(PUBLISHED_ROOMS, "SELECT room_id FROM rooms WHERE published = 1 ORDER BY room_id LIMIT ?1") \
    X(REPORT_INSERT, "INSERT INTO event_reports(room_id, event_id, reporter, reason, score, " \
                     "created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")

/* federation.c: other servers' keys, transactions received, the outbox. */
#define HT_STATEMENTS_FEDERATION(X)                                                      \
    X(SERVER_KEY_GET, "SELECT public_key, valid_until_ms FROM server_keys "              \
                      "WHERE server_name = ?1 AND key_id = ?2")                          \
    X(SERVER_KEY_PUT, "INSERT INTO server_keys(server_name, key_id, public_key, valid_until_ms, fetched_ms) " \
                      "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET "           \
                      "public_key = excluded.public_key, valid_until_ms = excluded.valid_until_ms, " \
                      "fetched_ms = excluded.fetched_ms")                                 \
    X(FED_TXN_GET, "SELECT response FROM federation_txns WHERE origin = ?1 AND txn_id = ?2") \
    X(FED_TXN_PUT, "INSERT OR REPLACE INTO federation_txns(origin, txn_id, response, received_ms) " \
                   "VALUES (?1, ?2, ?3, ?4)")                                            \
    X(FED_TXN_EXPIRE, "DELETE FROM federation_txns WHERE received_ms < ?1")              \
    X(ROOM_SERVERS, "SELECT server_name FROM room_servers WHERE room_id = ?1 AND joined > 0 " \
                    "AND server_name != ?2 ORDER BY server_name")                        \
    X(OUTBOX_PDU, "INSERT INTO outbox(destination, event_stream, created_ms) VALUES (?1, ?2, ?3)") \
    X(OUTBOX_EDU, "INSERT INTO outbox(destination, edu, created_ms, durable) VALUES (?1, ?2, ?3, ?4)") \
    /* The oldest EDUs of one kind (?3: durable or not) past ?2. */            \
    X(OUTBOX_EDU_TRIM, "DELETE FROM outbox WHERE destination = ?1 AND edu IS NOT NULL AND durable = ?3 "     \
                       "AND id <= (SELECT id FROM outbox WHERE destination = ?1 AND edu IS NOT NULL "           \
                       "AND durable = ?3 ORDER BY id DESC LIMIT 1 OFFSET ?2)")                                  \
    /* The destination whose turn it is: something waits, its retry time   \
     * has come, nothing of it is in flight (?2: in-flight list as JSON). */ \
    X(OUTBOX_READY, "SELECT o.destination, min(o.id) FROM outbox o LEFT JOIN destinations d " \
                    "ON d.server_name = o.destination WHERE coalesce(d.retry_at_ms, 0) <= ?1 " \
                    "AND o.destination NOT IN (SELECT value FROM json_each(?2)) "        \
                    "GROUP BY o.destination ORDER BY 2 LIMIT 1")                         \
    X(OUTBOX_NEXT_RETRY, "SELECT min(d.retry_at_ms) FROM destinations d WHERE d.retry_at_ms > ?1 " \
                         "AND EXISTS (SELECT 1 FROM outbox o WHERE o.destination = d.server_name)") \
    X(OUTBOX_ITEMS, "SELECT o.id, e.json, o.edu, e.stream, e.sender, e.room_id "         \
                    "FROM outbox o LEFT JOIN events e ON e.stream = o.event_stream "     \
                    "WHERE o.destination = ?1 AND ((o.event_stream IS NOT NULL AND ?2 > 0) " \
                    "OR (o.edu IS NOT NULL AND ?3 > 0)) ORDER BY o.id LIMIT ?4")        \
    X(OUTBOX_SENT, "DELETE FROM outbox WHERE destination = ?1 AND id <= ?2")             \
    X(OUTBOX_WAITING, "SELECT count(*) FROM outbox")                                     \
    X(DESTINATION_OK, "INSERT INTO destinations(server_name, failures, retry_at_ms, last_ok_ms) " \
                      "VALUES (?1, 0, 0, ?2) ON CONFLICT DO UPDATE SET failures = 0, retry_at_ms = 0, " \
                      "last_ok_ms = excluded.last_ok_ms")                                 \
    X(DESTINATION_FAILED, "INSERT INTO destinations(server_name, failures, retry_at_ms) " \
                          "VALUES (?1, 1, ?2) ON CONFLICT DO UPDATE SET failures = failures + 1, " \
                          "retry_at_ms = ?2")                                            \
    X(DESTINATION_GET, "SELECT failures, retry_at_ms FROM destinations WHERE server_name = ?1") \
    X(INVITE_STATE_PUT, "INSERT OR REPLACE INTO invite_room_state(room_id, user_id, json) VALUES (?1, ?2, ?3)") \
    X(INVITE_STATE_GET, "SELECT json FROM invite_room_state WHERE room_id = ?1 AND user_id = ?2")

/* graph_read.c: the event graph as other servers read it. */
#define HT_STATEMENTS_GRAPH_READ(X)                                                      \
    X(PREV_EVENT_IDS, "SELECT prev_event_id FROM event_edges WHERE stream = ?1 "         \
                      "ORDER BY prev_event_id LIMIT ?2")                                 \
    /* Users of server ?2 with a membership (of any kind, now) in room ?1. */    \
    X(ROOM_USERS_OF_SERVER, "SELECT user_id FROM memberships WHERE room_id = ?1 "        \
                            "AND substr(user_id, instr(user_id, ':') + 1) = ?2 "         \
                            "ORDER BY user_id LIMIT ?3")                                  \
    X(ROOM_SERVER_JOINED, "SELECT joined FROM room_servers WHERE room_id = ?1 AND server_name = ?2")

typedef enum ht_stmt_id {
#define HT_STMT_ENUM(name, sql) HT_STMT_##name,
    HT_STATEMENTS(HT_STMT_ENUM)
#undef HT_STMT_ENUM
    HT_STMT_COUNT
} ht_stmt_id;

#endif
