/* redaction.c -- the redaction algorithms of room versions 10 and 11.
 *
 * A redacted event keeps only the top-level keys needed to keep the room's
 * history and authorization intact, and of its content only the keys that
 * matter to authorization for its type. The algorithm is part of the room
 * version, not a detail: an event's id is the hash of its redacted form and
 * its signature covers that form, so two servers that redact differently
 * disagree on ids and reject each other's events.
 * Spec: content/rooms/fragments/v9-redactions.md (v10), v11-redactions.md. */
#include "room/pdu.h"

#include <string.h>

#include "room/room.h"

/* Kept by every version; v10 also keeps the three of version_10_only. */
static const char *const kept_top_level[] = {
    "event_id", "type",        "room_id",     "sender",      "state_key",       "content",
    "hashes",   "signatures",  "depth",       "prev_events", "auth_events",     "origin_server_ts",
};
static const char *const version_10_only[] = {"origin", "membership", "prev_state"};

enum { MAX_KEPT = 10 };

typedef struct kept_keys {
    const char *type;
    const char *keys[MAX_KEPT];
} kept_keys;

static const kept_keys kept_content[] = {
    {"m.room.member", {"membership", "join_authorised_via_users_server"}},
    {"m.room.join_rules", {"join_rule", "allow"}},
    {"m.room.power_levels",
     {"ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"}},
    {"m.room.history_visibility", {"history_visibility"}},
};

/* Copies the value, or shares it (a view, read only: see ht_pdu_redact_view). */
static void keep(json_t *to, json_t *from, const char *key, bool share) {
    json_t *v = json_object_get(from, key);
    if (v) json_object_set_new(to, key, share ? json_incref(v) : json_deep_copy(v));
}

static bool is(const char *type, const char *name) { return type && strcmp(type, name) == 0; }

static json_t *redacted_content(const ht_room_version *v, const char *type, json_t *content, bool share) {
    if (is(type, "m.room.create") && v->redaction_keeps_create_content)
        return !content ? json_object() : share ? json_incref(content) : json_deep_copy(content);
    json_t *kept = json_object();
    if (!json_is_object(content)) return kept;
    for (size_t i = 0; i < sizeof kept_content / sizeof *kept_content; i++) {
        if (!is(type, kept_content[i].type)) continue;
        for (size_t k = 0; k < MAX_KEPT && kept_content[i].keys[k]; k++) keep(kept, content, kept_content[i].keys[k], share);
    }
    if (is(type, "m.room.create")) keep(kept, content, "creator", share);
    if (is(type, "m.room.power_levels") && v->redaction_keeps_pl_invite) keep(kept, content, "invite", share);
    if (is(type, "m.room.redaction") && v->redaction_keeps_redacts) keep(kept, content, "redacts", share);
    if (is(type, "m.room.member") && v->redaction_keeps_tpi_signed) {
        /* Only the part that auth needs; an object without "signed" leaves an
         * empty object behind, as Synapse (the reference) does. */
        json_t *tpi = json_object_get(content, "third_party_invite");
        if (json_is_object(tpi)) {
            json_t *only = json_object();
            keep(only, tpi, "signed", share);
            json_object_set_new(kept, "third_party_invite", only);
        }
    }
    return kept;
}

bool ht_pdu_redaction_keeps(const ht_room_version *v, const char *key) {
    for (size_t i = 0; i < sizeof kept_top_level / sizeof *kept_top_level; i++)
        if (strcmp(key, kept_top_level[i]) == 0) return true;
    if (v->redaction_keeps_origin)
        for (size_t i = 0; i < sizeof version_10_only / sizeof *version_10_only; i++)
            if (strcmp(key, version_10_only[i]) == 0) return true;
    return false;
}

static json_t *redact(const ht_room_version *v, json_t *pdu, bool share) {
    json_t *out = json_object();
    const char *key;
    json_t *value;
    json_object_foreach(pdu, key, value) {
        if (ht_pdu_redaction_keeps(v, key)) keep(out, pdu, key, share);
    }
    const char *type = json_string_value(json_object_get(pdu, "type"));
    json_object_set_new(out, "content", redacted_content(v, type, json_object_get(pdu, "content"), share));
    return out;
}

json_t *ht_pdu_redact(const ht_room_version *v, json_t *pdu) { return redact(v, pdu, false); }

json_t *ht_pdu_redacted_content_view(const ht_room_version *v, const char *type, json_t *content) {
    return redacted_content(v, type, content, true);
}

json_t *ht_pdu_redact_view(const ht_room_version *v, json_t *pdu) { return redact(v, pdu, true); }

json_t *ht_redact_event(json_t *pdu) { return ht_pdu_redact(ht_room_version_get("10"), pdu); }
