/* test_key_names.c -- servers named by their keys (room/key_name.c, the
 * name settled at open in room/server_key.c, key names in
 * federation/keys.c): the encoding against the vectors js-bridge/p2p/names.js
 * is tested with (tests/p2p/names.test.mjs), the name a database keeps, and
 * two key-named servers sharing a room without ever fetching a key. */
#include "unit.h"
#include "temp_dir.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "federation_net.h"
#include "room/key_name.h"

/* RFC 8032's first test key, and its name and peer id in names.test.mjs. */
static const char rfc8032_public_hex[] = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char rfc8032_name[] = "25njqamcweflpvkl73j4szahhihoc4xt3ktcgjnpaingr5yhkena";

static void rfc8032_public(unsigned char key[32]) {
    size_t len = 0;
    assert_int_equal(sodium_hex2bin(key, 32, rfc8032_public_hex, 64, NULL, &len, NULL), 0);
    assert_int_equal(len, 32);
}

static void test_the_rfc8032_key_has_the_name_names_js_gives_it(void **state) {
    (void)state;
    unsigned char key[32], back[32];
    rfc8032_public(key);
    char name[HT_KEY_NAME_LEN + 1];
    ht_key_name(key, name);
    assert_string_equal(name, rfc8032_name);
    assert_true(ht_key_name_key(name, back));
    assert_memory_equal(back, key, 32);
    /* Every key round-trips, whatever its bits. */
    for (int i = 0; i < 200; i++) {
        randombytes_buf(key, sizeof key);
        ht_key_name(key, name);
        assert_int_equal(strlen(name), HT_KEY_NAME_LEN);
        assert_true(ht_key_name_key(name, back));
        assert_memory_equal(back, key, 32);
    }
}

static void test_a_domain_or_port_after_the_key_does_not_change_it(void **state) {
    (void)state;
    unsigned char key[32], got[32];
    rfc8032_public(key);
    char name[128];
    const char *const spellings[] = {"%s.p2p.example.org", "%s:8448", "%s.p2p.example.org:443"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(name, sizeof name, spellings[i], rfc8032_name);
        memset(got, 0, sizeof got);
        assert_true(ht_key_name_key(name, got));
        assert_memory_equal(got, key, 32);
    }
}

static void test_anything_else_is_not_a_key_name(void **state) {
    (void)state;
    char upper[64], short_name[64], long_name[64], spare_bits[64], before[80], empty_label[80], space[80],
        bad_port[80];
    for (size_t i = 0; i <= HT_KEY_NAME_LEN; i++)
        upper[i] = (char)(rfc8032_name[i] >= 'a' && rfc8032_name[i] <= 'z' ? rfc8032_name[i] - 32 : rfc8032_name[i]);
    snprintf(short_name, sizeof short_name, "%s", rfc8032_name + 1);
    snprintf(long_name, sizeof long_name, "%sa", rfc8032_name);
    /* The last character carries 4 bits that must be zero: one key, one name. */
    snprintf(spare_bits, sizeof spare_bits, "%.51sb", rfc8032_name);
    snprintf(before, sizeof before, "x.%s", rfc8032_name);
    snprintf(empty_label, sizeof empty_label, "%s..org", rfc8032_name);
    snprintf(space, sizeof space, "%s.ex ample.org", rfc8032_name);
    snprintf(bad_port, sizeof bad_port, "%s:844800", rfc8032_name);
    const char *const not_names[] = {"matrix.org", "127.0.0.1:8448", upper,       short_name, long_name,
                                     spare_bits,   before,           empty_label, space,      bad_port,
                                     "",           NULL};
    for (size_t i = 0; i < sizeof not_names / sizeof *not_names; i++) {
        if (ht_key_name_key(not_names[i], NULL)) fail_msg("taken for a key name: %s", not_names[i]);
    }
}

/* ---- the name a database keeps --------------------------------------------- */

