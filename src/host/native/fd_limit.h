/* fd_limit.h -- fitting the connection cap to the open-file limit. */
#ifndef HT_NATIVE_FD_LIMIT_H
#define HT_NATIVE_FD_LIMIT_H

/* Raises the soft open-file limit towards the hard one, as far as `wanted`
 * connections need, and returns how many connections fit: `wanted`, or
 * fewer if the hard limit is lower (said on stderr). */
unsigned ht_fd_limit_fit(unsigned wanted);

#endif
