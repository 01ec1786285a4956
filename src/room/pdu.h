/* pdu.h -- private to src/room: hashing a stored event. */
#ifndef HT_ROOM_PDU_H
#define HT_ROOM_PDU_H

#include "room/room.h"

void ht_pdu_add_content_hash(ht_arena *arena, json_t *pdu);
char *ht_pdu_event_id(ht_arena *arena, json_t *pdu);

#endif
