/* canonical_tool.c -- hometab's side of the differential test, and the
 * microbenchmark of event hashing and signing.
 *
 *   canonical-tool SEED_BASE64     answers one line per line read (below)
 *   canonical-tool bench [N]       times canonical JSON, hashes and signing
 *                                  of a typical 1 KB event, N times
 *
 * differential.py writes lines "OP<TAB>ARGS" and compares each answer with
 * what Synapse's own libraries compute. Answers are one line, fields split by
 * tabs, bytes in hex so that nothing in them can break the line:
 *
 *   C<TAB>json          any JSON value (U+0000 allowed): the validator's
 *                       verdict, its path, and the writer's bytes
 *                       -> "1|0<TAB>path<TAB>hex or -"
 *   E10|E11<TAB>json    an event, parsed strictly, then given its content
 *                       hash and signed by its sender's server with the key
 *                       from SEED (key id ed25519:1)
 *                       -> "ok<TAB>content hash<TAB>event id<TAB>hex of the
 *                          redacted form<TAB>hex of the signed event<TAB>
 *                          checks" or "refused<TAB>reason"
 *                       where checks is "hash,signature": does the hash
 *                       match, does the signature verify by hometab's own
 *                       receive-side checks (both must say 1)
 *   K<TAB>server<TAB>now          the key object for server at now
 *                                 -> "<canonical json>"
 *   V<TAB>server<TAB>now<TAB>json  checks a key object from server
 *                                 -> "ok<TAB>usable until" or "refused<TAB>reason" */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "room/pdu.h"
#include "room/server_key.h"
#include "util/canonical.h"
#include "util/crypto.h"
#include "util/signing.h"

static ht_signing_key key;

static void put_hex(const char *bytes, size_t len) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)bytes[i];
        putchar(digits[c >> 4]);
        putchar(digits[c & 15]);
    }
}

/* Tabs and newlines in a reason would break the line. */
static void put_text(const char *text) {
    for (; *text; text++) putchar(*text == '\t' || *text == '\n' ? ' ' : *text);
}

static void answer_value(const char *text) {
    json_error_t parse_error;
    json_t *value = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &parse_error);
    if (!value) {
        printf("0\tparse: ");
        put_text(parse_error.text);
        printf("\t-\n");
        return;
    }
    ht_canonical_error err;
    bool valid = ht_canonical_check(value, &err);
    printf("%d\t", valid);
    put_text(valid ? "" : err.path);
    putchar('\t');
    size_t len;
    char *bytes = ht_canonical_json(value, &len, NULL);
    if (bytes) put_hex(bytes, len);
    else putchar('-');
    putchar('\n');
    free(bytes);
    json_decref(value);
}

static const char *lookup_own_key(void *ctx, const char *server_name, const char *key_id, int64_t ts) {
    (void)server_name, (void)ts;
    return strcmp(key_id, key.key_id) == 0 ? ctx : NULL;
}

static void answer_event(const ht_room_version *v, const char *text, ht_arena *arena) {
    ht_canonical_error err;
    json_t *pdu = ht_canonical_parse(text, strlen(text), &err);
    const char *server = pdu ? ht_pdu_server_of(json_string_value(json_object_get(pdu, "sender"))) : NULL;
    if (!pdu || !json_is_object(pdu) || !server) {
        printf("refused\t");
        put_text(pdu ? "no sender with a server name" : ht_canonical_error_text(arena, &err));
        putchar('\n');
        json_decref(pdu);
        return;
    }
    const char *id = NULL;
    bool done = ht_pdu_set_content_hash(pdu, &err) && (id = ht_pdu_id(arena, v, pdu, &err)) &&
                ht_pdu_sign(v, pdu, server, &key);
    if (!done) {
        printf("refused\t");
        put_text(ht_canonical_error_text(arena, &err));
        putchar('\n');
        json_decref(pdu);
        return;
    }
    const char *sha256 = json_string_value(json_object_get(json_object_get(pdu, "hashes"), "sha256"));
    json_t *redacted = ht_pdu_redact(v, pdu);
    size_t redacted_len, signed_len;
    char *redacted_bytes = ht_canonical_json(redacted, &redacted_len, NULL);
    char *signed_bytes = ht_canonical_json(pdu, &signed_len, NULL);
    bool hash_ok = ht_pdu_content_hash_matches(pdu);
    bool signature_ok =
        !ht_pdu_check_signatures(arena, v, pdu, lookup_own_key, ht_signing_key_public_base64(arena, &key));
    printf("ok\t%s\t%s\t", sha256, id);
    put_hex(redacted_bytes, redacted_len);
    putchar('\t');
    put_hex(signed_bytes, signed_len);
    printf("\t%d,%d\n", hash_ok, signature_ok);
    free(redacted_bytes);
    free(signed_bytes);
    json_decref(redacted);
    json_decref(pdu);
}

