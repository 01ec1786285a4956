/* test_glob.c -- the bounded glob matchers (util/glob.h): they agree with a
 * plain backtracking reference on many random small cases, they charge the
 * budget what they say, and hostile inputs cost linear work (or are
 * refused by the budget) instead of freezing the server; a name a body
 * matches always has its key among the body's words. */
#include "unit.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/glob.h"

/* ---- references: obviously right, exponential, for tiny inputs ---------- */

static bool ref_filter(const char *p, const char *t) {
    if (!*p) return !*t;
    if (*p == '*') return ref_filter(p + 1, t) || (*t && ref_filter(p, t + 1));
    return *t == *p && ref_filter(p + 1, t + 1);
}

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/* Whole match of p against t[0..n) (ASCII only here). */
static bool ref_push_whole(const char *p, const char *t, size_t n) {
    if (!*p) return n == 0;
    if (*p == '*') return ref_push_whole(p + 1, t, n) || (n && ref_push_whole(p, t + 1, n - 1));
    if (!n) return false;
    return (*p == '?' || lower(*p) == lower(*t)) && ref_push_whole(p + 1, t + 1, n - 1);
}

static bool word(char c) {
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool ref_push(const char *p, const char *t, bool words) {
    size_t n = strlen(t);
    if (!words) return ref_push_whole(p, t, n);
    for (size_t s = 0; s <= n; s++) {
        if (s && word(t[s - 1])) continue;
        for (size_t e = s; e <= n; e++) {
            if (e < n && word(t[e])) continue;
            if (ref_push_whole(p, t + s, e - s)) return true;
        }
    }
    return false;
}

static void random_string(char *out, size_t max, const char *alphabet) {
    size_t len = (size_t)rand() % (max + 1), k = strlen(alphabet);
    for (size_t i = 0; i < len; i++) out[i] = alphabet[(size_t)rand() % k];
    out[len] = '\0';
}

static void test_filter_glob_agrees_with_reference(void **state) {
    (void)state;
    srand(7);
    char p[12], t[14];
    for (int i = 0; i < 200000; i++) {
        random_string(p, 10, "ab*");
        random_string(t, 12, "ab");
        if (ht_glob_filter(p, t, NULL) != ref_filter(p, t)) fail_msg("filter glob '%s' vs '%s' disagrees", p, t);
    }
}

static void test_push_glob_agrees_with_reference(void **state) {
    (void)state;
    srand(11);
    char p[10], t[14];
    for (int i = 0; i < 100000; i++) {
        random_string(p, 8, "abA*? ");
        random_string(t, 12, "abA .");
        bool words = i % 2;
        if (ht_glob_push(p, t, words, false, NULL) != ref_push(p, t, words))
            fail_msg("push glob '%s' vs '%s' (words %d) disagrees", p, t, words);
    }
}

static void test_push_glob_without_wildcards_finds_words(void **state) {
    (void)state;
    assert_true(ht_glob_push("alice", "hi alice!", true, false, NULL));
    assert_true(ht_glob_push("ALICE", "alice", true, false, NULL));
    assert_false(ht_glob_push("alice", "malice and alices", true, false, NULL));
    /* The second occurrence is the word, after an overlapping false start. */
    assert_true(ht_glob_push("aab", "aaab aab", true, false, NULL));
    assert_true(ht_glob_push("bob", "é bob é", true, true, NULL));
    assert_false(ht_glob_push("bob", "ébob", true, true, NULL));
    assert_true(ht_glob_push("", "trailing ", true, false, NULL));
}

/* ---- name keys ------------------------------------------------------------ */

/* Is the name's key one of the body's words (or has the name no word)? */
static bool key_among_words(const char *name, const char *body) {
    char key[HT_PUSH_WORD_MAX + 1], word[HT_PUSH_WORD_MAX + 1];
    if (!ht_push_name_key(name, key)) return true;
    for (const char *t = body; ht_push_word_next(&t, word);)
        if (strcmp(word, key) == 0) return true;
    return false;
}

/* A send looks up only the members whose key is one of its words
 * (push_actions.c): every name a body matches as words must be among them. */
static void test_a_name_a_body_matches_has_its_key_among_the_body_words(void **state) {
    (void)state;
    srand(13);
    char name[10], body[16];
    int matched = 0;
    for (int i = 0; i < 200000; i++) {
        random_string(name, 8, "abA -.\xc3\xa9");
        random_string(body, 14, "abA -.\xc3\xa9");
        if (!*name || !ht_glob_push(name, body, true, true, NULL)) continue;
        matched++;
        if (!key_among_words(name, body)) fail_msg("'%s' matches '%s' but its key is not among its words", name, body);
    }
    assert_true(matched > 1000);
}

static void test_words_and_keys_fold_ascii_and_stop_at_whole_characters(void **state) {
    (void)state;
    char word[HT_PUSH_WORD_MAX + 1];
    const char *t = "  [Bot] \xc3\x81lvaro_2!";
    assert_int_equal(ht_push_word_next(&t, word), 3);
    assert_string_equal(word, "bot");
    assert_int_equal(ht_push_word_next(&t, word), 9);
    assert_string_equal(word, "\xc3\x81lvaro_2");
    assert_int_equal(ht_push_word_next(&t, word), 0);
    assert_int_equal(ht_push_name_key("-=-", word), 0);
    assert_int_equal(ht_push_name_key("- Zed -", word), 3);
    assert_string_equal(word, "zed");
    /* A word longer than a key is cut, never inside a character. */
    char long_word[400];
    memset(long_word, 'a', 254);
    memcpy(long_word + 254, "\xc3\xa9\xc3\xa9", 4);
    long_word[258] = '\0';
    assert_int_equal(ht_push_name_key(long_word, word), 254);
    memset(long_word, 'a', 300);
    long_word[300] = '\0';
    assert_int_equal(ht_push_name_key(long_word, word), HT_PUSH_WORD_MAX);
}

/* ---- the budget ----------------------------------------------------------- */

static void test_budget_is_charged_and_refuses_when_short(void **state) {
    (void)state;
    int64_t budget = 100;
    assert_true(ht_glob_filter("m.room.*", "m.room.message", &budget)); /* 8 + 14 + 1 */
    assert_int_equal(budget, 100 - 23);
    assert_false(ht_budget_spent(&budget));
    budget = 10;
    assert_false(ht_glob_filter("m.room.*", "m.room.message", &budget));
    assert_true(ht_budget_spent(&budget));
    /* Once spent, even a trivial match is refused. */
    assert_false(ht_glob_filter("", "", &budget));
    assert_true(ht_budget_take(NULL, INT64_MAX));
}

static void on_alarm(int sig) {
    (void)sig;
    static const char msg[] = "a glob match took more than 10 s\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(3);
}

static void test_hostile_inputs_cost_linear_work(void **state) {
    (void)state;
    signal(SIGALRM, on_alarm);
    alarm(10);
    /* 1 MiB of 'a' against literal runs that almost match everywhere: a
     * naive search looks at each run at every place (10^8 and more). */
    size_t n = 1 << 20;
    char *text = malloc(n + 1);
    memset(text, 'a', n);
    text[n] = '\0';
    char run[501];
    memset(run, 'a', 499);
    run[499] = 'b';
    run[500] = '\0';
    char pattern[1100];
    snprintf(pattern, sizeof pattern, "*%s*%s*", run, run);
    int64_t budget = HT_MATCH_BUDGET;
    for (int i = 0; i < 20; i++) assert_false(ht_glob_filter(pattern, text, &budget));
    assert_int_equal(budget, HT_MATCH_BUDGET - 20 * (int64_t)(strlen(pattern) + n + 1));
    budget = HT_MATCH_BUDGET;
    for (int i = 0; i < 20; i++) assert_false(ht_glob_push(run, text, true, false, &budget));
    /* With wildcards the NFA costs pattern x text, so the budget stops it:
     * this one match would cost 500 x 2^20 steps, more than one request
     * may spend. */
    text[n - 1] = 'b';
    snprintf(pattern, sizeof pattern, "a*%s", run);
    budget = HT_MATCH_BUDGET;
    assert_false(ht_glob_push(pattern, text, false, false, &budget));
    assert_true(ht_budget_spent(&budget));
    /* Without a budget it does finish, and it is right. */
    memset(text, 'a', n);
    text[100] = '\0';
    memcpy(text + 100 - 4, "aaab", 4);
    assert_true(ht_glob_push("a*a?b", text, false, false, NULL));
    free(text);
    alarm(0);
}

int run_glob_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_glob_agrees_with_reference),
        cmocka_unit_test(test_push_glob_agrees_with_reference),
        cmocka_unit_test(test_push_glob_without_wildcards_finds_words),
        cmocka_unit_test(test_a_name_a_body_matches_has_its_key_among_the_body_words),
        cmocka_unit_test(test_words_and_keys_fold_ascii_and_stop_at_whole_characters),
        cmocka_unit_test(test_budget_is_charged_and_refuses_when_short),
        cmocka_unit_test(test_hostile_inputs_cost_linear_work),
    };
    return cmocka_run_group_tests_name("glob", tests, NULL, NULL);
}
