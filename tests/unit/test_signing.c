/* test_signing.c -- signing JSON (util/signing.c) against the spec's test
 * vectors, and the server signing key (room/server_key.c): kept in the
 * database, the same after a reopen or a copy of the file, published as a
 * self-signed key object that never carries the seed, and the checks on key
 * objects from other servers. */
#include "unit.h"
#include "temp_dir.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "room/server_key.h"
#include "store/meta.h"
#include "util/canonical.h"
#include "util/signing.h"

/* The spec's test seed (appendices, "Cryptographic Test Vectors"). */
static const char spec_seed[] = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";

static ht_signing_key spec_key(void) {
    unsigned char seed[HT_ED25519_SEED_BYTES];
    assert_true(ht_base64_decode_exact(spec_seed, seed, sizeof seed));
    ht_signing_key key;
    assert_true(ht_signing_key_from_seed(&key, seed, "ed25519:1"));
    return key;
}

static const char *signature_of(json_t *obj, const char *entity, const char *key_id) {
    return json_string_value(json_object_get(json_object_get(json_object_get(obj, "signatures"), entity), key_id));
}

static void test_spec_vectors_sign_the_empty_object(void **state) {
    (void)state;
    ht_signing_key key = spec_key();
    json_t *obj = json_object();
    assert_true(ht_json_sign(obj, "domain", &key));
    assert_string_equal(signature_of(obj, "domain", "ed25519:1"),
                        "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ");
    assert_int_equal(json_object_size(obj), 1);
    json_decref(obj);
}

static void test_spec_vectors_sign_an_object_with_data(void **state) {
    (void)state;
    ht_signing_key key = spec_key();
    json_t *obj = json_pack("{s:i, s:s}", "one", 1, "two", "Two");
    assert_true(ht_json_sign(obj, "domain", &key));
    assert_string_equal(signature_of(obj, "domain", "ed25519:1"),
                        "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw");
    json_decref(obj);
}

static void test_signature_verifies_with_the_public_key_and_nothing_else(void **state) {
    (void)state;
    ht_signing_key key = spec_key();
    ht_arena arena;
    ht_arena_init(&arena, 1024);
    const char *public_key = ht_signing_key_public_base64(&arena, &key);
    json_t *obj = json_pack("{s:i, s:s}", "one", 1, "two", "Two");
    ht_json_sign(obj, "domain", &key);
    assert_true(ht_json_signature_valid(obj, "domain", "ed25519:1", public_key));
    assert_false(ht_json_signature_valid(obj, "other", "ed25519:1", public_key));
    assert_false(ht_json_signature_valid(obj, "domain", "ed25519:2", public_key));
    /* Another key: a valid key, but not the one that signed. */
    unsigned char other_seed[HT_ED25519_SEED_BYTES] = {1};
    ht_signing_key other;
    ht_signing_key_from_seed(&other, other_seed, "ed25519:1");
    assert_false(ht_json_signature_valid(obj, "domain", "ed25519:1", ht_signing_key_public_base64(&arena, &other)));
    /* Unsigned data may change; signed data may not. */
    json_object_set_new(obj, "unsigned", json_pack("{s:i}", "age", 5));
    assert_true(ht_json_signature_valid(obj, "domain", "ed25519:1", public_key));
    json_object_set_new(obj, "one", json_integer(2));
    assert_false(ht_json_signature_valid(obj, "domain", "ed25519:1", public_key));
    json_decref(obj);
    ht_arena_free(&arena);
}

static void test_signing_keeps_other_signatures_and_unsigned(void **state) {
    (void)state;
    ht_signing_key key = spec_key();
    json_t *obj = json_pack("{s:i, s:{s:{s:s}}, s:{s:i}}", "one", 1, "signatures", "someone", "ed25519:x", "abc",
                            "unsigned", "age_ts", 5);
    assert_true(ht_json_sign(obj, "domain", &key));
    assert_string_equal(signature_of(obj, "someone", "ed25519:x"), "abc");
    assert_non_null(signature_of(obj, "domain", "ed25519:1"));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(obj, "unsigned"), "age_ts")), 5);
    /* Neither other signatures nor unsigned are covered: the signature is
     * that of {"one":1}. */
    json_t *bare = json_pack("{s:i}", "one", 1);
    ht_json_sign(bare, "domain", &key);
    assert_string_equal(signature_of(obj, "domain", "ed25519:1"), signature_of(bare, "domain", "ed25519:1"));
    json_decref(bare);
    json_decref(obj);
}

static void test_non_canonical_objects_are_not_signed(void **state) {
    (void)state;
    ht_signing_key key = spec_key();
    json_t *floats = json_pack("{s:f}", "x", 1.5);
    assert_false(ht_json_sign(floats, "domain", &key));
    assert_null(json_object_get(floats, "signatures"));
    json_t *bad_signatures = json_pack("{s:s}", "signatures", "not an object");
    assert_false(ht_json_sign(bad_signatures, "domain", &key));
    json_decref(floats);
    json_decref(bad_signatures);
}

