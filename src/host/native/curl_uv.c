/* curl_uv.c -- libcurl's multi-socket interface driven by libuv.
 *
 * libcurl owns the sockets, HTTP and TLS; it tells us which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION: a uv_poll_t each) and when it next wants to be
 * called (CURLMOPT_TIMERFUNCTION: one uv_timer_t). Every event goes back in
 * through curl_multi_socket_action(), then finished transfers are collected
 * from curl_multi_info_read(). One multi handle for everything means one
 * connection cache: a second request to the same place reuses the idle
 * keep-alive connection of the first.
 *
 * The one decision: every transfer is bounded here, whoever asks. The
 * response body may not pass max_body (a Content-Length above it is refused
 * before any byte is read; a chunked body is cut when it passes the bound,
 * and the connection closed), headers may not pass MAX_HEADER_BYTES, the
 * whole transfer has its time-out, redirects are never followed (a caller
 * that wants them follows them itself, resolving the new name its own way),
 * and only https (or, in the test mode, only http) is spoken. Proxies from
 * the environment are ignored: federation traffic goes where discovery says.
 *
 * Certificates are always verified. Extra trusted CAs (--federation-ca) are
 * added to OpenSSL's store for each new TLS context beside the system's
 * bundle, the way Synapse's federation_custom_ca_list adds to the defaults. */
#include "host/native/curl_uv.h"

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/oom.h"

enum { MAX_HEADER_BYTES = 64 * 1024, MAX_HEADER_LINES = 200, MAX_EXTRA_CAS = 100 };

typedef struct transfer {
    ht_curl *curl;
    CURL *easy;
    struct transfer *prev, *next;
    struct curl_slist *headers, *connect_to, *resolve;
    unsigned char *request_body;
    unsigned char *body;
    size_t body_len, body_cap, max_body;
    char *header_block; /* the current response's header lines, each ended by NUL */
    size_t header_used, header_cap, header_lines;
    bool body_too_large, headers_too_large;
    char error_buffer[CURL_ERROR_SIZE];
    ht_curl_done *done;
    void *data;
} transfer;

typedef struct watch {
    uv_poll_t poll; /* first: the handle's address is the watch's */
    curl_socket_t fd;
    ht_curl *curl;
    struct watch *prev, *next;
} watch;

struct ht_curl {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    transfer *transfers;
    watch *watches;
    X509 *extra_cas[MAX_EXTRA_CAS];
    size_t extra_ca_count;
    ht_curl_options options;
    unsigned open_handles; /* the timer and every poll not yet closed */
    bool closing;
};

/* ---- handles ----------------------------------------------------------- */

static void release(ht_curl *curl) {
    for (size_t i = 0; i < curl->extra_ca_count; i++) X509_free(curl->extra_cas[i]);
    free(curl);
    curl_global_cleanup();
}

static void on_handle_closed(uv_handle_t *h) {
    ht_curl *curl = h->data;
    if (h->type == UV_POLL) free(h);
    if (--curl->open_handles == 0 && curl->closing) release(curl);
}

static void check_finished(ht_curl *curl);

