/* request_log.h -- the --log-requests line for one answered Matrix request. */
#ifndef HT_NATIVE_REQUEST_LOG_H
#define HT_NATIVE_REQUEST_LOG_H

#include <stddef.h>
#include <stdio.h>

/* Writes "ADDRESS REQUEST-LINE -> STATUS" to f. The request line is cut at
 * LOG_LINE_MAX bytes, an access_token in its query is written as <hidden>,
 * and control bytes become '?'. */
/* Room for any such line: the address, the cut request line, the status. */
enum { HT_REQUEST_LOG_LINE_MAX = 400 };

/* The same line, without its newline, into out (the server's log). */
void ht_request_log_line(char *out, size_t size, const char *address, const unsigned char *request,
                         size_t request_len, const unsigned char *response, size_t response_len);

void ht_log_request(FILE *f, const char *address, const unsigned char *request, size_t request_len,
                    const unsigned char *response, size_t response_len);

#endif
