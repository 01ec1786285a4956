/* curl_uv.h -- HTTP(S) transfers with libcurl's multi interface on the
 * libuv loop: one request in, one reply out, nothing about Matrix. */
#ifndef HT_NATIVE_CURL_UV_H
#define HT_NATIVE_CURL_UV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct ht_curl ht_curl;

typedef struct ht_curl_options {
    const char *ca_file;        /* PEM certificates trusted besides the system's, or NULL */
    bool insecure_http;         /* http:// only (tests, development); else https:// only */
    int64_t connect_timeout_ms; /* TCP and TLS handshake */
    unsigned max_idle_connections; /* kept open for reuse, in all */
} ht_curl_options;

/* Whether path holds at least one PEM certificate (else a sentence in err):
 * what ht_curl_new will require of options->ca_file. */
bool ht_curl_check_ca_file(const char *path, char *err, size_t err_size);

/* NULL on failure (an unreadable CA file...), with a sentence in err. */
ht_curl *ht_curl_new(uv_loop_t *loop, const ht_curl_options *options, char *err, size_t err_size);
/* Aborts every transfer (each callback runs once, with an error) and closes
 * every connection; the memory goes once the loop has run the close
 * callbacks. Not from inside a callback of this ht_curl. */
void ht_curl_free(ht_curl *curl);

typedef struct ht_curl_request {
    const char *url;        /* scheme://host:port/path?query; the path is sent as given */
    const char *connect_to; /* a CURLOPT_CONNECT_TO entry "HOST:PORT:TARGET:TPORT", or NULL */
    const char *resolve;    /* a CURLOPT_RESOLVE entry "+TARGET:TPORT:ADDR[,ADDR]", or NULL */
    const char *method;
    const char *const *headers; /* "Name: value" */
    size_t header_count;
    const unsigned char *body;  /* copied */
    size_t body_len;
    int64_t timeout_ms;     /* the whole transfer, connecting included */
    size_t max_body;        /* response body bytes accepted; beyond, the transfer is aborted */
    bool plain_http;        /* http:// for this one (a loopback p2p gateway), whatever the options say */
} ht_curl_request;

typedef struct ht_curl_reply {
    int status;
    const char *const *headers; /* the final response's header lines, without CRLF */
    size_t header_count;
    const unsigned char *body;
    size_t body_len;
    const char *error;      /* NULL, or why the transfer failed (then status is 0) */
    bool timed_out;         /* the error is the time-out */
    bool no_connection;     /* the error came before any connection was made */
} ht_curl_reply;

/* The reply's memory is the ht_curl's until the callback returns. */
typedef void ht_curl_done(void *data, const ht_curl_reply *reply);

/* done always runs later, from the loop, never before this returns. */
void ht_curl_start(ht_curl *curl, const ht_curl_request *request, ht_curl_done *done, void *data);

/* The value of the reply's first header called name (any case), or NULL. */
const char *ht_curl_reply_header(const ht_curl_reply *reply, const char *name);

#endif