static void on_timer(uv_timer_t *t) {
    ht_curl *curl = t->data;
    int running;
    curl_multi_socket_action(curl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_finished(curl);
}

static int on_timer_wanted(CURLM *multi, long timeout_ms, void *userp) {
    (void)multi;
    ht_curl *curl = userp;
    if (timeout_ms < 0) uv_timer_stop(&curl->timer);
    else uv_timer_start(&curl->timer, on_timer, (uint64_t)timeout_ms, 0); /* 0: on the next turn */
    return 0;
}

static void on_poll(uv_poll_t *p, int status, int events) {
    watch *w = (watch *)p;
    ht_curl *curl = w->curl;
    int flags = status < 0 ? CURL_CSELECT_ERR
                           : ((events & UV_READABLE) ? CURL_CSELECT_IN : 0) |
                                 ((events & UV_WRITABLE) ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(curl->multi, w->fd, flags, &running);
    check_finished(curl);
}

static void close_watch(ht_curl *curl, watch *w) {
    if (w->prev) w->prev->next = w->next;
    else curl->watches = w->next;
    if (w->next) w->next->prev = w->prev;
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_handle_closed);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    (void)easy;
    ht_curl *curl = userp;
    watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (w) {
            if (!curl->closing) curl_multi_assign(curl->multi, fd, NULL);
            close_watch(curl, w);
        }
        return 0;
    }
    if (!w) {
        w = ht_xmalloc(sizeof *w);
        *w = (watch){.fd = fd, .curl = curl, .next = curl->watches};
        if (uv_poll_init_socket(curl->loop, &w->poll, fd) != 0) {
            free(w);
            return -1; /* curl fails the transfer */
        }
        w->poll.data = curl;
        curl->open_handles++;
        if (w->next) w->next->prev = w;
        curl->watches = w;
        curl_multi_assign(curl->multi, fd, w);
    }
    int events = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
    uv_poll_start(&w->poll, events, on_poll);
    return 0;
}

/* ---- the extra CAs ----------------------------------------------------- */

static bool load_extra_cas(ht_curl *curl, const char *path, char *err, size_t err_size) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "cannot read the CA file %s", path);
        return false;
    }
    X509 *cert;
    while (curl->extra_ca_count < MAX_EXTRA_CAS && (cert = PEM_read_X509(f, NULL, NULL, NULL)))
        curl->extra_cas[curl->extra_ca_count++] = cert;
    fclose(f);
    ERR_clear_error(); /* the read that ended the loop */
    if (curl->extra_ca_count == 0) {
        snprintf(err, err_size, "the CA file %s holds no PEM certificate", path);
        return false;
    }
    return true;
}

bool ht_curl_check_ca_file(const char *path, char *err, size_t err_size) {
    ht_curl probe = {0};
    bool ok = load_extra_cas(&probe, path, err, err_size);
    for (size_t i = 0; i < probe.extra_ca_count; i++) X509_free(probe.extra_cas[i]);
    return ok;
}

static CURLcode on_ssl_context(CURL *easy, void *ssl_ctx, void *userp) {
    (void)easy;
    ht_curl *curl = userp;
    X509_STORE *store = SSL_CTX_get_cert_store(ssl_ctx);
    for (size_t i = 0; i < curl->extra_ca_count; i++) X509_STORE_add_cert(store, curl->extra_cas[i]);
    ERR_clear_error(); /* a certificate already in the store is not an error */
    return CURLE_OK;
}

/* ---- one transfer ------------------------------------------------------ */

static size_t on_body(char *bytes, size_t size, size_t count, void *userp) {
    transfer *t = userp;
    size_t n = size * count;
    if (n > t->max_body - t->body_len) {
        t->body_too_large = true;
        return 0; /* curl aborts the transfer and closes the connection */
    }
    if (t->body_len + n > t->body_cap) {
        size_t cap = t->body_cap ? t->body_cap : 16 * 1024;
        while (cap < t->body_len + n) cap *= 2;
        if (cap > t->max_body) cap = t->max_body;
        t->body = ht_xrealloc(t->body, cap);
        t->body_cap = cap;
    }
    memcpy(t->body + t->body_len, bytes, n);
    t->body_len += n;
    return n;
}

static size_t on_header(char *bytes, size_t size, size_t count, void *userp) {
    transfer *t = userp;
    size_t n = size * count;
    if (n >= 5 && memcmp(bytes, "HTTP/", 5) == 0) { /* a new response: 1xx, then the final one */
        t->header_used = 0;
        t->header_lines = 0;
        return n;
    }
    size_t len = n;
    while (len > 0 && (bytes[len - 1] == '\r' || bytes[len - 1] == '\n')) len--;
    if (len == 0) return n; /* the blank line that ends the headers */
    if (t->header_used + len + 1 > MAX_HEADER_BYTES || t->header_lines == MAX_HEADER_LINES) {
        t->headers_too_large = true;
        return 0;
    }
    if (t->header_used + len + 1 > t->header_cap) {
        size_t cap = t->header_cap ? t->header_cap * 2 : 1024;
        while (cap < t->header_used + len + 1) cap *= 2;
        t->header_block = ht_xrealloc(t->header_block, cap);
        t->header_cap = cap;
    }
    memcpy(t->header_block + t->header_used, bytes, len);
    t->header_block[t->header_used + len] = '\0';
    t->header_used += len + 1;
    t->header_lines++;
    return n;
}

