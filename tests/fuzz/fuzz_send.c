/* fuzz_send.c -- libFuzzer target for the bodies of another server's
 * transactions, PUT /_matrix/federation/v1/send/{txnId}.
 *
 * Two cores in one process (tests/unit/federation_net.h): b.test, where bob
 * made a public room, and a.test, the server under test, where alice joined
 * it through b. Each input is the JSON body of a transaction b sends a; it
 * may name the room's events by placeholders, replaced before it is read:
 *
 *   @@ROOM@@    the room id           @@TIP@@     the newest event alice sees
 *   @@CREATE@@  the create event      @@POWER@@   the power levels event
 *   @@BOBJOIN@@ bob's join event      @@ALICEJOIN@@ alice's join event
 *   @@JOINRULES@@ the join rules      @@ALICE@@ / @@BOB@@  their user ids
 *
 * The one decision: a PDU sent by a user of b.test is hashed and signed
 * again with b's real key before it is sent, so fuzzed events get past the
 * signature check into the auth rules, state resolution and the store (an
 * input with "raw": true at its top is sent as it is, to fuzz the checks
 * before). A top-level "missing" list is what b answers to a's
 * get_missing_events (signed the same way): a gap filled with anything.
 * Every other request a makes of b is answered by b itself.
 *
 * Checked for every input: the answer is one the spec allows (200, or a
 * 400/401/403/413 refusal with an errcode), never a 500; and afterwards
 * alice still reads the room's state and timeline and can send to it (or,
 * if the input got her banned or kicked, is refused cleanly). The two cores
 * start afresh every few hundred inputs, or when alice left the room.
 * FUZZ_SEND_VERBOSE=1 prints each answer (to check what a seed reaches). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "room/pdu.h"
#include "room/room_version.h"

#include "../unit/federation_net.h"

static net n;
static bool ready;
static char *alice_token, *bob_token;
static char room_id[256], create_id[128], power_id[128], bob_join_id[128], alice_join_id[128], rules_id[128];
static unsigned inputs, txn_counter;
static json_t *missing; /* what b answers to get_missing_events this input */

static void check(bool ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_send: invariant broken: %s\n", what);
        abort();
    }
}

static const char *ALICE = "@alice:a.test", *BOB = "@bob:b.test";

static char *encode(const char *s) {
    static char out[1024];
    size_t o = 0;
    for (; *s && o + 4 < sizeof out; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("-._~", *s))
            out[o++] = *s;
        else
            o += (size_t)snprintf(out + o, sizeof out - o, "%%%02X", (unsigned char)*s);
    }
    out[o] = '\0';
    return out;
}

/* The id of the room's state event (type, state key) as b has it. */
static void state_id(const char *type, const char *state_key, char *out, size_t size) {
    char path[1024];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/state", encode(room_id));
    reply r = net_call(&n, 1, "GET", path, bob_token, NULL);
    check(r.status == 200 && json_is_array(r.json), "b answers its room's state");
    size_t i;
    json_t *e;
    json_array_foreach(r.json, i, e) {
        if (strcmp(json_string_value(json_object_get(e, "type")), type) == 0 &&
            strcmp(json_string_value(json_object_get(e, "state_key")), state_key) == 0)
            snprintf(out, size, "%s", json_string_value(json_object_get(e, "event_id")));
    }
    reply_free(&r);
    check(*out != '\0', type);
}

/* b answers get_missing_events with the input's list, when it has one. */
static bool liar(void *arg, const char *destination, const char *target, int *status, char **body) {
    (void)arg;
    if (!missing || strcmp(destination, "b.test") != 0 || !strstr(target, "/get_missing_events/")) return false;
    json_t *answer = json_pack("{s:O}", "events", missing);
    *status = 200;
    *body = json_dumps(answer, JSON_COMPACT);
    json_decref(answer);
    return true;
}

static void set_up(void) {
    check(net_open(&n, 2, (const char *[]){"a.test", "b.test"}), "the two cores open");
    n.liar = liar;
    alice_token = net_register(&n, 0, "alice");
    bob_token = net_register(&n, 1, "bob");
    json_t *body = json_pack("{s:s}", "preset", "public_chat");
    reply r = net_call(&n, 1, "POST", "/_matrix/client/v3/createRoom", bob_token, body);
    json_decref(body);
    check(r.status == 200, "bob creates a room");
    snprintf(room_id, sizeof room_id, "%s", json_string_value(json_object_get(r.json, "room_id")));
    reply_free(&r);
    char path[1024];
    snprintf(path, sizeof path, "/_matrix/client/v3/join/%s?server_name=b.test", encode(room_id));
    body = json_object();
    r = net_call(&n, 0, "POST", path, alice_token, body);
    json_decref(body);
    check(r.status == 200, "alice joins through b");
    reply_free(&r);
    net_pump(&n);
    *create_id = *power_id = *bob_join_id = *alice_join_id = *rules_id = '\0';
    state_id("m.room.create", "", create_id, sizeof create_id);
    state_id("m.room.join_rules", "", rules_id, sizeof rules_id);
    state_id("m.room.member", ALICE, alice_join_id, sizeof alice_join_id);
    state_id("m.room.power_levels", "", power_id, sizeof power_id);
    state_id("m.room.member", BOB, bob_join_id, sizeof bob_join_id);
    ready = true;
}

static void tear_down(void) {
    net_close(&n);
    free(alice_token);
    free(bob_token);
    ready = false;
}

