/* statements.h -- every SQL statement the server runs, by name.
 *
 * Each X(NAME, "SQL") line becomes an ht_stmt_id HT_STMT_NAME and a prepared
 * statement in the open store. Grouped by the store file that uses them. */
#ifndef HT_STORE_STATEMENTS_H
#define HT_STORE_STATEMENTS_H

/* The columns every event query returns, decoded by ht_store_event_read. */
#define HT_EVENT_COLUMNS                                                                  \
    "stream, event_id, room_id, type, state_key, sender, origin_ts, depth, json, "       \
    "redacted_by, txn_id, device_id, prev_state"

#define HT_STATEMENTS(X)                                                                 \
    /* meta.c */                                                                         \
    X(STREAM_GET, "SELECT position FROM stream WHERE id = 1")                           \
    X(STREAM_ADVANCE, "UPDATE stream SET position = position + 1 WHERE id = 1 "          \
                      "RETURNING position")                                              \
    /* accounts.c */                                                                     \
    X(USER_INSERT, "INSERT INTO users(user_id, password_hash, created_ms) VALUES (?1, ?2, ?3)") \
    X(USER_GET, "SELECT password_hash, deactivated, displayname, avatar_url "            \
                "FROM users WHERE user_id = ?1")                                         \
    X(USER_SET_PASSWORD, "UPDATE users SET password_hash = ?2 WHERE user_id = ?1")       \
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
    X(MEMBERSHIP_SET, "INSERT INTO memberships(room_id, user_id, membership, stream) "   \
                      "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(room_id, user_id) DO UPDATE SET " \
                      "membership = excluded.membership, stream = excluded.stream, forgotten = 0") \
    X(MEMBERSHIP_GET, "SELECT membership, stream, forgotten FROM memberships "           \
                      "WHERE room_id = ?1 AND user_id = ?2")                             \
    X(MEMBERSHIP_FORGET, "UPDATE memberships SET forgotten = 1 "                         \
                         "WHERE room_id = ?1 AND user_id = ?2")                          \
    X(MEMBERSHIPS_OF_USER, "SELECT room_id, membership, stream FROM memberships "        \
                           "WHERE user_id = ?1 AND forgotten = 0 ORDER BY stream")       \
    X(MEMBERS_OF_ROOM, "SELECT user_id, membership, stream FROM memberships "            \
                       "WHERE room_id = ?1 ORDER BY user_id")                            \
    X(MEMBERS_COUNT, "SELECT count(*) FROM memberships WHERE room_id = ?1 AND membership = ?2") \
    /* events.c */                                                                       \
    X(EVENT_INSERT, "INSERT INTO events(stream, event_id, room_id, type, state_key, sender, " \
                    "origin_ts, depth, json, txn_id, device_id, prev_state) "            \
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)")         \
    X(EVENT_BY_ID, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE event_id = ?1")        \
    X(EVENT_BY_STREAM, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE stream = ?1")      \
    X(EVENT_REDACT, "UPDATE events SET json = ?2, redacted_by = ?3 WHERE stream = ?1")   \
    X(EVENTS_AFTER, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE room_id = ?1 "        \
                    "AND stream > ?2 AND stream <= ?3 ORDER BY stream LIMIT ?4")         \
    X(EVENTS_BEFORE, "SELECT " HT_EVENT_COLUMNS " FROM events WHERE room_id = ?1 "       \
                     "AND stream <= ?2 AND stream > ?3 ORDER BY stream DESC LIMIT ?4")   \
    X(ROOM_LATEST, "SELECT stream, depth, event_id FROM events WHERE room_id = ?1 "      \
                   "ORDER BY stream DESC LIMIT 1")                                       \
    X(ROOM_MAX_STREAM_BELOW, "SELECT max(stream) FROM events WHERE room_id = ?1 AND stream <= ?2") \
    X(STATE_SET, "INSERT INTO room_state(room_id, type, state_key, stream) VALUES (?1, ?2, ?3, ?4) " \
                 "ON CONFLICT(room_id, type, state_key) DO UPDATE SET stream = excluded.stream") \
    X(STATE_GET, "SELECT stream FROM room_state WHERE room_id = ?1 AND type = ?2 AND state_key = ?3") \
    X(STATE_AT, "SELECT stream FROM events WHERE room_id = ?1 AND type = ?2 AND state_key = ?3 " \
                "AND stream <= ?4 ORDER BY stream DESC LIMIT 1")                         \
    X(STATE_LIST, "SELECT stream FROM room_state WHERE room_id = ?1 ORDER BY stream")    \
    X(STATE_LIST_AT, "SELECT max(stream) FROM events WHERE room_id = ?1 "                \
                     "AND state_key IS NOT NULL AND stream <= ?2 GROUP BY type, state_key " \
                     "ORDER BY 1")                                                       \
    X(STATE_CHANGED_BETWEEN, "SELECT stream FROM room_state WHERE room_id = ?1 "         \
                             "AND stream > ?2 AND stream <= ?3 ORDER BY stream")         \
    X(MEMBER_JOINED_AFTER, "SELECT 1 FROM events WHERE room_id = ?1 AND type = 'm.room.member' " \
                           "AND state_key = ?2 AND stream >= ?3 "                        \
                           "AND json ->> '$.content.membership' = 'join' LIMIT 1")       \
    X(UNREAD_COUNT, "SELECT count(*) FROM events WHERE room_id = ?1 AND sender != ?2 "   \
                    "AND type IN ('m.room.message', 'm.room.encrypted') AND stream > "   \
                    "coalesce((SELECT max(stream) FROM events WHERE room_id = ?1 AND sender = ?2), 0)") \
    X(TXN_GET, "SELECT event_id FROM txn_ids WHERE user_id = ?1 AND device_id = ?2 AND txn_id = ?3") \
    X(TXN_PUT, "INSERT INTO txn_ids(user_id, device_id, txn_id, event_id) VALUES (?1, ?2, ?3, ?4)") \
    HT_STATEMENTS_E2EE_MEDIA(X)