static bool has_header(const ht_curl_request *req, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < req->header_count; i++)
        if (strncasecmp(req->headers[i], name, n) == 0 && req->headers[i][n] == ':') return true;
    return false;
}

static void free_transfer(transfer *t) {
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
    curl_slist_free_all(t->connect_to);
    curl_slist_free_all(t->resolve);
    free(t->request_body);
    free(t->body);
    free(t->header_block);
    free(t);
}

static struct curl_slist *append(struct curl_slist *list, const char *line) {
    struct curl_slist *l = curl_slist_append(list, line);
    if (!l) ht_out_of_memory(strlen(line));
    return l;
}

void ht_curl_start(ht_curl *curl, const ht_curl_request *req, ht_curl_done *done, void *data) {
    if (curl->closing) { /* asked from a callback that ht_curl_free is running */
        ht_curl_reply reply = {.error = "cancelled: the client is shutting down"};
        done(data, &reply);
        return;
    }
    transfer *t = ht_xmalloc(sizeof *t);
    *t = (transfer){.curl = curl, .max_body = req->max_body, .done = done, .data = data};
    t->easy = curl_easy_init();
    if (!t->easy) ht_out_of_memory(0);
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, curl->options.insecure_http || req->plain_http ? "http" : "https");
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L); /* the path is signed (X-Matrix): send it unchanged */
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* no proxy from the environment */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "hometab");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (curl->extra_ca_count) {
        curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_context);
        curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, curl);
    }
    int64_t timeout = req->timeout_ms > 0 ? req->timeout_ms : 1;
    int64_t connect_timeout = curl->options.connect_timeout_ms;
    if (connect_timeout <= 0 || connect_timeout > timeout) connect_timeout = timeout;
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_timeout);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_body);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error_buffer);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    if (req->connect_to) {
        t->connect_to = append(NULL, req->connect_to);
        curl_easy_setopt(e, CURLOPT_CONNECT_TO, t->connect_to);
    }
    if (req->resolve) {
        t->resolve = append(NULL, req->resolve);
        curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
    }

    bool sends_body = req->body_len > 0 || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0;
    if (strcmp(req->method, "HEAD") == 0) curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (strcmp(req->method, "GET") != 0 || sends_body) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    if (sends_body) {
        t->request_body = ht_xmalloc(req->body_len);
        if (req->body_len) memcpy(t->request_body, req->body, req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request_body);
    }
    for (size_t i = 0; i < req->header_count; i++) t->headers = append(t->headers, req->headers[i]);
    /* No "Expect: 100-continue" wait before a body, and no form content type
     * made up for a body whose type the caller did not give. */
    t->headers = append(t->headers, "Expect:");
    if (sends_body && !has_header(req, "Content-Type")) t->headers = append(t->headers, "Content-Type:");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);

    t->next = curl->transfers;
    if (t->next) t->next->prev = t;
    curl->transfers = t;
    CURLMcode rc = curl_multi_add_handle(curl->multi, e);
    if (rc != CURLM_OK) { /* only out of memory: never called from inside curl */
        fprintf(stderr, "hometab: curl_multi_add_handle: %s\n", curl_multi_strerror(rc));
        ht_out_of_memory(0);
    }
}

static void unlink_transfer(ht_curl *curl, transfer *t) {
    if (t->prev) t->prev->next = t->next;
    else curl->transfers = t->next;
    if (t->next) t->next->prev = t->prev;
}

