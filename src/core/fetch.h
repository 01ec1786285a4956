/* fetch.h -- the door's side of asking other servers (matrix/remote.h is
 * the handlers' side): the fetches handed to the host, and the answers kept
 * for the passes that replay their request. */
#ifndef HT_CORE_FETCH_H
#define HT_CORE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hometab.h"
#include "matrix/handler.h"

/* What a fetch is for: a request's ask, or a transaction of the outbox. */
typedef enum ht_fetch_kind { HT_FETCH_ASK, HT_FETCH_OUTBOX } ht_fetch_kind;

/* Answers kept for replays, and how many fetches the host holds. */
typedef struct ht_fetch_memo {
    ht_fetch *answered; /* newest first */
    unsigned count;
    size_t bytes;       /* of the answers' bodies */
    size_t kept_bytes;  /* of the handlers' readings kept with them */
    unsigned out;       /* handed to the host, not yet back */
} ht_fetch_memo;

/* The request's pending asks, as the door hands them out (an array in the
 * arena, *count long), or NULL. */
ht_fetch **ht_fetch_pending(ht_ctx *ctx, size_t *count);
/* Hands the pending asks to the host: they are the host's until done. */
void ht_fetch_hand_out(ht_ctx *ctx);
/* Drops the pending asks of a pass that will not hand them out. */
void ht_fetch_drop_pending(ht_ctx *ctx);
/* Whether an earlier pass of this request was handed out and answered:
 * this pass is a replay, whose first pass was counted already. */
bool ht_fetch_is_replay(ht_ctx *ctx);
/* The request is answered: its kept answers go. */
void ht_fetch_request_answered(ht_ctx *ctx);
/* At close: every kept answer goes (the host has handed back its fetches). */
void ht_fetch_memo_free(ht_fetch_memo *memo);

/* A fetch for the outbox: the transaction txn_id of `body` to destination;
 * `through` is the last outbox row it carries. */
ht_fetch *ht_fetch_new_outbox(const ht_env *env, const char *destination, const char *target,
                              const char *txn_id, const char *body, int64_t through);
/* What the outbox needs back. */
ht_fetch_kind ht_fetch_kind_of(const ht_fetch *f);
const char *ht_fetch_txn(const ht_fetch *f);
int64_t ht_fetch_through(const ht_fetch *f);
/* The answer of a finished fetch. */
int ht_fetch_status(const ht_fetch *f);
const char *ht_fetch_error(const ht_fetch *f);
/* Frees a fetch the memo does not keep (an outbox transaction, once read). */
void ht_fetch_free(ht_fetch *f);
/* Records the answer (the host's status and body, or its error). */
void ht_fetch_set_answer(ht_fetch *f, int status, const unsigned char *body, size_t len, const char *error,
                         int64_t now_ms);
/* Keeps an answered ask for its request's replay. */
void ht_fetch_keep(ht_fetch_memo *memo, ht_fetch *f, int64_t now_ms);

#endif