/* The newest event in alice's timeline. */
static void tip(char *out, size_t size) {
    char path[1024];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/messages?dir=b&limit=1", encode(room_id));
    reply r = net_call(&n, 0, "GET", path, alice_token, NULL);
    check(r.status == 200 || r.status == 403, "alice's timeline answers");
    const char *id = json_string_value(json_object_get(json_array_get(json_object_get(r.json, "chunk"), 0), "event_id"));
    snprintf(out, size, "%s", id ? id : create_id);
    reply_free(&r);
}

/* Replaces the placeholders; the result is malloc'd and NUL-terminated. */
static char *substitute(const uint8_t *data, size_t size, const char *tip_id) {
    const struct { const char *name, *value; } subs[] = {
        {"@@ROOM@@", room_id}, {"@@TIP@@", tip_id},   {"@@CREATE@@", create_id}, {"@@POWER@@", power_id},
        {"@@BOBJOIN@@", bob_join_id}, {"@@ALICEJOIN@@", alice_join_id}, {"@@JOINRULES@@", rules_id},
        {"@@ALICE@@", ALICE}, {"@@BOB@@", BOB},
    };
    char *out = malloc(size * 40 + 1); /* no value is 40 times its placeholder */
    size_t o = 0;
    for (size_t i = 0; i < size;) {
        bool replaced = false;
        for (size_t k = 0; k < sizeof subs / sizeof *subs && !replaced; k++) {
            size_t nl = strlen(subs[k].name);
            if (size - i >= nl && memcmp(data + i, subs[k].name, nl) == 0) {
                size_t vl = strlen(subs[k].value);
                memcpy(out + o, subs[k].value, vl);
                o += vl;
                i += nl;
                replaced = true;
            }
        }
        if (!replaced) out[o++] = (char)data[i++];
    }
    out[o] = '\0';
    return out;
}

/* Hashes and signs again, as b, every PDU of list sent by a user of b. */
static void sign_as_b(json_t *list) {
    const ht_room_version *v10 = ht_room_version_get("10");
    size_t i;
    json_t *pdu;
    json_array_foreach(list, i, pdu) {
        const char *server = ht_pdu_server_of(json_string_value(json_object_get(pdu, "sender")));
        if (!json_is_object(pdu) || !server || strcmp(server, "b.test") != 0) continue;
        json_object_del(pdu, "signatures");
        json_object_del(pdu, "hashes");
        if (ht_pdu_set_content_hash(pdu, NULL)) /* not for what has no canonical form */
            ht_pdu_sign(v10, pdu, "b.test", &n.cores[1]->signing_key);
    }
}

/* Alice still reads the room and can write to it, unless the input made
 * her leave it (then false: start afresh). */
static bool alice_still_served(void) {
    char path[1024];
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/state", encode(room_id));
    reply r = net_call(&n, 0, "GET", path, alice_token, NULL);
    check(r.status == 200 || r.status == 403, "the room's state answers");
    bool member = r.status == 200;
    reply_free(&r);
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/probe%u", encode(room_id), inputs);
    json_t *body = json_pack("{s:s, s:s}", "msgtype", "m.text", "body", "still here");
    r = net_call(&n, 0, "PUT", path, alice_token, body);
    json_decref(body);
    check(r.status == 200 || r.status == 403, "alice's send answers 200 or 403");
    member = member && r.status == 200;
    reply_free(&r);
    net_pump(&n);
    return member;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (ready && ++inputs % 256 == 0) tear_down();
    if (!ready) set_up();
    char tip_id[128];
    tip(tip_id, sizeof tip_id);
    char *text = substitute(data, size, tip_id);
    json_t *body = json_loads(text, JSON_DECODE_ANY, NULL);
    free(text);
    if (!json_is_object(body)) {
        json_decref(body);
        return 0; /* not a transaction body: fuzz_canonical and fuzz_core read such bytes */
    }
    bool raw = json_is_true(json_object_get(body, "raw"));
    missing = json_incref(json_object_get(body, "missing"));
    if (!raw) {
        sign_as_b(json_object_get(body, "pdus"));
        sign_as_b(missing);
    }
    const char *given = json_string_value(json_object_get(body, "txn_id"));
    char target[512];
    char txn[64];
    snprintf(txn, sizeof txn, "fuzz%u", ++txn_counter);
    snprintf(target, sizeof target, "/_matrix/federation/v1/send/%s", encode(given && *given ? given : txn));
    reply r = net_fed_call(&n, 1, 0, "PUT", target, body, NULL);
    if (getenv("FUZZ_SEND_VERBOSE")) { /* for whoever writes seeds: what a made of it */
        char *answer = r.json ? json_dumps(r.json, JSON_COMPACT) : NULL;
        fprintf(stderr, "fuzz_send: %d %s\n", r.status, answer ? answer : "");
        free(answer);
    }
    json_decref(body);
    json_decref(missing);
    missing = NULL;
    check(r.status == 200 || r.status == 400 || r.status == 401 || r.status == 403 || r.status == 413,
          "the answer is 200 or a refusal");
    if (r.status == 200) check(json_is_object(json_object_get(r.json, "pdus")), "a 200 has its pdus results");
    else check(json_is_string(json_object_get(r.json, "errcode")), "a refusal has an errcode");
    reply_free(&r);
    if (!alice_still_served()) tear_down();
    return 0;
}
