/* pdu.c -- an event's hashes, id and signatures, and the checks on a PDU
 * from elsewhere (see pdu.h).
 *
 * Room versions 4 and later name an event by its reference hash: SHA-256 of
 * the canonical JSON of the redacted event without signatures and unsigned.
 * The content hash in hashes.sha256 covers the whole event less unsigned,
 * signatures and hashes, and the origin signs the redacted form, hash
 * included: so a server can check a redacted copy's signature, and tell from
 * the hash whether a full copy was tampered with. Signatures are outside the
 * reference hash, so signing an event later leaves its id as it was. */
#include "room/pdu.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* SHA-256 of the canonical JSON of obj less the named members. */
static bool hash_without(json_t *obj, const char *const *drop, size_t ndrop, unsigned char out[HT_SHA256_BYTES],
                         ht_canonical_error *err) {
    json_t *copy = json_copy(obj); /* shallow: members are shared, not copied */
    for (size_t i = 0; i < ndrop; i++) json_object_del(copy, drop[i]);
    size_t len;
    char *text = ht_canonical_json(copy, &len, err);
    json_decref(copy);
    if (!text) return false;
    ht_sha256(text, len, out);
    free(text);
    return true;
}

bool ht_pdu_content_hash(json_t *pdu, unsigned char out[HT_SHA256_BYTES], ht_canonical_error *err) {
    static const char *const drop[] = {"unsigned", "signatures", "hashes"};
    return hash_without(pdu, drop, 3, out, err);
}

