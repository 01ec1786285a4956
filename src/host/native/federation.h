/* federation.h -- the native host's side of other servers: the core's
 * fetches (HT_FETCH) sent with the fetcher (fetch.h: libcurl and server
 * discovery), and the core's outbox pumped. The core decides everything;
 * this only carries bytes and time. */
#ifndef HT_NATIVE_FEDERATION_H
#define HT_NATIVE_FEDERATION_H

#include <stdbool.h>
#include <uv.h>

#include "hometab.h"
#include "host/native/fetch.h"

typedef struct ht_fed_host ht_fed_host;

/* NULL, with a sentence in err, if the fetcher cannot start. */
ht_fed_host *ht_fed_host_new(uv_loop_t *loop, ht_core *core, const ht_fetcher_options *options, char *err,
                             size_t err_size);
/* Sends every fetch of one request; all_done(data) runs once all are back
 * with the core (never before this returns). */
void ht_fed_host_fetch(ht_fed_host *h, ht_fetch **fetches, size_t count, void (*all_done)(void *data), void *data);
/* Sends what the outbox has ready now, and comes back when it says. */
void ht_fed_host_pump(ht_fed_host *h);
/* While waits(data) is true the outbox is not pumped (the server: until
 * its commits are synced); ht_fed_host_resume then pumps, if one was put off. */
void ht_fed_host_wait_while(ht_fed_host *h, bool (*waits)(void *data), void *data);
void ht_fed_host_resume(ht_fed_host *h);
/* Cancels everything in flight (each fetch goes back to the core with an
 * error); the memory is released once the loop has run again. */
void ht_fed_host_free(ht_fed_host *h);

#endif