static void answer_key_object(char *args, ht_arena *arena) {
    char *server = strtok(args, "\t"), *now = strtok(NULL, "\t"), *json = strtok(NULL, "");
    if (!server || !now) {
        printf("refused\tbad request line\n");
        return;
    }
    int64_t now_ms = strtoll(now, NULL, 10);
    if (!json) { /* K: make one */
        json_t *obj = ht_server_key_object(&key, server, now_ms);
        char *text = ht_canonical_json(obj, NULL, NULL);
        printf("%s\n", text);
        free(text);
        json_decref(obj);
        return;
    }
    ht_canonical_error err;
    json_t *obj = ht_canonical_parse(json, strlen(json), &err);
    int64_t until = 0;
    const char *why = obj ? ht_server_key_object_check(arena, obj, server, now_ms, &until)
                          : ht_canonical_error_text(arena, &err);
    if (why) {
        printf("refused\t");
        put_text(why);
        putchar('\n');
    } else {
        printf("ok\t%lld\n", (long long)until);
    }
    json_decref(obj);
}

/* ---- the microbenchmark ------------------------------------------------- */

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A message event as hometab stores it, about 1 KB as canonical JSON. */
static json_t *typical_event(void) {
    char body[601];
    for (size_t i = 0; i < sizeof body - 1; i++) body[i] = "Lorem ipsum dolor sit amet, consectetur "[i % 40];
    body[sizeof body - 1] = '\0';
    return json_pack(
        "{s:s, s:s, s:s, s:{s:s, s:s, s:{s:{s:s}}}, s:I, s:i, s:[s], s:[s,s,s], s:s}", "room_id",
        "!upwfoPQVFlSDRTHGdw:example.org", "sender", "@alice:example.org", "type", "m.room.message",
        "content", "msgtype", "m.text", "body", body, "m.relates_to", "m.in_reply_to", "event_id",
        "$Vau-CM-pXYzOkMe1XzJHOp5Uhl1Um8O7hQPIJ5JoSSs", "origin_server_ts", (json_int_t)1796569330885,
        "depth", 8, "prev_events", "$FxMdNXsYiI2pIQm9l1erz2v1E6VlCzZzgjffrwQUFXE", "auth_events",
        "$gshviWPuxcorRiJefn9OGssiYBdJcFKmImAM5Li_7WU", "$YngyRXkLHd78jPPRKjzlfk5kMckPHtEDlihmaSKe2us",
        "$zuuaK5kAL86GgtNZeAcvZee2LugrZ0F5Z_Hcxq6ziI0", "origin", "example.org");
}

