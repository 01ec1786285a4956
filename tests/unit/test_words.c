/* test_words.c -- util/words: the one rule that cuts what is indexed and
 * what is searched (folding, the cut, malformed input). */
#include "unit.h"

#include "util/utf8.h"
#include "util/words.h"

/* The words of text, joined by '|'. */
static const char *words_of(const char *text) {
    static char out[1024];
    char word[HT_WORD_MAX_BYTES + 1];
    size_t len = 0;
    out[0] = '\0';
    for (size_t n; (n = ht_word_next(&text, word)) > 0;) {
        assert_int_equal(n, strlen(word));
        assert_true(len + n + 2 < sizeof out);
        if (len) out[len++] = '|';
        memcpy(out + len, word, n + 1);
        len += n;
    }
    return out;
}

static void test_words_are_runs_of_letters_digits_and_underscores(void **state) {
    (void)state;
    assert_string_equal(words_of("Hello, World! it's 2 o'clock_now."), "hello|world|it|s|2|o|clock_now");
    assert_string_equal(words_of("\"alpha\" AND (beta* OR NEAR"), "alpha|and|beta|or|near");
    assert_string_equal(words_of("  ...  "), "");
    assert_string_equal(words_of(""), "");
}

static void test_case_and_accents_fold(void **state) {
    (void)state;
    assert_string_equal(words_of("Café ÀÉÎÕÜ Ærø ŁÓDŹ Straße"), "cafe|aeiou|æro|lodz|straße");
    assert_string_equal(words_of("ΚΑΛΗΜΕΡΑ Привет Ёж"), "καλημερα|привет|ёж");
    /* Combining accents (decomposed text) are dropped; a run of them
     * alone is no word, and the words after it are still found. */
    assert_string_equal(words_of("Cafe\xcc\x81 \xcc\x81\xcc\x81 next"), "cafe|next");
    assert_string_equal(words_of("日本語 テキスト"), "日本語|テキスト");
}

static void test_long_words_are_cut_at_a_character_boundary(void **state) {
    (void)state;
    char text[300];
    memset(text, 'A', 100);
    strcpy(text + 100, " b");
    char expect[HT_WORD_MAX_BYTES + 3];
    memset(expect, 'a', HT_WORD_MAX_BYTES);
    strcpy(expect + HT_WORD_MAX_BYTES, "|b");
    assert_string_equal(words_of(text), expect);
    /* 63 ASCII bytes and then two-byte letters (that fold to none): the
     * first would end past the limit, so the word stops at 63 bytes, never
     * half a letter. An accented Latin letter folds to one byte and fits. */
    memset(text, 'x', 63);
    strcpy(text + 63, "жжжж");
    assert_int_equal(strlen(words_of(text)), 63);
    strcpy(text + 63, "éжж");
    assert_int_equal(strlen(words_of(text)), 64);
}

static void test_malformed_text_is_read_byte_by_byte(void **state) {
    (void)state;
    /* A lead byte without its continuation, a stray continuation, a lead
     * byte cut by the text's end: each is a character of its own (read as
     * Latin-1), the scan stops at the end, and the words are valid UTF-8. */
    const char *w = words_of("a\xc3 b\x80 \xf0\x9f");
    assert_string_equal(w, "aa|b\xc2\x80|\xc3\xb0\xc2\x9f");
    assert_true(ht_utf8_valid((const unsigned char *)w, strlen(w)));
    /* An overlong '/', a surrogate, a value past U+10FFFF, bytes no UTF-8
     * has: still words of well-formed UTF-8. */
    const char *bad[] = {"a\xc0\xaf" "b", "\xed\xa0\x80x", "\xf4\x90\x80\x80y", "\xf8\x88\x80\x80\x80z", "\xff\xfe"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        w = words_of(bad[i]);
        assert_true(strlen(w) > 0);
        assert_true(ht_utf8_valid((const unsigned char *)w, strlen(w)));
    }
}

int run_words_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words_are_runs_of_letters_digits_and_underscores),
        cmocka_unit_test(test_case_and_accents_fold),
        cmocka_unit_test(test_long_words_are_cut_at_a_character_boundary),
        cmocka_unit_test(test_malformed_text_is_read_byte_by_byte),
    };
    return cmocka_run_group_tests_name("words", tests, NULL, NULL);
}
