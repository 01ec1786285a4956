/* registration_tokens.h -- registering with a token: the UIA stage. */
#ifndef HT_API_REGISTRATION_TOKENS_H
#define HT_API_REGISTRATION_TOKENS_H

#include "matrix/handler.h"

#define HT_STAGE_REGISTRATION_TOKEN "m.login.registration_token"

/* Counts one use of the token if it may still be used; false otherwise
 * (unknown, used up, expired, or not a token at all). The use is part of
 * the registration's transaction: a registration that fails later gives
 * it back. */
bool ht_registration_token_redeem(ht_ctx *ctx, const char *token);

#endif