static int bench(long n) {
    const ht_room_version *v = ht_room_version_get("10");
    json_t *event = typical_event();
    ht_pdu_set_content_hash(event, NULL);
    size_t size;
    free(ht_canonical_json(event, &size, NULL));
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    double stages[4] = {0}, jansson = 0, sealed = 0;
    for (long i = 0; i < n; i++) {
        double tj = now_seconds();
        free(json_dumps(event, JSON_COMPACT | JSON_SORT_KEYS));
        jansson += now_seconds() - tj;
        double t0 = now_seconds();
        char *text = ht_canonical_json(event, NULL, NULL);
        double t1 = now_seconds();
        ht_pdu_set_content_hash(event, NULL);
        double t2 = now_seconds();
        const char *id = ht_pdu_id(&arena, v, event, NULL);
        double t3 = now_seconds();
        json_object_del(event, "signatures");
        ht_pdu_sign(v, event, "example.org", &key);
        double t4 = now_seconds();
        stages[0] += t1 - t0, stages[1] += t2 - t1, stages[2] += t3 - t2, stages[3] += t4 - t3;
        if (!text || !id) return 1;
        free(text);
        /* The same three results for a new event, from one writing. */
        json_t *fresh = json_deep_copy(event);
        json_object_del(fresh, "hashes");
        json_object_del(fresh, "signatures");
        size_t len;
        double t5 = now_seconds();
        text = ht_pdu_seal(&arena, v, fresh, "example.org", NULL, &id, &len, NULL);
        sealed += now_seconds() - t5;
        json_decref(fresh);
        if (!text) return 1;
        free(text);
        ht_arena_reset(&arena);
    }
    const char *names[] = {"canonical JSON of the event", "content hash (canonical JSON + SHA-256)",
                           "event id (redact + canonical JSON + SHA-256)", "signature (redact + canonical JSON + ed25519)"};
    double total = 0;
    printf("event of %zu bytes as canonical JSON, %ld rounds\n", size, n);
    for (int i = 0; i < 4; i++) {
        printf("  %-48s %8.2f us\n", names[i], stages[i] / (double)n * 1e6);
        total += stages[i];
    }
    printf("  %-48s %8.2f us\n", "(jansson's json_dumps with sorted keys, before)", jansson / (double)n * 1e6);
    printf("  %-48s %8.2f us\n", "hash + id + signature, one event", (stages[1] + stages[2] + stages[3]) / (double)n * 1e6);
    printf("  %-48s %8.2f us\n", "hash + id + canonical JSON, apart", (stages[0] + stages[1] + stages[2]) / (double)n * 1e6);
    printf("  %-48s %8.2f us\n", "the same sealed at once (ht_pdu_seal)", sealed / (double)n * 1e6);
    (void)total;
    ht_arena_free(&arena);
    json_decref(event);
    return 0;
}

int main(int argc, char **argv) {
    if (!ht_crypto_init()) return 2;
    unsigned char seed[HT_ED25519_SEED_BYTES];
    const char *seed_text = argc > 1 && strcmp(argv[1], "bench") != 0 ? argv[1]
                                                                       : "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
    if (!ht_base64_decode_exact(seed_text, seed, sizeof seed) || !ht_signing_key_from_seed(&key, seed, "ed25519:1")) {
        fprintf(stderr, "usage: canonical-tool SEED_BASE64 | bench [N]\n");
        return 2;
    }
    if (argc > 1 && strcmp(argv[1], "bench") == 0) return bench(argc > 2 ? atol(argv[2]) : 20000);

    ht_arena arena;
    ht_arena_init(&arena, 4096);
    size_t cap = 0;
    char *line = NULL;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        if (line[got - 1] == '\n') line[--got] = '\0';
        char *tab = strchr(line, '\t');
        if (!tab) {
            printf("refused\tno tab\n");
            continue;
        }
        *tab = '\0';
        char *args = tab + 1;
        if (strcmp(line, "C") == 0) answer_value(args);
        else if (strcmp(line, "E10") == 0) answer_event(ht_room_version_get("10"), args, &arena);
        else if (strcmp(line, "E11") == 0) answer_event(ht_room_version_get("11"), args, &arena);
        else if (strcmp(line, "K") == 0 || strcmp(line, "V") == 0) answer_key_object(args, &arena);
        else printf("refused\tunknown operation\n");
        ht_arena_reset(&arena);
    }
    free(line);
    ht_arena_free(&arena);
    ht_signing_key_wipe(&key);
    return 0;
}