/* Opens path (p2p: named by its key unless it has a name) and copies the
 * server's name into name. */
static void open_named(const char *path, bool p2p, const char *configured, char name[256]) {
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = path;
    cfg.wal = false;
    cfg.server_name = configured;
    cfg.name_from_key = p2p;
    char err[256];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    if (!core) fail_msg("open: %s", err);
    snprintf(name, 256, "%s", ht_core_server_name(core));
    /* The name is the seed's public key, as the transport derives it. */
    if (p2p && ht_key_name_key(name, NULL)) {
        unsigned char seed[32], public_key[32], secret[64];
        ht_core_signing_seed(core, seed);
        crypto_sign_seed_keypair(public_key, secret, seed);
        char expected[HT_KEY_NAME_LEN + 1];
        ht_key_name(public_key, expected);
        assert_string_equal(name, expected);
    }
    ht_core_close(core);
}

static void copy_file(const char *from, const char *to) {
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
}

static void test_a_new_p2p_database_is_named_by_its_key_and_keeps_the_name(void **state) {
    temp_dir *f = *state;
    char first[256], again[256], moved[256];
    open_named(f->path, true, "localhost:8008", first);
    assert_true(ht_key_name_key(first, NULL));
    open_named(f->path, true, "other.test", again); /* the configured name plays no part */
    assert_string_equal(again, first);
    copy_file(f->path, f->copy); /* an export, imported elsewhere: the identity goes along */
    open_named(f->copy, true, "elsewhere.test", moved);
    assert_string_equal(moved, first);
    /* Opened by a host not in p2p mode (the native server, or the demo
     * without ?p2p=1): a key name stays; no other name can stand for the key. */
    open_named(f->copy, false, "localhost:8008", moved);
    assert_string_equal(moved, first);
}

static void test_an_older_database_keeps_its_name_in_p2p_mode(void **state) {
    temp_dir *f = *state;
    char name[256];
    open_named(f->path, false, "localhost:8008", name);
    assert_string_equal(name, "localhost:8008");
    open_named(f->path, true, "ignored.test", name);
    assert_string_equal(name, "localhost:8008");
}

/* ---- two key-named servers ------------------------------------------------- */

static unsigned key_fetches;

static bool count_key_fetches(void *arg, const char *destination, const char *target, int *status, char **body) {
    (void)arg, (void)destination, (void)status, (void)body;
    if (strncmp(target, "/_matrix/key/", 13) == 0) key_fetches++;
    return false; /* carried as it is */
}

static int open_p2p_net(void **state) {
    net *n = calloc(1, sizeof *n);
    if (!net_open_p2p(n, 2)) return -1;
    n->liar = count_key_fetches;
    key_fetches = 0;
    *state = n;
    return 0;
}

static int close_net(void **state) {
    net_close(*state);
    free(*state);
    return 0;
}

static char *post_json(net *n, int i, const char *token, const char *path, json_t *body, const char *field) {
    reply r = net_call(n, i, "POST", path, token, body);
    json_decref(body);
    if (r.status != 200) fail_msg("%s: %d %s", path, r.status, json_dumps(r.json, 0));
    char *out = field ? strdup(json_string_value(json_object_get(r.json, field))) : NULL;
    reply_free(&r);
    return out;
}