static void finish(ht_curl *curl, transfer *t, CURLcode code) {
    curl_multi_remove_handle(curl->multi, t->easy);
    unlink_transfer(curl, t);
    ht_curl_reply reply = {0};
    char error[CURL_ERROR_SIZE + 200];
    const char **lines = NULL;
    if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        reply.status = (int)status;
        lines = ht_xmalloc((t->header_lines ? t->header_lines : 1) * sizeof *lines);
        const char *p = t->header_block;
        for (size_t i = 0; i < t->header_lines; i++) {
            lines[i] = p;
            p += strlen(p) + 1;
        }
        reply.headers = lines;
        reply.header_count = t->header_lines;
        reply.body = t->body ? t->body : (const unsigned char *)"";
        reply.body_len = t->body_len;
    } else {
        if (t->body_too_large || code == CURLE_FILESIZE_EXCEEDED)
            snprintf(error, sizeof error, "the response is larger than %zu bytes", t->max_body);
        else if (t->headers_too_large)
            snprintf(error, sizeof error, "the response's headers pass %d bytes or %d lines", MAX_HEADER_BYTES,
                     MAX_HEADER_LINES);
        else if (code == CURLE_ABORTED_BY_CALLBACK && curl->closing)
            snprintf(error, sizeof error, "cancelled: the client is shutting down");
        else
            snprintf(error, sizeof error, "%s", t->error_buffer[0] ? t->error_buffer : curl_easy_strerror(code));
        reply.error = error;
        reply.timed_out = code == CURLE_OPERATION_TIMEDOUT;
        curl_off_t connect_us = 0;
        curl_easy_getinfo(t->easy, CURLINFO_CONNECT_TIME_T, &connect_us);
        reply.no_connection = code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST ||
                              (code == CURLE_OPERATION_TIMEDOUT && connect_us == 0);
    }
    t->done(t->data, &reply);
    free(lines);
    free_transfer(t);
}

static void check_finished(ht_curl *curl) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(curl->multi, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        transfer *t;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
        finish(curl, t, msg->data.result);
    }
}

const char *ht_curl_reply_header(const ht_curl_reply *reply, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < reply->header_count; i++) {
        const char *line = reply->headers[i];
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ' || *v == '\t') v++;
            return v;
        }
    }
    return NULL;
}

/* ---- the whole ------------------------------------------------------------ */

ht_curl *ht_curl_new(uv_loop_t *loop, const ht_curl_options *options, char *err, size_t err_size) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, err_size, "libcurl cannot start");
        return NULL;
    }
    ht_curl *curl = ht_xmalloc(sizeof *curl);
    *curl = (ht_curl){.loop = loop, .options = *options};
    curl->options.ca_file = NULL; /* not kept: read once, here */
    if (options->ca_file && !load_extra_cas(curl, options->ca_file, err, err_size)) {
        release(curl);
        return NULL;
    }
    curl->multi = curl_multi_init();
    if (!curl->multi) ht_out_of_memory(0);
    curl_multi_setopt(curl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(curl->multi, CURLMOPT_SOCKETDATA, curl);
    curl_multi_setopt(curl->multi, CURLMOPT_TIMERFUNCTION, on_timer_wanted);
    curl_multi_setopt(curl->multi, CURLMOPT_TIMERDATA, curl);
    curl_multi_setopt(curl->multi, CURLMOPT_MAXCONNECTS, (long)options->max_idle_connections);
    uv_timer_init(loop, &curl->timer);
    curl->timer.data = curl;
    curl->open_handles = 1;
    return curl;
}

void ht_curl_free(ht_curl *curl) {
    if (!curl) return;
    curl->closing = true;
    while (curl->transfers) finish(curl, curl->transfers, CURLE_ABORTED_BY_CALLBACK);
    /* Closes the cached connections; curl reports each socket removed
     * (on_socket closes its poll). */
    curl_multi_cleanup(curl->multi);
    while (curl->watches) close_watch(curl, curl->watches);
    uv_timer_stop(&curl->timer);
    uv_close((uv_handle_t *)&curl->timer, on_handle_closed);
}
