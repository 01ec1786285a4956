/* statements_operator.h -- the statements of what an operator runs: server
 * admins and the admin API (admin.c), registration tokens
 * (registration_tokens.c). Part of statements.h's one list; kept in its own
 * file because it is one area with one reader.
 *
 * Lists the admin API sorts by a column it names are one statement each:
 * the column is chosen by a CASE on a bound parameter, never by text built
 * from the request. */
#ifndef HT_STORE_STATEMENTS_OPERATOR_H
#define HT_STORE_STATEMENTS_OPERATOR_H

/* The filters of the user list, ?1..?4: a user id substring (NULL: any); a
 * localpart or display name substring, case-insensitive (NULL: any);
 * whether deactivated accounts count; admins only (NULL: anyone, 1, 0). */
#define HT_OP_USER_FILTER                                                                \
    "(?1 IS NULL OR instr(user_id, ?1) > 0) "                                            \
    "AND (?2 IS NULL OR instr(lower(substr(user_id, 2, instr(user_id, ':') - 2)), lower(?2)) > 0 " \
    "OR instr(lower(coalesce(displayname, '')), lower(?2)) > 0) "                        \
    "AND (?3 OR deactivated = 0) AND (?4 IS NULL OR (admin != 0) = ?4)"

/* A registration token that may still be used at time ?2. */
#define HT_OP_TOKEN_USABLE                                                               \
    "(uses_allowed IS NULL OR pending + completed < uses_allowed) "                      \
    "AND (expiry_ms IS NULL OR expiry_ms > ?2)"

#define HT_OP_TOKEN_COLUMNS "token, uses_allowed, pending, completed, expiry_ms"

