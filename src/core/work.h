/* work.h -- the door's side of password work (matrix/password.h is the
 * handlers' side): the finished work kept between a request's passes. */
#ifndef HT_CORE_WORK_H
#define HT_CORE_WORK_H

#include <stdbool.h>

#include "hometab.h"
#include "matrix/handler.h"

/* Work handed out and finished work waiting for its request's replay. */
typedef struct ht_replay {
    ht_work *done;   /* finished, newest first */
    unsigned count;  /* ...how many */
    unsigned out;    /* handed to the host and not yet back */
} ht_replay;

/* True if finished work waits for this request: it is a replay, already
 * counted by the rate limits on its first pass. */
bool ht_work_is_replay(ht_ctx *ctx);
/* The request is answered: its finished work is dropped. */
void ht_work_request_answered(ht_ctx *ctx);
/* Frees every piece of finished work (at close). */
void ht_replay_free(ht_replay *replay);

#endif
