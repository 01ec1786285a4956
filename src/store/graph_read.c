/* graph_read.c -- the event graph as other servers read it (see graph_read.h). */
#include "store/graph_read.h"

#include "store/db.h"

size_t ht_store_prev_event_ids(ht_store *store, ht_arena *arena, int64_t stream, int64_t limit,
                               const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_PREV_EVENT_IDS);
    ht_db_bind_int(s, 1, stream);
    ht_db_bind_int(s, 2, limit);
    return ht_db_text_list(store, arena, s, out);
}

int64_t ht_store_state_group_base(ht_store *store, int64_t group) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_STATE_GROUP_BASE);
    ht_db_bind_int(s, 1, group);
    return ht_db_single_int(store, s);
}

size_t ht_store_room_users_of_server(ht_store *store, ht_arena *arena, const char *room_id, const char *server,
                                     int64_t limit, const char ***out) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ROOM_USERS_OF_SERVER);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, server);
    ht_db_bind_int(s, 3, limit);
    return ht_db_text_list(store, arena, s, out);
}

bool ht_store_room_server_joined(ht_store *store, const char *room_id, const char *server) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_ROOM_SERVER_JOINED);
    ht_db_bind_text(s, 1, room_id);
    ht_db_bind_text(s, 2, server);
    return ht_db_single_int(store, s) > 0;
}