static void test_base64_with_padding_or_spare_bits_decodes(void **state) {
    (void)state;
    unsigned char a[HT_ED25519_SEED_BYTES], b[HT_ED25519_SEED_BYTES];
    /* The spec seed's last character has its two unused bits set. */
    assert_true(ht_base64_decode_exact(spec_seed, a, sizeof a));
    assert_true(ht_base64_decode_exact("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA0=", b, sizeof b));
    assert_memory_equal(a, b, sizeof a);
    assert_false(ht_base64_decode_exact("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA", a, sizeof a));
    assert_false(ht_base64_decode_exact("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3X=A1", a, sizeof a));
    assert_false(ht_base64_decode_exact("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3X*A", a, sizeof a));
}

/* ---- the server's key ---------------------------------------------------- */

static ht_store *open_store(const char *path) {
    char err[256];
    ht_store *store = ht_store_open(path, false, err, sizeof err);
    assert_non_null(store);
    assert_true(ht_server_key_ensure(store, err, sizeof err));
    return store;
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

static void test_server_key_is_created_once_and_travels_with_the_database(void **state) {
    temp_dir *f = *state;
    ht_store *store = open_store(f->path);
    ht_signing_key first;
    assert_true(ht_server_key_load(store, &first));
    assert_true(strncmp(first.key_id, "ed25519:", 8) == 0);
    assert_int_equal(strlen(first.key_id), 16);
    /* The version part is [a-zA-Z0-9_], as the spec asks. */
    for (const char *c = first.key_id + 8; *c; c++) assert_true(strchr("0123456789abcdef", *c) != NULL);
    ht_store_close(store);

    store = open_store(f->path); /* a restart: the same key */
    ht_signing_key again;
    assert_true(ht_server_key_load(store, &again));
    assert_string_equal(again.key_id, first.key_id);
    assert_memory_equal(again.public_key, first.public_key, sizeof first.public_key);
    ht_store_close(store);

    copy_file(f->path, f->copy); /* an export, opened elsewhere */
    store = open_store(f->copy);
    ht_signing_key moved;
    assert_true(ht_server_key_load(store, &moved));
    assert_memory_equal(moved.public_key, first.public_key, sizeof first.public_key);
    ht_store_close(store);
}

static void test_two_databases_get_two_keys(void **state) {
    (void)state;
    char err[256];
    ht_store *a = ht_store_open(":memory:", false, err, sizeof err), *b = ht_store_open(":memory:", false, err, sizeof err);
    ht_signing_key ka, kb;
    assert_false(ht_server_key_load(a, &ka)); /* nothing before the first ensure */
    assert_true(ht_server_key_ensure(a, err, sizeof err) && ht_server_key_ensure(b, err, sizeof err));
    assert_true(ht_server_key_load(a, &ka) && ht_server_key_load(b, &kb));
    assert_memory_not_equal(ka.public_key, kb.public_key, sizeof ka.public_key);
    ht_store_close(a);
    ht_store_close(b);
}

static void test_a_damaged_seed_is_reported_not_replaced(void **state) {
    (void)state;
    char err[256];
    ht_store *store = ht_store_open(":memory:", false, err, sizeof err);
    assert_true(ht_store_meta_add(store, "server_signing_seed_ed25519", "not base64 of 32 bytes"));
    assert_false(ht_server_key_ensure(store, err, sizeof err));
    assert_non_null(strstr(err, "damaged"));
    char kept[64];
    assert_true(ht_store_meta_get(store, "server_signing_seed_ed25519", kept, sizeof kept));
    assert_string_equal(kept, "not base64 of 32 bytes");
    ht_store_close(store);
}

static const int64_t now = 1796569330885;

static void test_key_object_is_self_signed_and_never_carries_the_seed(void **state) {
    (void)state;
    char err[256];
    ht_store *store = ht_store_open(":memory:", false, err, sizeof err);
    ht_server_key_ensure(store, err, sizeof err);
    ht_signing_key key;
    ht_server_key_load(store, &key);
    char seed_text[64];
    assert_true(ht_store_meta_get(store, "server_signing_seed_ed25519", seed_text, sizeof seed_text));

    json_t *obj = ht_server_key_object(&key, "example.org", now);
    assert_string_equal(json_string_value(json_object_get(obj, "server_name")), "example.org");
    assert_int_equal(json_integer_value(json_object_get(obj, "valid_until_ts")), now + 7 * 24 * 3600 * 1000LL);
    assert_int_equal(json_object_size(json_object_get(obj, "old_verify_keys")), 0);
    json_t *verify_keys = json_object_get(obj, "verify_keys");
    assert_int_equal(json_object_size(verify_keys), 1);
    ht_arena arena;
    ht_arena_init(&arena, 1024);
    assert_string_equal(json_string_value(json_object_get(json_object_get(verify_keys, key.key_id), "key")),
                        ht_signing_key_public_base64(&arena, &key));
    assert_int_equal(json_object_size(obj), 5);

    /* Neither the seed's text nor the secret key's bytes, in any form. */
    char *text = ht_canonical_json(obj, NULL, NULL);
    assert_null(strstr(text, seed_text));
    char secret_b64[128];
    sodium_bin2base64(secret_b64, sizeof secret_b64, key.secret, 32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    assert_null(strstr(text, secret_b64));
    free(text);

    int64_t until = 0;
    assert_null(ht_server_key_object_check(&arena, obj, "example.org", now, &until));
    assert_int_equal(until, now + 7 * 24 * 3600 * 1000LL);
    json_decref(obj);
    ht_arena_free(&arena);
    ht_store_close(store);
}

static void test_key_objects_from_elsewhere_are_checked(void **state) {
    (void)state;
    ht_signing_key key = spec_key();
    ht_arena arena;
    ht_arena_init(&arena, 1024);
    int64_t until;

    json_t *good = ht_server_key_object(&key, "domain", now);
    assert_null(ht_server_key_object_check(&arena, good, "domain", now + 1000, &until));
    /* Asked of another server: not its keys. */
    assert_non_null(ht_server_key_object_check(&arena, good, "other.test", now, &until));
    /* Expired. */
    assert_non_null(ht_server_key_object_check(&arena, good, "domain", now + 8 * 24 * 3600 * 1000LL, &until));
    /* Tampered after signing. */
    json_t *tampered = json_deep_copy(good);
    json_object_set_new(tampered, "valid_until_ts", json_integer(now + 30LL * 24 * 3600 * 1000));
    assert_non_null(ht_server_key_object_check(&arena, tampered, "domain", now, &until));
    /* Signed only by a key it does not list. */
    unsigned char other_seed[HT_ED25519_SEED_BYTES] = {7};
    ht_signing_key other;
    ht_signing_key_from_seed(&other, other_seed, "ed25519:other");
    json_t *stranger = json_deep_copy(good);
    json_object_del(stranger, "signatures");
    ht_json_sign(stranger, "domain", &other);
    assert_non_null(ht_server_key_object_check(&arena, stranger, "domain", now, &until));
    /* Unsigned, or with no usable key. */
    json_t *unsigned_obj = json_deep_copy(good);
    json_object_del(unsigned_obj, "signatures");
    assert_non_null(ht_server_key_object_check(&arena, unsigned_obj, "domain", now, &until));
    json_t *no_keys = json_pack("{s:s, s:{}, s:I}", "server_name", "domain", "verify_keys", "valid_until_ts",
                                (json_int_t)(now + 1000));
    ht_json_sign(no_keys, "domain", &key);
    assert_non_null(ht_server_key_object_check(&arena, no_keys, "domain", now, &until));
    /* Valid for a year: trusted for 7 days only. */
    json_t *long_lived = json_deep_copy(good);
    json_object_del(long_lived, "signatures");
    json_object_set_new(long_lived, "valid_until_ts", json_integer(now + 365LL * 24 * 3600 * 1000));
    ht_json_sign(long_lived, "domain", &key);
    assert_null(ht_server_key_object_check(&arena, long_lived, "domain", now, &until));
    assert_int_equal(until, now + 7 * 24 * 3600 * 1000LL);

    json_t *all[] = {good, tampered, stranger, unsigned_obj, no_keys, long_lived};
    for (size_t i = 0; i < 6; i++) json_decref(all[i]);
    ht_arena_free(&arena);
}

int run_signing_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_vectors_sign_the_empty_object),
        cmocka_unit_test(test_spec_vectors_sign_an_object_with_data),
        cmocka_unit_test(test_signature_verifies_with_the_public_key_and_nothing_else),
        cmocka_unit_test(test_signing_keeps_other_signatures_and_unsigned),
        cmocka_unit_test(test_non_canonical_objects_are_not_signed),
        cmocka_unit_test(test_base64_with_padding_or_spare_bits_decodes),
        cmocka_unit_test_setup_teardown(test_server_key_is_created_once_and_travels_with_the_database, temp_dir_make,
                                        temp_dir_remove),
        cmocka_unit_test(test_two_databases_get_two_keys),
        cmocka_unit_test(test_a_damaged_seed_is_reported_not_replaced),
        cmocka_unit_test(test_key_object_is_self_signed_and_never_carries_the_seed),
        cmocka_unit_test(test_key_objects_from_elsewhere_are_checked),
    };
    return cmocka_run_group_tests_name("signing", tests, NULL, NULL);
}