static void test_key_named_servers_share_a_room_and_never_fetch_a_key(void **state) {
    net *n = *state;
    assert_true(ht_key_name_key(n->names[0], NULL) && ht_key_name_key(n->names[1], NULL));
    assert_string_not_equal(n->names[0], n->names[1]);
    char *alice = net_register(n, 0, "alice");
    char *bob = net_register(n, 1, "bob");
    char *room_id = post_json(n, 0, alice, "/_matrix/client/v3/createRoom",
                              json_pack("{s:s, s:s}", "preset", "private_chat", "name", "Keys"), "room_id");
    char path[512], bob_id[128];
    snprintf(bob_id, sizeof bob_id, "@bob:%s", n->names[1]);
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/invite", room_id);
    post_json(n, 0, alice, path, json_pack("{s:s}", "user_id", bob_id), NULL);
    snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/join", room_id);
    post_json(n, 1, bob, path, json_object(), NULL);
    /* Bob's first sync of the room shows the state he joined into (its
     * name), though his server logged it all at his join's position. */
    reply first = net_call(n, 1, "GET", "/_matrix/client/v3/sync", bob, NULL);
    assert_int_equal(first.status, 200);
    json_t *joined = json_object_get(json_object_get(json_object_get(first.json, "rooms"), "join"), room_id);
    char *state_json = json_dumps(json_object_get(joined, "state"), 0);
    assert_non_null(strstr(state_json, "\"m.room.name\""));
    assert_non_null(strstr(state_json, "\"m.room.create\""));
    assert_null(strstr(state_json, bob_id)); /* his join is in the timeline, not repeated here */
    free(state_json);
    reply_free(&first);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/send/m.room.message/k%d", room_id, i);
        json_t *body = json_pack("{s:s, s:s}", "msgtype", "m.text", "body", i ? "from bob" : "from alice");
        reply r = net_call(n, i, "PUT", path, i ? bob : alice, body);
        json_decref(body);
        assert_int_equal(r.status, 200);
        reply_free(&r);
    }
    net_pump(n);
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "/_matrix/client/v3/rooms/%s/messages?dir=b&limit=50", room_id);
        reply r = net_call(n, i, "GET", path, i ? bob : alice, NULL);
        assert_int_equal(r.status, 200);
        char *text = json_dumps(json_object_get(r.json, "chunk"), 0);
        assert_non_null(strstr(text, "from alice"));
        assert_non_null(strstr(text, "from bob"));
        free(text);
        reply_free(&r);
    }
    assert_int_equal(key_fetches, 0);
    free(room_id);
    free(alice);
    free(bob);
}

static void test_a_key_named_origin_signed_by_another_key_is_refused_without_a_fetch(void **state) {
    net *n = *state;
    /* Server 0 signs, but claims to be the RFC 8032 key's server. */
    char forged[2048], *origin;
    char *header;
    char target[512];
    snprintf(target, sizeof target, "/_matrix/federation/v1/query/profile?user_id=@x:%s", n->names[1]);
    header = net_xmatrix(n, 0, n->names[1], "GET", target, NULL);
    origin = strstr(header, n->names[0]);
    snprintf(forged, sizeof forged, "%.*s%s%s", (int)(origin - header), header, rfc8032_name,
             origin + strlen(n->names[0]));
    free(header);
    reply r = net_fed_call(n, 0, 1, "GET", target, NULL, forged);
    assert_int_equal(r.status, 401);
    assert_string_equal(json_string_value(json_object_get(r.json, "errcode")), "M_UNAUTHORIZED");
    reply_free(&r);
    assert_int_equal(key_fetches, 0);
}

int run_key_name_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_the_rfc8032_key_has_the_name_names_js_gives_it),
        cmocka_unit_test(test_a_domain_or_port_after_the_key_does_not_change_it),
        cmocka_unit_test(test_anything_else_is_not_a_key_name),
        cmocka_unit_test_setup_teardown(test_a_new_p2p_database_is_named_by_its_key_and_keeps_the_name, temp_dir_make,
                                        temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_an_older_database_keeps_its_name_in_p2p_mode, temp_dir_make,
                                        temp_dir_remove),
        cmocka_unit_test_setup_teardown(test_key_named_servers_share_a_room_and_never_fetch_a_key, open_p2p_net,
                                        close_net),
        cmocka_unit_test_setup_teardown(test_a_key_named_origin_signed_by_another_key_is_refused_without_a_fetch,
                                        open_p2p_net, close_net),
    };
    return cmocka_run_group_tests_name("key names", tests, NULL, NULL);
}
