/* push_rules.h -- /pushrules and /pushers. */
#ifndef HT_API_PUSH_RULES_H
#define HT_API_PUSH_RULES_H

#include "matrix/handler.h"

ht_reply ht_api_push_rules_all(ht_ctx *ctx);
ht_reply ht_api_push_rules_global(ht_ctx *ctx);
ht_reply ht_api_push_rule_get(ht_ctx *ctx);
ht_reply ht_api_push_rule_put(ht_ctx *ctx);
ht_reply ht_api_push_rule_delete(ht_ctx *ctx);
ht_reply ht_api_push_rule_enabled_get(ht_ctx *ctx);
ht_reply ht_api_push_rule_enabled_put(ht_ctx *ctx);
ht_reply ht_api_push_rule_actions_get(ht_ctx *ctx);
ht_reply ht_api_push_rule_actions_put(ht_ctx *ctx);
ht_reply ht_api_pushers_get(ht_ctx *ctx);
ht_reply ht_api_pushers_set(ht_ctx *ctx);

/* The m.push_rules account data of the caller: {"global": ruleset}. New
 * reference. */
json_t *ht_push_rules_account_data(ht_ctx *ctx);

#endif
