/* token_cache.c -- access tokens looked up once, then remembered.
 *
 * Every authenticated request looks its token up, a statement that costs
 * about a quarter of a light request (GET /account/whoami under wrk: about
 * 65,000 requests a second looked up, about 80,000 remembered).
 * What the lookup reads changes only when a token row is updated or
 * deleted (a logout, a device deleted, which cascades), a user's
 * deactivated flag changes, or a user row goes; or when a transaction or a
 * request's savepoint that wrote one of those rolls back. Temporary
 * triggers report the first, whichever statement makes it (so a new
 * statement cannot forget to), and the rollbacks are reported where they
 * happen (store.c, as for event_changes.c). Each report forgets
 * every remembered token: they are rare, and a token found again costs
 * one lookup. A new token needs no report: it is remembered only once
 * looked up.
 *
 * Bounded: a slot per hash (the token's hash is already uniform), fixed
 * size; a token whose ids do not fit is not remembered. */
#include "store/db.h"

#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

enum { SLOTS = 256, ID_BYTES = 256 };

typedef struct token_slot {
    uint64_t generation; /* remembered in this generation; 0: never */
    unsigned char hash[HT_SHA256_BYTES];
    int64_t id;
    bool deactivated;
    char user_id[ID_BYTES], device_id[ID_BYTES];
} token_slot;

struct ht_token_cache {
    uint64_t generation; /* forgetting moves it on: every slot of an older one is empty */
    token_slot slots[SLOTS];
};

static token_slot *slot_of(ht_token_cache *cache, const unsigned char *hash) {
    return &cache->slots[hash[0] % SLOTS];
}

bool ht_db_token_remembered(ht_store *store, ht_arena *arena, const unsigned char *hash, size_t hash_len,
                            ht_token_row *out) {
    ht_token_cache *cache = store->tokens;
    if (!cache || hash_len != HT_SHA256_BYTES) return false;
    const token_slot *s = slot_of(cache, hash);
    if (s->generation != cache->generation || memcmp(s->hash, hash, HT_SHA256_BYTES) != 0) return false;
    *out = (ht_token_row){s->id, ht_arena_strdup(arena, s->user_id), ht_arena_strdup(arena, s->device_id),
                          s->deactivated};
    return true;
}

void ht_db_token_remember(ht_store *store, const unsigned char *hash, size_t hash_len, const ht_token_row *row) {
    ht_token_cache *cache = store->tokens;
    if (!cache || hash_len != HT_SHA256_BYTES || strlen(row->user_id) >= ID_BYTES ||
        strlen(row->device_id) >= ID_BYTES)
        return;
    token_slot *s = slot_of(cache, hash);
    s->generation = cache->generation;
    memcpy(s->hash, hash, HT_SHA256_BYTES);
    s->id = row->id;
    s->deactivated = row->deactivated;
    strcpy(s->user_id, row->user_id);
    strcpy(s->device_id, row->device_id);
}

void ht_db_tokens_forget(ht_store *store) {
    if (store->tokens) store->tokens->generation++;
}

/* tokens_changed(), called by the triggers. */
static void changed_function(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    (void)argv;
    ht_db_tokens_forget(sqlite3_user_data(ctx));
    sqlite3_result_null(ctx);
}

bool ht_db_token_cache_setup(ht_store *store) {
    static const char triggers[] =
        "CREATE TEMP TRIGGER tokens_updated AFTER UPDATE ON main.access_tokens "
        "BEGIN SELECT tokens_changed(); END;"
        "CREATE TEMP TRIGGER tokens_deleted AFTER DELETE ON main.access_tokens "
        "BEGIN SELECT tokens_changed(); END;"
        "CREATE TEMP TRIGGER tokens_users_updated AFTER UPDATE OF user_id, deactivated ON main.users "
        "BEGIN SELECT tokens_changed(); END;"
        "CREATE TEMP TRIGGER tokens_users_deleted AFTER DELETE ON main.users "
        "BEGIN SELECT tokens_changed(); END;";
    store->tokens = calloc(1, sizeof *store->tokens);
    if (!store->tokens) return false;
    store->tokens->generation = 1;
    return sqlite3_create_function(store->db, "tokens_changed", 0, SQLITE_UTF8 | SQLITE_DIRECTONLY, store,
                                   changed_function, NULL, NULL) == SQLITE_OK &&
           sqlite3_exec(store->db, triggers, NULL, NULL, NULL) == SQLITE_OK;
}

void ht_db_token_cache_free(ht_store *store) {
    free(store->tokens);
    store->tokens = NULL;
}
