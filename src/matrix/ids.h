/* ids.h -- checking Matrix identifiers (user, room, alias, event ids). */
#ifndef HT_MATRIX_IDS_H
#define HT_MATRIX_IDS_H

#include <stdbool.h>

#include "util/arena.h"

enum { HT_MAX_ID_LENGTH = 255 };

/* "@localpart:server", historical localpart characters allowed. */
bool ht_user_id_valid(const char *id);
/* The characters a new account's localpart may use: a-z 0-9 . _ = - / + */
bool ht_localpart_valid(const char *localpart);
bool ht_room_id_valid(const char *id);
bool ht_room_alias_valid(const char *alias);
bool ht_event_id_valid(const char *id);
/* The part after the first ':' (the server name), or NULL. */
const char *ht_id_server(const char *id);
/* A plausible server name: host name or IP literal, optional port (the
 * characters the grammar allows, not more than an id's length). */
bool ht_server_name_valid(const char *name);
/* "@" localpart ":" server in the arena. */
char *ht_user_id_make(ht_arena *arena, const char *localpart, const char *server);

#endif
