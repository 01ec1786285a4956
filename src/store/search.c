/* search.c -- the full-text index (see search.h).
 *
 * event_words holds, for each word an event says, how often it says it.
 * The design decision: the one tokenizer is C (util/words.h). The live path
 * below calls it directly; migration 15, which indexes the events stored
 * before it, reaches it as the SQL function words(text), a JSON array of
 * the text's words. So both index exactly alike. A search looks each asked
 * word up as a prefix range of the (word, stream) key. */
#include "store/search.h"

#include <stdlib.h>
#include <string.h>

#include "store/db.h"
#include "util/buf.h"
#include "util/oom.h"
#include "util/words.h"

/* words(text): the words of text as a JSON array ("[]" for what is not
 * text). Words hold no '"', '\\' or control characters, so they need no
 * escaping. A word costs at most twice the bytes it was read from (a
 * stray byte of malformed text becomes a two-byte character) and three
 * more ('"', '"', ','), and two words are at least one byte apart, so
 * 4 * len + 4 bytes always suffice. */
static void words_function(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    const char *text = sqlite3_value_type(argv[0]) == SQLITE_TEXT ? (const char *)sqlite3_value_text(argv[0]) : "";
    size_t len = text ? (size_t)sqlite3_value_bytes(argv[0]) : 0;
    char *json = sqlite3_malloc64(4 * len + 4), *out = json;
    if (!json) {
        sqlite3_result_error_nomem(context);
        return;
    }
    *out++ = '[';
    char word[HT_WORD_MAX_BYTES + 1];
    for (size_t n; text && (n = ht_word_next(&text, word)) > 0;) {
        if (out > json + 1) *out++ = ',';
        *out++ = '"';
        memcpy(out, word, n);
        out += n;
        *out++ = '"';
    }
    *out++ = ']';
    sqlite3_result_text64(context, json, (sqlite3_uint64)(out - json), sqlite3_free, SQLITE_UTF8);
}

bool ht_db_register_functions(sqlite3 *db) {
    return sqlite3_create_function(db, "words", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
                                   words_function, NULL, NULL) == SQLITE_OK &&
           ht_db_register_member_keys(db) && ht_db_register_txn_keys(db);
}

static int by_word(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

bool ht_store_search_add(ht_store *store, int64_t stream, const char *value) {
    /* Counted here, not by a GROUP BY over words(): the temporary b-tree
     * that needs cost a message more than its rows did. */
    ht_buf text = {0}; /* the words, each NUL-terminated */
    size_t count = 0;
    char word[HT_WORD_MAX_BYTES + 1];
    for (size_t n; (n = ht_word_next(&value, word)) > 0; count++) ht_buf_append(&text, word, n + 1);
    const char **words = ht_xmalloc((count ? count : 1) * sizeof *words);
    const char *at = (const char *)text.data;
    for (size_t i = 0; i < count; at += strlen(at) + 1) words[i++] = at;
    qsort(words, count, sizeof *words, by_word);
    bool ok = true;
    for (size_t i = 0, hits; ok && i < count; i += hits) {
        for (hits = 1; i + hits < count && strcmp(words[i], words[i + hits]) == 0; hits++) {}
        sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_SEARCH_INSERT);
        ht_db_bind_text(s, 1, words[i]);
        ht_db_bind_int(s, 2, stream);
        ht_db_bind_int(s, 3, (int64_t)hits);
        ok = ht_db_exec(store, s);
    }
    free(words);
    ht_buf_free(&text);
    return ok;
}

bool ht_store_search_forget(ht_store *store, int64_t stream) {
    sqlite3_stmt *s = ht_db_stmt(store, HT_STMT_SEARCH_FORGET);
    ht_db_bind_int(s, 1, stream);
    return ht_db_exec(store, s);
}

size_t ht_store_search(ht_store *store, ht_arena *arena, const char *words_json, const char *rooms_json,
                       unsigned keys, bool by_rank, int64_t offset, int64_t limit, ht_search_hit **out) {
    sqlite3_stmt *s = ht_db_stmt(store, by_rank ? HT_STMT_SEARCH_BY_RANK : HT_STMT_SEARCH_BY_RECENT);
    ht_db_bind_text(s, 1, words_json);
    ht_db_bind_text(s, 2, rooms_json);
    ht_db_bind_int(s, 3, (keys & HT_SEARCH_BODY) != 0);
    ht_db_bind_int(s, 4, (keys & HT_SEARCH_NAME) != 0);
    ht_db_bind_int(s, 5, (keys & HT_SEARCH_TOPIC) != 0);
    ht_db_bind_int(s, 6, limit);
    ht_db_bind_int(s, 7, offset);
    size_t n = 0, cap = 0;
    ht_search_hit *list = NULL;
    while (ht_db_row(store, s)) {
        list = ht_arena_push(arena, list, sizeof *list, n, &cap);
        list[n++] = (ht_search_hit){ht_db_col_int(s, 0), sqlite3_column_double(s, 1)};
    }
    *out = list;
    return n;
}
