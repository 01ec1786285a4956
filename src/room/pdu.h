/* pdu.h -- the federation form of an event (a PDU) in room versions 10 and
 * 11: its content hash, its id, its signatures, its redacted form, and the
 * format and size checks an event from elsewhere must pass.
 *
 * Plain functions over json_t, with no store and no core: the send path
 * (events made here) and the receive path (events made elsewhere) both call
 * them. What each computes is over canonical JSON (util/canonical.h); a PDU
 * that is not canonical (a float, a huge integer) has no hash and no id, and
 * the functions say so rather than compute something another server would
 * not. Spec: server-server "Signing Events", "Checks performed on receipt of
 * a PDU"; client-server "Size limits"; content/rooms/v10.md, v11.md. */
#ifndef HT_ROOM_PDU_H
#define HT_ROOM_PDU_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "room/room_version.h"
#include "util/arena.h"
#include "util/canonical.h"
#include "util/crypto.h"
#include "util/signing.h"

enum {
    HT_PDU_MAX_BYTES = 65536,  /* the whole PDU as canonical JSON, signatures included */
    HT_PDU_MAX_FIELD_BYTES = 255, /* type, state_key, sender, room_id, and each event id */
    HT_PDU_MAX_PREV_EVENTS = 20,
    HT_PDU_MAX_AUTH_EVENTS = 10,
};

/* The redaction algorithm of the room version: a new, redacted copy. */
json_t *ht_pdu_redact(const ht_room_version *v, json_t *pdu);
/* The same form, made without copying: a new object whose values are the
 * PDU's own. Read it (to hash or sign its bytes); change neither it below
 * its top level nor the PDU while it lives. */
json_t *ht_pdu_redact_view(const ht_room_version *v, json_t *pdu);

/* Whether the version's redaction keeps a top-level key; and the redacted
 * form of an event's content, as a view (as ht_pdu_redact_view). */
bool ht_pdu_redaction_keeps(const ht_room_version *v, const char *key);
json_t *ht_pdu_redacted_content_view(const ht_room_version *v, const char *type, json_t *content);

/* The content hash: SHA-256 of the canonical JSON of the PDU without
 * unsigned, signatures and hashes. False if the PDU is not canonical. */
bool ht_pdu_content_hash(json_t *pdu, unsigned char out[HT_SHA256_BYTES], ht_canonical_error *err);
/* Sets hashes.sha256 to the content hash (unpadded base64). Done before
 * signing: the signature covers the hash, and through it the whole event. */
bool ht_pdu_set_content_hash(json_t *pdu, ht_canonical_error *err);
/* True if hashes.sha256 is the content hash. False for a PDU received from
 * elsewhere means: use its redacted form (ht_pdu_redact) from here on. */
bool ht_pdu_content_hash_matches(json_t *pdu);

/* The reference hash: SHA-256 of the canonical JSON of the redacted PDU
 * without signatures and unsigned. */
bool ht_pdu_reference_hash(const ht_room_version *v, json_t *pdu, unsigned char out[HT_SHA256_BYTES],
                           ht_canonical_error *err);
/* The event id (room versions 4 and later): '$' and the URL-safe unpadded
 * base64 of the reference hash, in the arena; NULL if not canonical. */
const char *ht_pdu_id(ht_arena *arena, const ht_room_version *v, json_t *pdu, ht_canonical_error *err);

/* Signs the PDU as its origin server: signatures[server_name][key id]
 * becomes the signature of the redacted form; other signatures stay. The
 * content hash must be set first (ht_pdu_set_content_hash). False if the PDU
 * is not canonical or its "signatures" is not an object of objects. */
bool ht_pdu_sign(const ht_room_version *v, json_t *pdu, const char *server_name, const ht_signing_key *key);

/* A new event of ours, which has no signatures yet: signs it as
 * ht_pdu_sign does and returns its id as ht_pdu_id does, making the bytes
 * both cover (the redacted form, canonical) once. NULL, the PDU unsigned, if
 * it is not canonical or already carries signatures. */
const char *ht_pdu_sign_new(ht_arena *arena, const ht_room_version *v, json_t *pdu, const char *server_name,
                            const ht_signing_key *key, ht_canonical_error *err);

/* A new event of ours, with neither hashes, signatures nor unsigned: sets
 * its content hash, signs it if key is not NULL, and gives its id (in the
 * arena) and its canonical JSON (malloc'd, *len long) -- what
 * ht_pdu_set_content_hash, ht_pdu_sign_new (or ht_pdu_id) and
 * ht_canonical_json give, from one writing of the event instead of three.
 * NULL if it is not canonical. */
char *ht_pdu_seal(ht_arena *arena, const ht_room_version *v, json_t *pdu, const char *server_name,
                  const ht_signing_key *key, const char **id, size_t *len, ht_canonical_error *err);

/* The bytes ht_pdu_sign adds to the canonical JSON of a PDU that has no
 * signatures: what an event kept unsigned weighs once it is served. */
size_t ht_pdu_signature_bytes(const char *server_name, const ht_signing_key *key);

/* The public key (unpadded base64) that server_name published under key_id,
 * usable for an event sent at origin_server_ts; NULL if unknown, or expired
 * by then (room versions 5 and later need valid_until_ts >= that time). */
typedef const char *ht_pdu_key_lookup(void *ctx, const char *server_name, const char *key_id,
                                      int64_t origin_server_ts);

/* The signature check on receipt (step 2): the redacted form must be signed
 * by the sender's server, and, for a join with join_authorised_via_users_server,
 * by that user's server too. For each of them, every ed25519 signature whose
 * key lookup() knows must verify, and at least one must be known; signatures
 * by unknown keys and other algorithms are skipped. NULL if the PDU passes,
 * else a sentence (in the arena) naming the server that failed. Third-party
 * invites are not special-cased (hometab does not offer them). */
const char *ht_pdu_check_signatures(ht_arena *arena, const ht_room_version *v, json_t *pdu,
                                    ht_pdu_key_lookup *lookup, void *ctx);

/* The servers whose signatures ht_pdu_check_signatures requires, into
 * out[0..1] (pointing into pdu): the sender's, then the authorising
 * server's for a restricted join when it is another. Only their keys are
 * worth fetching: other servers named in `signatures` are never asked. */
size_t ht_pdu_signing_servers(json_t *pdu, const char *out[2]);

/* The format check on receipt (step 1): canonical JSON, at most
 * HT_PDU_MAX_BYTES; type, room_id, sender, origin_server_ts, depth, content,
 * prev_events, auth_events, hashes and signatures present with their types;
 * the 255-byte limits; at most 20 prev_events and 10 auth_events; a redaction's
 * target where the version puts it. NULL if the PDU passes, else a sentence
 * in the arena. */
const char *ht_pdu_check_format(ht_arena *arena, const ht_room_version *v, json_t *pdu);

/* The server part of a user id ("@alice:example.org" gives "example.org"),
 * pointing into id; NULL if there is none. */
const char *ht_pdu_server_of(const char *user_id);

/* For ht_room_send until it takes the room's version: room version 10's
 * content hash (never fails after ht_room_send's canonical check) and event
 * id. */
void ht_pdu_add_content_hash(ht_arena *arena, json_t *pdu);
char *ht_pdu_event_id(ht_arena *arena, json_t *pdu);

#endif