#define HT_STATEMENTS_OPERATOR(X)                                                        \
    /* admin.c: users */                                                                 \
    X(OP_USER_DETAILS, "SELECT user_id, displayname, avatar_url, admin, deactivated, created_ms, " \
                       "password_hash IS NOT NULL FROM users WHERE user_id = ?1")        \
    X(OP_USER_SET_ADMIN, "UPDATE users SET admin = ?2 WHERE user_id = ?1")               \
    X(OP_USER_REACTIVATE, "UPDATE users SET deactivated = 0 WHERE user_id = ?1")         \
    /* ?5 the column to sort by, ?6 1 for descending; ties by user id. */               \
    X(OP_USERS_LIST, "SELECT user_id, displayname, avatar_url, admin, deactivated, created_ms, " \
                     "password_hash IS NOT NULL FROM (SELECT *, CASE ?5 "                \
                     "WHEN 'displayname' THEN displayname WHEN 'avatar_url' THEN avatar_url " \
                     "WHEN 'admin' THEN admin WHEN 'deactivated' THEN deactivated "      \
                     "WHEN 'creation_ts' THEN created_ms ELSE user_id END AS sort_key "  \
                     "FROM users WHERE " HT_OP_USER_FILTER ") "                          \
                     "ORDER BY CASE WHEN ?6 THEN sort_key END DESC, sort_key, user_id "  \
                     "LIMIT ?7 OFFSET ?8")                                               \
    X(OP_USERS_COUNT, "SELECT count(*) FROM users WHERE " HT_OP_USER_FILTER)             \
    /* For the start line: active users, admins among them, rooms. */                  \
    X(OP_SERVER_COUNTS, "SELECT (SELECT count(*) FROM users WHERE deactivated = 0), "    \
                        "(SELECT count(*) FROM users WHERE admin != 0 AND deactivated = 0), " \
                        "(SELECT count(*) FROM rooms)")                                  \
    /* admin.c: rooms */                                                                 \
    X(OP_ROOMS_ALL, "SELECT room_id FROM rooms ORDER BY room_id LIMIT ?1")               \
    X(OP_ROOM_STATE_COUNT, "SELECT count(*) FROM room_state WHERE room_id = ?1")         \
    X(OP_ROOM_REMEMBERED, "SELECT count(*) FROM memberships WHERE room_id = ?1 AND forgotten = 0") \
    /* Purging a room, in an order the foreign keys accept: what points at \
     * its events first, then the events, then the room. */                \
    X(OP_PURGE_TXN_KEYS, "DELETE FROM txn_keys WHERE stream IN "                         \
                         "(SELECT stream FROM events WHERE room_id = ?1)")               \
    X(OP_PURGE_SEARCH, "DELETE FROM event_words WHERE (word, stream) IN "                \
                       "(SELECT w.value, e.stream FROM events e, "                       \
                       "json_each(words(" HT_SEARCHED_TEXT ")) w WHERE e.room_id = ?1)") \
    X(OP_PURGE_RELATIONS, "DELETE FROM event_relations WHERE room_id = ?1")              \
    X(OP_PURGE_REDACTIONS_WAITING, "DELETE FROM redactions_waiting WHERE room_id = ?1")  \
    X(OP_PURGE_STATE, "DELETE FROM room_state WHERE room_id = ?1")                       \
    X(OP_PURGE_MEMBERSHIPS, "DELETE FROM memberships WHERE room_id = ?1")                \
    X(OP_PURGE_RECEIPTS, "DELETE FROM receipts WHERE room_id = ?1")                      \
    X(OP_PURGE_TYPING, "DELETE FROM typing WHERE room_id = ?1")                          \
    X(OP_PURGE_TYPING_CHANGES, "DELETE FROM typing_changes WHERE room_id = ?1")          \
    X(OP_PURGE_UNREAD_THREADS, "DELETE FROM unread_threads WHERE room_id = ?1")          \
    X(OP_PURGE_UNREAD_ROOMS, "DELETE FROM unread_rooms WHERE room_id = ?1")              \
    X(OP_PURGE_UNREAD_ALIKE, "DELETE FROM unread_alike WHERE room_id = ?1")              \
    X(OP_PURGE_UNREAD_ALIKE_THREADS, "DELETE FROM unread_alike_threads WHERE room_id = ?1") \
    X(OP_PURGE_ACCOUNT_DATA, "DELETE FROM account_data WHERE room_id = ?1")              \
    X(OP_PURGE_REPORTS, "DELETE FROM event_reports WHERE room_id = ?1")                  \
    X(OP_PURGE_ALIASES, "DELETE FROM room_aliases WHERE room_id = ?1")                   \
    /* the event graph (migration 8) */                                                  \
    X(OP_PURGE_EDGES, "DELETE FROM event_edges WHERE stream IN "                         \
                      "(SELECT stream FROM events WHERE room_id = ?1)")                  \
    X(OP_PURGE_EXTREMITIES, "DELETE FROM room_extremities WHERE room_id = ?1")           \
    X(OP_PURGE_STATE_LOG, "DELETE FROM room_state_log WHERE room_id = ?1")               \
    X(OP_PURGE_STATE_GROUP_ENTRIES, "DELETE FROM state_group_entries WHERE group_id IN " \
                                    "(SELECT id FROM state_groups WHERE room_id = ?1)")  \
    X(OP_PURGE_STATE_GROUPS, "DELETE FROM state_groups WHERE room_id = ?1")              \
    /* federation (migration 10): the room's events waiting for other     \
     * servers go with the events (the outbox names them by stream), and   \
     * after the memberships (whose triggers count them) the room's servers. */ \
    X(OP_PURGE_OUTBOX, "DELETE FROM outbox WHERE event_stream IN "                       \
                       "(SELECT stream FROM events WHERE room_id = ?1)")                 \
    X(OP_PURGE_ROOM_SERVERS, "DELETE FROM room_servers WHERE room_id = ?1")              \
    X(OP_PURGE_INVITE_STATE, "DELETE FROM invite_room_state WHERE room_id = ?1")         \
    X(OP_PURGE_EVENTS, "DELETE FROM events WHERE room_id = ?1")                          \
    X(OP_PURGE_ROOM, "DELETE FROM rooms WHERE room_id = ?1")                             \
    X(OP_DELETION_INSERT, "INSERT INTO room_deletions(delete_id, room_id, result, created_ms) " \
                          "VALUES (?1, ?2, ?3, ?4)")                                     \
    X(OP_DELETIONS_EXPIRE, "DELETE FROM room_deletions WHERE created_ms < ?1")           \
    X(OP_DELETION_GET, "SELECT delete_id, result FROM room_deletions WHERE delete_id = ?1") \
    X(OP_DELETIONS_OF_ROOM, "SELECT delete_id, result FROM room_deletions WHERE room_id = ?1 " \
                            "ORDER BY created_ms, delete_id LIMIT 100")                  \
    /* admin.c: media. ?2 the column to sort by, ?3 1 for descending. */               \
    X(OP_MEDIA_OF_USER, "SELECT media_id, created_ms, content_type, filename, size FROM media " \
                        "WHERE uploader = ?1 AND uploaded_ms IS NOT NULL ORDER BY "     \
                        "CASE WHEN ?3 THEN CASE ?2 WHEN 'media_id' THEN media_id "       \
                        "WHEN 'upload_name' THEN filename WHEN 'media_length' THEN size " \
                        "WHEN 'media_type' THEN content_type ELSE created_ms END END DESC, " \
                        "CASE ?2 WHEN 'media_id' THEN media_id WHEN 'upload_name' THEN filename " \
                        "WHEN 'media_length' THEN size WHEN 'media_type' THEN content_type " \
                        "ELSE created_ms END, media_id LIMIT ?4 OFFSET ?5")              \
    X(OP_MEDIA_COUNT_OF_USER, "SELECT count(*) FROM media WHERE uploader = ?1 "          \
                              "AND uploaded_ms IS NOT NULL")                             \
    X(OP_MEDIA_DELETE, "DELETE FROM media WHERE media_id = ?1")                          \
    X(OP_MEDIA_PARTS_DELETE, "DELETE FROM media_parts WHERE media_id = ?1")              \
    /* registration_tokens.c */                                                          \
    X(OP_TOKEN_INSERT, "INSERT INTO registration_tokens(token, uses_allowed, expiry_ms, created_ms) " \
                       "VALUES (?1, ?2, ?3, ?4) ON CONFLICT(token) DO NOTHING RETURNING token") \
    X(OP_TOKEN_GET, "SELECT " HT_OP_TOKEN_COLUMNS " FROM registration_tokens WHERE token = ?1") \
    /* ?1 NULL: every token; 1: those usable at ?2; 0: the others. */                   \
    X(OP_TOKEN_LIST, "SELECT " HT_OP_TOKEN_COLUMNS " FROM registration_tokens "          \
                     "WHERE ?1 IS NULL OR (" HT_OP_TOKEN_USABLE ") = ?1 "                \
                     "ORDER BY created_ms, token LIMIT ?3")                              \
    /* ?2/?4 say whether uses_allowed (?3) and expiry_ms (?5) change. */               \
    X(OP_TOKEN_UPDATE, "UPDATE registration_tokens SET "                                \
                       "uses_allowed = CASE WHEN ?2 THEN ?3 ELSE uses_allowed END, "     \
                       "expiry_ms = CASE WHEN ?4 THEN ?5 ELSE expiry_ms END "            \
                       "WHERE token = ?1 RETURNING token")                              \
    X(OP_TOKEN_DELETE, "DELETE FROM registration_tokens WHERE token = ?1 RETURNING token") \
    X(OP_TOKEN_USABLE, "SELECT 1 FROM registration_tokens WHERE token = ?1 AND " HT_OP_TOKEN_USABLE) \
    /* One use, counted only while the token may still be used. */                     \
    X(OP_TOKEN_USE, "UPDATE registration_tokens SET completed = completed + 1 "          \
                    "WHERE token = ?1 AND " HT_OP_TOKEN_USABLE " RETURNING completed")

#endif
