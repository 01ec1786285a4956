/* room_version.h -- what differs between the room versions hometab knows.
 *
 * A room's version fixes its event format, redaction algorithm and
 * authorization rules for the room's whole life. Rather than compare version
 * strings where the behaviour forks, the engine asks a named property of the
 * room's ht_room_version, so a reader sees what a difference is about and a
 * new version is one more row in room_version.c. */
#ifndef HT_ROOM_VERSION_H
#define HT_ROOM_VERSION_H

#include <stdbool.h>

typedef struct ht_room_version {
    const char *id; /* "10", "11" */
    /* Redaction (v11 changed it, MSC2176 and MSC3821): */
    bool redaction_keeps_origin;         /* top-level origin, membership and prev_state */
    bool redaction_keeps_create_content; /* m.room.create keeps all of its content */
    bool redaction_keeps_pl_invite;      /* m.room.power_levels keeps "invite" */
    bool redaction_keeps_redacts;        /* m.room.redaction keeps content.redacts */
    bool redaction_keeps_tpi_signed;     /* m.room.member keeps third_party_invite.signed */
    /* Event format (v11, MSC2175 and MSC2174): */
    bool create_has_creator;  /* m.room.create content names its creator */
    bool redacts_in_content;  /* m.room.redaction says what it redacts in content, not at the top */
} ht_room_version;

/* The version with this id, or NULL if hometab does not know it. */
const ht_room_version *ht_room_version_get(const char *id);

#endif
