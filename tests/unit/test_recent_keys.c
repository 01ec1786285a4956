/* test_recent_keys.c -- util/recent_keys: a key is remembered until its
 * time is up, and a full table forgets the key whose time ends soonest,
 * never growing. */
#include "unit.h"

#include <stdio.h>

#include "util/recent_keys.h"

static void test_a_key_is_remembered_until_its_time_is_up(void **state) {
    (void)state;
    ht_recent_keys *r = ht_recent_keys_new(4);
    assert_false(ht_recent_keys_has(r, "a.test/file", 1000));
    ht_recent_keys_put(r, "a.test/file", 2000);
    assert_true(ht_recent_keys_has(r, "a.test/file", 1000));
    assert_true(ht_recent_keys_has(r, "a.test/file", 1999));
    assert_false(ht_recent_keys_has(r, "a.test/file", 2000));
    assert_false(ht_recent_keys_has(r, "a.test/fil", 1000));
    /* Put again, it is remembered for longer, in the same place. */
    ht_recent_keys_put(r, "a.test/file", 5000);
    assert_true(ht_recent_keys_has(r, "a.test/file", 4000));
    ht_recent_keys_free(r);
}

static void test_a_full_table_forgets_the_key_whose_time_ends_soonest(void **state) {
    (void)state;
    ht_recent_keys *r = ht_recent_keys_new(3);
    ht_recent_keys_put(r, "late", 9000);
    ht_recent_keys_put(r, "soon", 3000);
    ht_recent_keys_put(r, "middle", 6000);
    ht_recent_keys_put(r, "new", 7000);
    assert_false(ht_recent_keys_has(r, "soon", 1000));
    assert_true(ht_recent_keys_has(r, "late", 1000));
    assert_true(ht_recent_keys_has(r, "middle", 1000));
    assert_true(ht_recent_keys_has(r, "new", 1000));
    /* Many more keys than places: the newest stay, the table does not grow
     * (the sanitizer build would see a leak of the keys it dropped). */
    char key[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "key %d", i);
        ht_recent_keys_put(r, key, 10000 + i);
    }
    assert_true(ht_recent_keys_has(r, "key 999", 1000));
    assert_true(ht_recent_keys_has(r, "key 997", 1000));
    assert_false(ht_recent_keys_has(r, "key 996", 1000));
    assert_false(ht_recent_keys_has(r, "late", 1000));
    ht_recent_keys_free(r);
    ht_recent_keys *none = ht_recent_keys_new(0);
    ht_recent_keys_put(none, "anything", 5000);
    assert_false(ht_recent_keys_has(none, "anything", 1000));
    ht_recent_keys_free(none);
}

int run_recent_keys_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_key_is_remembered_until_its_time_is_up),
        cmocka_unit_test(test_a_full_table_forgets_the_key_whose_time_ends_soonest),
    };
    return cmocka_run_group_tests_name("recent_keys", tests, NULL, NULL);
}
