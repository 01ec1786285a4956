/* pdu.c -- the stored form of an event, its hashes and its id.
 *
 * Room versions 4 and later name an event by its reference hash: SHA-256 of
 * the canonical JSON of the redacted event without signatures and unsigned,
 * in URL-safe unpadded base64, after a '$'. The content hash in
 * hashes.sha256 covers the whole event less unsigned, signatures and hashes.
 * Computing both now keeps the stored events valid for federation later. */
#include "room/pdu.h"

#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

char *ht_canonical_json(json_t *value) {
    return json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

static char *hash_of(ht_arena *arena, json_t *obj, bool urlsafe) {
    char *text = ht_canonical_json(obj);
    unsigned char digest[HT_SHA256_BYTES];
    ht_sha256(text, strlen(text), digest);
    free(text);
    return urlsafe ? ht_base64_urlsafe(arena, digest, sizeof digest)
                   : ht_base64_unpadded(arena, digest, sizeof digest);
}

void ht_pdu_add_content_hash(ht_arena *arena, json_t *pdu) {
    json_t *copy = json_deep_copy(pdu);
    json_object_del(copy, "unsigned");
    json_object_del(copy, "signatures");
    json_object_del(copy, "hashes");
    json_object_set_new(pdu, "hashes", json_pack("{s:s}", "sha256", hash_of(arena, copy, false)));
    json_decref(copy);
}

char *ht_pdu_event_id(ht_arena *arena, json_t *pdu) {
    json_t *redacted = ht_redact_event(pdu);
    json_object_del(redacted, "signatures");
    json_object_del(redacted, "unsigned");
    char *id = ht_arena_printf(arena, "$%s", hash_of(arena, redacted, true));
    json_decref(redacted);
    return id;
}
