/* room_version.c -- the room versions hometab knows, one row each (see
 * room_version.h). Spec: content/rooms/v10.md and v11.md. Versions before 10
 * are not offered: hometab has only ever created version 10 rooms. */
#include "room/room_version.h"

#include <string.h>

static const ht_room_version versions[] = {
    {
        .id = "10",
        .redaction_keeps_origin = true,
        .create_has_creator = true,
    },
    {
        .id = "11",
        .redaction_keeps_create_content = true,
        .redaction_keeps_pl_invite = true,
        .redaction_keeps_redacts = true,
        .redaction_keeps_tpi_signed = true,
        .redacts_in_content = true,
    },
};

const ht_room_version *ht_room_version_get(const char *id) {
    for (size_t i = 0; id && i < sizeof versions / sizeof *versions; i++)
        if (strcmp(versions[i].id, id) == 0) return &versions[i];
    return NULL;
}