/* ---- media, end-to-end encryption, to-device, relations, search -------- */
#define HT_STATEMENTS_E2EE_MEDIA(X)                                                      \
    /* media.c */                                                                        \
    X(MEDIA_INSERT, "INSERT INTO media(media_id, uploader, created_ms, content_type, filename, " \
                    "size, uploaded_ms, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?3, ?7)")  \
    X(MEDIA_CREATE, "INSERT INTO media(media_id, uploader, created_ms, expires_ms) "     \
                    "VALUES (?1, ?2, ?3, ?4)")                                           \
    X(MEDIA_FILL, "UPDATE media SET content_type = ?2, filename = ?3, size = ?4, "       \
                  "uploaded_ms = ?5, data = ?6, expires_ms = NULL "                      \
                  "WHERE media_id = ?1 AND uploaded_ms IS NULL")                         \
    X(MEDIA_GET, "SELECT uploader, created_ms, expires_ms, content_type, filename, size, " \
                 "uploaded_ms FROM media WHERE media_id = ?1")                           \
    X(MEDIA_DATA, "SELECT data FROM media WHERE media_id = ?1")                          \
    X(MEDIA_PENDING_COUNT, "SELECT count(*) FROM media WHERE uploader = ?1 "             \
                           "AND uploaded_ms IS NULL AND expires_ms > ?2")                \
    X(MEDIA_PENDING_EXPIRE, "DELETE FROM media WHERE uploader = ?1 "                     \
                            "AND uploaded_ms IS NULL AND expires_ms <= ?2")

typedef enum ht_stmt_id {
#define HT_STMT_ENUM(name, sql) HT_STMT_##name,
    HT_STATEMENTS(HT_STMT_ENUM)
#undef HT_STMT_ENUM
    HT_STMT_COUNT
} ht_stmt_id;

#endif
