/* room_news.c -- the rooms with news after a position (room_news.h).
 *
 * Two ways to ask, chosen by what is cheaper: walking the positions in
 * (since, upto] over each stream costs what happened on the whole server
 * since then; probing each of the user's joined rooms costs a few index
 * looks per room. Every change takes a position of its own (but a join
 * over federation sets a whole state at one), so upto - since bounds the
 * first walk: it is taken while that stays under a few positions per
 * room -- the usual case of a client that syncs often. */
#include "store/room_news.h"

#include <stdbool.h>

#include "store/db.h"

/* Positions per joined room below which the walk by position is cheaper:
 * one position costs about a row of each stream read; one room about
 * five index probes. */
enum { POSITIONS_PER_ROOM = 8 };

size_t ht_store_room_news(ht_store *store, ht_arena *arena, const char *user_id, int64_t since, int64_t upto,
                          size_t joined_count, const char ***out) {
    if (upto <= since) {
        *out = NULL;
        return 0;
    }
    bool by_stream = (uint64_t)(upto - since) <= (uint64_t)joined_count * POSITIONS_PER_ROOM;
    sqlite3_stmt *s = ht_db_stmt(store, by_stream ? HT_STMT_ROOM_NEWS_BY_STREAM : HT_STMT_ROOM_NEWS_BY_ROOM);
    ht_db_bind_text(s, 1, user_id);
    ht_db_bind_int(s, 2, since);
    ht_db_bind_int(s, 3, upto);
    return ht_db_text_list(store, arena, s, out);
}
