/* seed_tool.c -- puts another server into a room of a stopped hometab's
 * database, through the rooms engine, so that tests can have a fake remote
 * server read from a native hometab before hometab can fetch other
 * servers' keys (its federation client is not wired to the core yet).
 *
 * Nothing is written around the engine: a key goes where a key fetch puts
 * it (store/federation.h), and an event goes through ht_room_receive, the
 * spec's checks on receipt, as /send and send_join call it.
 *
 *   fed-seed-tool DB SERVER_NAME < commands
 *
 * One JSON command a line in, one JSON answer a line out:
 *   {"key": {"server": S, "key_id": "ed25519:x", "key": BASE64}}  -> {"ok": true}
 *   {"events": ROOM_ID}   -> {"room_version": V, "events": [{"event_id", "pdu"}...]} (timeline order)
 *   {"receive": PDU}      -> {"event_id", "outcome", "reason", "missing"} */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <jansson.h>

#include "core/core.h"
#include "federation/federation.h"
#include "room/room.h"
#include "store/federation.h"
#include "store/rooms.h"
#include "util/json.h"

enum { KEY_VALID_MS = 7 * 24 * 3600 * 1000 };

static int64_t now_ms(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static const char *const outcomes[] = {
    [HT_RECEIVED_TIMELINE] = "timeline", [HT_RECEIVED_SOFT_FAILED] = "soft_failed",
    [HT_RECEIVED_REJECTED] = "rejected", [HT_RECEIVED_OUTLIER] = "outlier",
    [HT_RECEIVED_DUPLICATE] = "duplicate", [HT_RECEIVED_DROPPED] = "dropped",
    [HT_RECEIVED_MISSING] = "missing",
};

static json_t *put_key(ht_env *env, json_t *key) {
    const char *server = ht_json_str(key, "server"), *key_id = ht_json_str(key, "key_id"),
               *public_key = ht_json_str(key, "key");
    if (!server || !key_id || !public_key) return json_pack("{s:s}", "error", "key wants server, key_id and key");
    bool ok = ht_store_server_key_put(env->store, server, key_id, public_key, env->now_ms + KEY_VALID_MS, env->now_ms);
    return json_pack("{s:b}", "ok", ok);
}

static json_t *room_events(ht_env *env, const char *room_id) {
    ht_room_row room;
    if (!room_id || !ht_store_room_get(env->store, env->arena, room_id, &room))
        return json_pack("{s:s}", "error", "no such room");
    ht_event_row *rows;
    size_t n = ht_store_events_after(env->store, env->arena, room_id, 0, INT64_MAX, 100000, &rows);
    json_t *events = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(events, json_pack("{s:s, s:o}", "event_id", rows[i].event_id, "pdu",
                                                json_loads(rows[i].json, 0, NULL)));
    return json_pack("{s:s, s:o}", "room_version", room.version, "events", events);
}

static json_t *receive(ht_env *env, json_t *pdu) {
    ht_room_row room;
    const char *room_id = ht_json_str(pdu, "room_id");
    if (!room_id || !ht_store_room_get(env->store, env->arena, room_id, &room))
        return json_pack("{s:s}", "error", "no such room");
    ht_received r = ht_room_receive(env, room.version, pdu, ht_fed_cached_key, env, NULL);
    json_t *missing = json_array();
    for (size_t i = 0; i < r.missing_count; i++) json_array_append_new(missing, json_string(r.missing[i]));
    return json_pack("{s:s?, s:s, s:s?, s:o}", "event_id", r.event_id, "outcome", outcomes[r.outcome], "reason",
                     r.reason, "missing", missing);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fed-seed-tool DB SERVER_NAME < commands\n");
        return 2;
    }
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = argv[1];
    cfg.server_name = argv[2];
    char err[256];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    if (!core) {
        fprintf(stderr, "fed-seed-tool: %s\n", err);
        return 4;
    }
    char *line = NULL;
    size_t cap = 0;
    int status = 0;
    while (getline(&line, &cap, stdin) > 0) {
        json_t *command = json_loads(line, 0, NULL);
        ht_arena_reset(&core->arena);
        ht_env *env = &core->env;
        env->now_ms = now_ms();
        json_t *answer;
        if (!command || !ht_store_begin(env->store)) {
            answer = json_pack("{s:s}", "error", "not a JSON command, or the database cannot be written");
        } else {
            json_t *arg;
            if ((arg = json_object_get(command, "key"))) answer = put_key(env, arg);
            else if ((arg = json_object_get(command, "events"))) answer = room_events(env, json_string_value(arg));
            else if ((arg = json_object_get(command, "receive"))) answer = receive(env, arg);
            else answer = json_pack("{s:s}", "error", "unknown command");
            if (ht_store_failed(env->store) || !ht_store_commit(env->store)) {
                ht_store_rollback(env->store);
                json_decref(answer);
                answer = json_pack("{s:s}", "error", "the database failed");
            }
        }
        if (json_object_get(answer, "error")) status = 1;
        char *text = json_dumps(answer, JSON_COMPACT);
        printf("%s\n", text);
        free(text);
        json_decref(answer);
        json_decref(command);
    }
    free(line);
    ht_core_close(core);
    return status;
}
