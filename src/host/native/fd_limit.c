/* fd_limit.c -- fitting the connection cap to the open-file limit.
 *
 * Debian starts programs with a soft limit of 1024 open files, far below
 * the default --max-connections. Past the limit, accept() fails and the
 * client is reset without a word; within the cap, the server can still
 * answer 503 and close. So the soft limit is raised (the hard limit allows
 * it without privileges) and the cap lowered to what really fits. */
#include "host/native/fd_limit.h"

#include "host/native/log.h"

#include <stdio.h>
#include <sys/resource.h>

/* Files the server holds besides connections: the database, its WAL and
 * shared memory, a static file being read, the event loop's own. */
enum { RESERVED_FDS = 32 };

unsigned ht_fd_limit_fit(unsigned wanted) {
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return wanted;
    rlim_t need = (rlim_t)wanted + RESERVED_FDS;
    if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
        rlim_t raised = lim.rlim_max == RLIM_INFINITY || lim.rlim_max > need ? need : lim.rlim_max;
        if (raised > lim.rlim_cur) {
            lim.rlim_cur = raised;
            if (setrlimit(RLIMIT_NOFILE, &lim) != 0) getrlimit(RLIMIT_NOFILE, &lim);
        }
    }
    if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= need) return wanted;
    unsigned fit = (unsigned)(lim.rlim_cur > 2 * RESERVED_FDS ? lim.rlim_cur - RESERVED_FDS : lim.rlim_cur / 2);
    ht_host_log(HT_LOG_WARN,
                "the open-file limit (%llu) allows %u connections, not %u; "
                "raise it with ulimit -n (LimitNOFILE= in a systemd unit) to accept more",
                (unsigned long long)lim.rlim_cur, fit, wanted);
    return fit;
}
