/* core.h -- the core's state, shared by the door (core.c) and the handlers. */
#ifndef HT_CORE_CORE_H
#define HT_CORE_CORE_H

#include "hometab.h"
#include "store/store.h"
#include "util/arena.h"
#include "util/buf.h"

struct ht_core {
    ht_config cfg;          /* strings point at the copies below */
    char *server_name;
    char *public_base_url;
    ht_store *store;
    ht_arena arena;         /* the current request's memory */
    ht_buf out;             /* the current response's bytes */
    uint64_t stream_position;
    struct ht_rate_limiter *limits; /* token buckets; see core.c */
    int64_t clock_ms;       /* now_ms of the latest request */
    ht_work *work_done;     /* finished work waiting for its request (core/work.c) */
    unsigned work_count;    /* ...how many */
    unsigned work_out;      /* work handed to the host and not yet back */
    struct ht_unread_cache *unread; /* unread counts kept between syncs (api/unread.c) */
};

#endif
