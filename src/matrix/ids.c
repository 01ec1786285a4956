/* ids.c -- the grammar of Matrix identifiers (spec appendix "Identifier
 * grammar"). Every id that reaches the store has passed one of these. */
#include "matrix/ids.h"

#include <string.h>

#include "util/utf8.h"

const char *ht_id_server(const char *id) {
    const char *colon = strchr(id, ':');
    return colon && colon[1] ? colon + 1 : NULL;
}

bool ht_server_name_valid(const char *name) {
    if (!*name || strlen(name) > HT_MAX_ID_LENGTH) return false;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!(c == '.' || c == '-' || c == ':' || c == '[' || c == ']' ||
              (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

/* sigil, a non-empty opaque part without ':', ':', a plausible server name. */
static bool sigil_id_valid(const char *id, char sigil) {
    size_t len = strlen(id);
    if (len < 4 || len > HT_MAX_ID_LENGTH || id[0] != sigil) return false;
    const char *colon = strchr(id, ':');
    if (!colon || colon == id + 1) return false;
    return ht_server_name_valid(colon + 1) && ht_utf8_valid((const unsigned char *)id, len);
}

bool ht_user_id_valid(const char *id) {
    if (!sigil_id_valid(id, '@')) return false;
    for (const char *p = id + 1; *p != ':'; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7E) return false;
    return true;
}

bool ht_localpart_valid(const char *localpart) {
    if (!*localpart) return false;
    for (const char *p = localpart; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("._=-/+", c))) return false;
    }
    return true;
}

bool ht_room_id_valid(const char *id) { return sigil_id_valid(id, '!'); }
bool ht_room_alias_valid(const char *alias) { return sigil_id_valid(alias, '#'); }

bool ht_event_id_valid(const char *id) {
    size_t len = strlen(id);
    return len >= 2 && len <= HT_MAX_ID_LENGTH && id[0] == '$' &&
           ht_utf8_valid((const unsigned char *)id, len);
}

char *ht_user_id_make(ht_arena *arena, const char *localpart, const char *server) {
    return ht_arena_printf(arena, "@%s:%s", localpart, server);
}