/* hashes.sha256 := the digest, unpadded base64; the new "hashes" object. */
static json_t *set_hashes(json_t *pdu, const unsigned char digest[HT_SHA256_BYTES]) {
    char text[48]; /* 43 characters of unpadded base64, and the NUL */
    sodium_bin2base64(text, sizeof text, digest, HT_SHA256_BYTES, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    json_object_set_new(pdu, "hashes", json_pack("{s:s}", "sha256", text));
    return json_object_get(pdu, "hashes");
}

bool ht_pdu_set_content_hash(json_t *pdu, ht_canonical_error *err) {
    unsigned char digest[HT_SHA256_BYTES];
    if (!ht_pdu_content_hash(pdu, digest, err)) return false;
    set_hashes(pdu, digest);
    return true;
}

bool ht_pdu_content_hash_matches(json_t *pdu) {
    unsigned char claimed[HT_SHA256_BYTES], actual[HT_SHA256_BYTES];
    const char *sha256 = json_string_value(json_object_get(json_object_get(pdu, "hashes"), "sha256"));
    return ht_base64_decode_exact(sha256, claimed, sizeof claimed) && ht_pdu_content_hash(pdu, actual, NULL) &&
           memcmp(claimed, actual, sizeof actual) == 0;
}

/* The bytes both the origin's signature and the reference hash cover: the
 * canonical JSON of the redacted PDU without signatures and unsigned.
 * malloc'd; NULL if the PDU is not canonical. */
static char *redacted_bytes(const ht_room_version *v, json_t *pdu, size_t *len, ht_canonical_error *err) {
    json_t *redacted = ht_pdu_redact_view(v, pdu); /* its own top level: deleting there leaves the PDU whole */
    json_object_del(redacted, "signatures");
    json_object_del(redacted, "unsigned");
    char *text = ht_canonical_json(redacted, len, err);
    json_decref(redacted);
    return text;
}

bool ht_pdu_reference_hash(const ht_room_version *v, json_t *pdu, unsigned char out[HT_SHA256_BYTES],
                           ht_canonical_error *err) {
    size_t len;
    char *text = redacted_bytes(v, pdu, &len, err);
    if (!text) return false;
    ht_sha256(text, len, out);
    free(text);
    return true;
}

static const char *id_of(ht_arena *arena, const unsigned char digest[HT_SHA256_BYTES]) {
    return ht_arena_printf(arena, "$%s", ht_base64_urlsafe(arena, digest, HT_SHA256_BYTES));
}

const char *ht_pdu_id(ht_arena *arena, const ht_room_version *v, json_t *pdu, ht_canonical_error *err) {
    unsigned char digest[HT_SHA256_BYTES];
    return ht_pdu_reference_hash(v, pdu, digest, err) ? id_of(arena, digest) : NULL;
}

bool ht_pdu_sign(const ht_room_version *v, json_t *pdu, const char *server_name, const ht_signing_key *key) {
    json_t *signatures = json_object_get(pdu, "signatures");
    if (!json_is_object(pdu) || (signatures && !json_is_object(signatures))) return false;
    json_t *redacted = ht_pdu_redact(v, pdu);
    bool ok = ht_json_sign(redacted, server_name, key);
    /* The redacted copy carried the event's signatures; it now has ours too. */
    if (ok) json_object_set(pdu, "signatures", json_object_get(redacted, "signatures"));
    json_decref(redacted);
    return ok;
}

/* signatures := {server_name: {key id: the signature of bytes}}. */
static json_t *set_signature(ht_arena *arena, json_t *pdu, const char *server_name, const ht_signing_key *key,
                             const void *bytes, size_t len) {
    const char *signature = ht_ed25519_sign(arena, bytes, len, key);
    json_object_set_new(pdu, "signatures", json_pack("{s:{s:s}}", server_name, key->key_id, signature));
    return json_object_get(pdu, "signatures");
}

const char *ht_pdu_sign_new(ht_arena *arena, const ht_room_version *v, json_t *pdu, const char *server_name,
                            const ht_signing_key *key, ht_canonical_error *err) {
    if (!json_is_object(pdu) || json_object_get(pdu, "signatures")) return NULL;
    size_t len;
    char *text = redacted_bytes(v, pdu, &len, err);
    if (!text) return NULL;
    unsigned char digest[HT_SHA256_BYTES];
    ht_sha256(text, len, digest);
    set_signature(arena, pdu, server_name, key, text, len);
    free(text);
    return id_of(arena, digest);
}

/* ---- a new event's bytes, written once ----------------------------------- */

/* Appends the member "key":value where it stands at offset `at` of text
 * (an object's canonical bytes, as ht_canonical_write_places placed it),
 * the bytes of text before it being out's last. */
static bool put_member(ht_buf *out, const unsigned char *text, size_t at, const char *key, json_t *value,
                       ht_canonical_error *err) {
    unsigned char last = out->data[out->len - 1];
    if (last != '{' && last != ',') ht_buf_append(out, ",", 1);
    ht_buf_puts(out, "\"");
    ht_buf_puts(out, key);
    ht_buf_puts(out, "\":");
    if (!ht_canonical_write(out, value, err)) return false;
    if (text[at] != ',' && text[at] != '}') ht_buf_append(out, ",", 1); /* a first member follows */
    return true;
}

static bool all_kept(const ht_room_version *v, json_t *pdu) {
    const char *key;
    json_t *value;
    json_object_foreach(pdu, key, value) {
        if (!ht_pdu_redaction_keeps(v, key)) return false;
    }
    return true;
}

/* The general way, three writings: for what the quick one does not cover. */
static char *seal_slowly(ht_arena *arena, const ht_room_version *v, json_t *pdu, const char *server_name,
                         const ht_signing_key *key, const char **id, size_t *len, ht_canonical_error *err) {
    if (!ht_pdu_set_content_hash(pdu, err)) return NULL;
    *id = key ? ht_pdu_sign_new(arena, v, pdu, server_name, key, err) : ht_pdu_id(arena, v, pdu, err);
    return *id ? ht_canonical_json(pdu, len, err) : NULL;
}

/* The event is written once (a), marking where its content's value lies
 * and where hashes and signatures would stand. The content hash covers a
 * as it is. The redacted form, which the id and the signature cover, is a
 * with the content's redacted form in place of its value and the hashes
 * put in -- when the redaction keeps every other top-level key, as it does
 * for the events a client sends; else the general way. The stored text is
 * a with the hashes (and signatures) put in. */
char *ht_pdu_seal(ht_arena *arena, const ht_room_version *v, json_t *pdu, const char *server_name,
                  const ht_signing_key *key, const char **id, size_t *len, ht_canonical_error *err) {
    json_t *content = json_object_get(pdu, "content");
    if (!json_is_object(pdu) || !content || json_object_get(pdu, "hashes") || json_object_get(pdu, "signatures") ||
        json_object_get(pdu, "unsigned") || !all_kept(v, pdu))
        return seal_slowly(arena, v, pdu, server_name, key, id, len, err);
    ht_canonical_place at[] = {{.key = "content"}, {.key = "hashes"}, {.key = "signatures"}};
    ht_buf a = {0}, r = {0}, out = {0};
    char *stored = NULL;
    json_t *kept = NULL;
    if (!ht_canonical_write_places(&a, pdu, at, 3, err)) goto done;
    size_t content_start = at[0].start, content_end = at[0].end, hashes_at = at[1].start, signatures_at = at[2].start;

    unsigned char digest[HT_SHA256_BYTES];
    ht_sha256(a.data, a.len, digest);
    json_t *hashes = set_hashes(pdu, digest);

    kept = ht_pdu_redacted_content_view(v, json_string_value(json_object_get(pdu, "type")), content);
    ht_buf_append(&r, a.data, content_start);
    if (!ht_canonical_write(&r, kept, err)) goto done;
    ht_buf_append(&r, a.data + content_end, hashes_at - content_end);
    if (!put_member(&r, a.data, hashes_at, "hashes", hashes, err)) goto done;
    ht_buf_append(&r, a.data + hashes_at, a.len - hashes_at);
    ht_sha256(r.data, r.len, digest);
    *id = id_of(arena, digest);

    ht_buf_append(&out, a.data, hashes_at);
    if (!put_member(&out, a.data, hashes_at, "hashes", hashes, err)) goto done;
    if (key) {
        json_t *signatures = set_signature(arena, pdu, server_name, key, r.data, r.len);
        ht_buf_append(&out, a.data + hashes_at, signatures_at - hashes_at);
        if (!put_member(&out, a.data, signatures_at, "signatures", signatures, err)) goto done;
        ht_buf_append(&out, a.data + signatures_at, a.len - signatures_at);
    } else {
        ht_buf_append(&out, a.data + hashes_at, a.len - hashes_at);
    }
    ht_buf_append(&out, "", 1); /* the NUL, not counted */
    *len = out.len - 1;
    stored = (char *)out.data;
    out = (ht_buf){0};
done:
    json_decref(kept);
    ht_buf_free(&a);
    ht_buf_free(&r);
    ht_buf_free(&out);
    return stored;
}

size_t ht_pdu_signature_bytes(const char *server_name, const ht_signing_key *key) {
    /* ,"signatures":{"<server>":{"<key id>":"<signature>"}}: neither a
     * server name nor a key id has a character JSON escapes. */
    static const char frame[] = ",\"signatures\":{\"\":{\"\":\"\"}}";
    return sizeof frame - 1 + strlen(server_name) + strlen(key->key_id) +
           (HT_ED25519_SIGNATURE_BYTES * 4 + 2) / 3; /* unpadded base64 */
}

const char *ht_pdu_server_of(const char *user_id) {
    const char *colon = user_id ? strchr(user_id, ':') : NULL;
    return colon && colon[1] ? colon + 1 : NULL;
}

/* ---- signatures on receipt ------------------------------------------------ */

/* Checks server's signatures over the signed bytes; NULL if they pass. */
static const char *check_server(ht_arena *arena, json_t *signatures, const char *server, const char *text,
                                size_t len, int64_t ts, ht_pdu_key_lookup *lookup, void *ctx) {
    json_t *mine = json_object_get(signatures, server);
    if (!json_is_object(mine))
        return ht_arena_printf(arena, "The event carries no signature from %s.", server);
    int known = 0;
    const char *key_id;
    json_t *sig;
    json_object_foreach(mine, key_id, sig) {
        if (strncmp(key_id, "ed25519:", 8) != 0) continue; /* an algorithm we do not know */
        const char *public_key = lookup(ctx, server, key_id, ts);
        if (!public_key) continue;
        known++;
        if (!json_is_string(sig) || !ht_ed25519_verify(text, len, json_string_value(sig), public_key))
            return ht_arena_printf(arena, "The signature of %s with key %s does not verify.", server, key_id);
    }
    if (!known) return ht_arena_printf(arena, "The event is not signed by any key of %s that is known and valid.", server);
    return NULL;
}

size_t ht_pdu_signing_servers(json_t *pdu, const char *out[2]) {
    out[0] = out[1] = NULL;
    out[0] = ht_pdu_server_of(json_string_value(json_object_get(pdu, "sender")));
    if (!out[0]) return 0;
    /* A restricted join is vouched for by a resident server, which signs it. */
    json_t *content = json_object_get(pdu, "content");
    const char *type = json_string_value(json_object_get(pdu, "type"));
    const char *membership = json_string_value(json_object_get(content, "membership"));
    if (type && strcmp(type, "m.room.member") == 0 && membership && strcmp(membership, "join") == 0 &&
        json_object_get(content, "join_authorised_via_users_server")) {
        out[1] = ht_pdu_server_of(json_string_value(json_object_get(content, "join_authorised_via_users_server")));
        if (!out[1]) return 0;
        if (strcmp(out[1], out[0]) == 0) out[1] = NULL;
    }
    return out[1] ? 2 : 1;
}

const char *ht_pdu_check_signatures(ht_arena *arena, const ht_room_version *v, json_t *pdu,
                                    ht_pdu_key_lookup *lookup, void *ctx) {
    const char *servers[2];
    size_t server_count = ht_pdu_signing_servers(pdu, servers);
    if (!servers[0]) return "The event has no sender with a server name.";
    if (!server_count) return "join_authorised_via_users_server is not a user id.";

    json_t *redacted = ht_pdu_redact(v, pdu);
    json_t *signatures = json_incref(json_object_get(redacted, "signatures"));
    json_object_del(redacted, "signatures");
    json_object_del(redacted, "unsigned");
    size_t len;
    char *text = ht_canonical_json(redacted, &len, NULL);
    json_decref(redacted);
    const char *why = NULL;
    int64_t ts = json_integer_value(json_object_get(pdu, "origin_server_ts"));
    if (!text) why = "The event is not canonical JSON.";
    else if (!json_is_object(signatures)) why = "The event has no signatures.";
    for (size_t i = 0; i < server_count && !why; i++)
        why = check_server(arena, signatures, servers[i], text, len, ts, lookup, ctx);
    free(text);
    json_decref(signatures);
    return why;
}

/* ---- format on receipt ----------------------------------------------------- */

static bool short_string(json_t *v) {
    return json_is_string(v) && json_string_length(v) <= HT_PDU_MAX_FIELD_BYTES;
}

static bool id_with_sigil(json_t *v, char sigil) {
    return short_string(v) && json_string_value(v)[0] == sigil;
}

static const char *check_event_list(ht_arena *arena, json_t *pdu, const char *key, size_t max) {
    json_t *list = json_object_get(pdu, key);
    if (!json_is_array(list)) return ht_arena_printf(arena, "%s must be an array of event ids.", key);
    if (json_array_size(list) > max)
        return ht_arena_printf(arena, "%s lists %zu events; at most %zu are allowed.", key, json_array_size(list), max);
    for (size_t i = 0; i < json_array_size(list); i++)
        if (!id_with_sigil(json_array_get(list, i), '$'))
            return ht_arena_printf(arena, "%s[%zu] is not an event id of at most 255 bytes.", key, i);
    return NULL;
}

static const char *check_signatures_shape(json_t *signatures) {
    if (!json_is_object(signatures)) return "signatures must be an object.";
    const char *server;
    json_t *by_server;
    json_object_foreach(signatures, server, by_server) {
        if (!json_is_object(by_server)) return "Each server's signatures must be an object.";
        const char *key_id;
        json_t *sig;
        json_object_foreach(by_server, key_id, sig)
            if (!json_is_string(sig)) return "Each signature must be a string.";
    }
    return NULL;
}

const char *ht_pdu_check_format(ht_arena *arena, const ht_room_version *v, json_t *pdu) {
    if (!json_is_object(pdu)) return "The event is not a JSON object.";
    ht_canonical_error bad;
    if (!ht_canonical_check(pdu, &bad)) return ht_canonical_error_text(arena, &bad);
    ht_buf bytes = {0};
    bool written = ht_canonical_write(&bytes, pdu, &bad);
    size_t size = bytes.len;
    ht_buf_free(&bytes);
    if (!written) return ht_canonical_error_text(arena, &bad);
    if (size > HT_PDU_MAX_BYTES)
        return ht_arena_printf(arena, "The event is %zu bytes as canonical JSON; at most %d are allowed.", size,
                               HT_PDU_MAX_BYTES);

    if (!short_string(json_object_get(pdu, "type"))) return "type must be a string of at most 255 bytes.";
    json_t *state_key = json_object_get(pdu, "state_key");
    if (state_key && !short_string(state_key)) return "state_key must be a string of at most 255 bytes.";
    if (!id_with_sigil(json_object_get(pdu, "room_id"), '!'))
        return "room_id must be a room id of at most 255 bytes.";
    json_t *sender = json_object_get(pdu, "sender");
    if (!id_with_sigil(sender, '@') || !ht_pdu_server_of(json_string_value(sender)))
        return "sender must be a user id of at most 255 bytes.";
    if (!json_is_integer(json_object_get(pdu, "origin_server_ts"))) return "origin_server_ts must be an integer.";
    json_t *depth = json_object_get(pdu, "depth");
    if (!json_is_integer(depth) || json_integer_value(depth) < 0) return "depth must be a non-negative integer.";
    json_t *content = json_object_get(pdu, "content");
    if (!json_is_object(content)) return "content must be an object.";
    const char *why = check_event_list(arena, pdu, "prev_events", HT_PDU_MAX_PREV_EVENTS);
    if (!why) why = check_event_list(arena, pdu, "auth_events", HT_PDU_MAX_AUTH_EVENTS);
    if (why) return why;
    if (!json_is_string(json_object_get(json_object_get(pdu, "hashes"), "sha256")))
        return "hashes.sha256 must be a string.";
    if ((why = check_signatures_shape(json_object_get(pdu, "signatures")))) return why;
    json_t *unsigned_data = json_object_get(pdu, "unsigned");
    if (unsigned_data && !json_is_object(unsigned_data)) return "unsigned must be an object.";
    json_t *redacts = v->redacts_in_content ? json_object_get(content, "redacts") : json_object_get(pdu, "redacts");
    if (redacts && !id_with_sigil(redacts, '$'))
        return v->redacts_in_content ? "content.redacts must be an event id of at most 255 bytes."
                                     : "redacts must be an event id of at most 255 bytes.";
    return NULL;
}

/* ---- room version 10, for ht_room_send ---------------------------------- */

void ht_pdu_add_content_hash(ht_arena *arena, json_t *pdu) {
    (void)arena;
    ht_pdu_set_content_hash(pdu, NULL);
}

char *ht_pdu_event_id(ht_arena *arena, json_t *pdu) {
    return (char *)ht_pdu_id(arena, ht_room_version_get("10"), pdu, NULL);
}
