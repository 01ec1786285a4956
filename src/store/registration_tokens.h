/* registration_tokens.h -- tokens that let someone register when the
 * server's registration needs one (m.login.registration_token). */
#ifndef HT_STORE_REGISTRATION_TOKENS_H
#define HT_STORE_REGISTRATION_TOKENS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"

typedef struct ht_reg_token_row {
    const char *token;
    bool limited;          /* uses_allowed applies */
    int64_t uses_allowed;
    int64_t pending;
    int64_t completed;
    bool expires;          /* expiry_ms applies */
    int64_t expiry_ms;
} ht_reg_token_row;

/* False if the token exists already (or on error: see ht_store_failed).
 * uses_allowed < 0 and expiry_ms < 0 mean "no limit". */
bool ht_store_reg_token_insert(ht_store *store, const char *token, int64_t uses_allowed,
                               int64_t expiry_ms, int64_t now_ms);
bool ht_store_reg_token_get(ht_store *store, ht_arena *arena, const char *token, ht_reg_token_row *out);
/* valid: -1 every token, 1 those usable at now_ms, 0 the others. */
size_t ht_store_reg_token_list(ht_store *store, ht_arena *arena, int valid, int64_t now_ms,
                               int64_t limit, ht_reg_token_row **out);
/* Changes what set_* says; a value < 0 removes the limit. False if the
 * token does not exist. */
bool ht_store_reg_token_update(ht_store *store, const char *token, bool set_uses, int64_t uses_allowed,
                               bool set_expiry, int64_t expiry_ms);
/* False if the token did not exist. */
bool ht_store_reg_token_delete(ht_store *store, const char *token);
bool ht_store_reg_token_usable(ht_store *store, const char *token, int64_t now_ms);
/* Counts one completed registration, only if the token is usable at now_ms. */
bool ht_store_reg_token_use(ht_store *store, const char *token, int64_t now_ms);

#endif
