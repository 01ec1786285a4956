/* fetch_tool.c -- the native host's federation client on its own, for the
 * tests in this folder (fetch.test.mjs) and for trying a server by hand.
 *
 *   fetch-tool [options] SERVER METHOD PATH   fetches, prints each reply
 *                                             (SERVER,SERVER...: requests take turns)
 *   fetch-tool [options] --resolve SERVER...  discovery only, one name after another
 *
 * Options: --ca FILE, --insecure-http, --dns ADDR:PORT (the fetcher's own
 * options); --timeout-ms N; --header "Name: value" (repeatable); --body TEXT;
 * --repeat N (send the request N times, all at once, or --sequential: each
 * when the one before is answered); --max-in-flight N, --max-per-destination
 * N, --max-waiting N, --max-response-bytes N; --cancel-after-ms N (free the
 * fetcher that long after sending: what is in flight is cancelled).
 *
 * Output is one JSON object a line, so a test reads it without guessing:
 *   {"index":0,"status":200,"contentType":"...","headers":[...],
 *    "bodyLength":12,"body":"..." (when it is UTF-8 and at most 64 KiB)}
 *   {"index":1,"error":"..."}
 *   {"server":"...","url":"...","host":"...","connectTo":"...","resolve":"...",
 *    "how":"...","wellKnownTtlMs":N}  (--resolve)
 * and last {"done":true,"replies":N,"maxRssKb":N}. Exit 0 once everything is
 * answered, 1 when the fetcher cannot start, 2 for bad arguments. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

#include "host/native/curl_uv.h"
#include "host/native/dns.h"
#include "host/native/fetch.h"
#include "host/native/resolve.h"

enum { MAX_TOOL_HEADERS = 64, MAX_PRINTED_BODY = 64 * 1024 };

static struct {
    ht_fetcher *fetcher;
    char *servers[16]; /* SERVER may be a comma-separated list: requests take turns */
    int server_count;
    const char *method, *path, *body;
    const char *headers[MAX_TOOL_HEADERS];
    size_t header_count;
    long repeat, sent, answered;
    bool sequential;
    int64_t timeout_ms;
    uv_timer_t cancel_timer;
    /* --resolve */
    ht_curl *curl;
    ht_dns *dns;
    ht_resolver *resolver;
    char **names;
    int name_count, name_next;
} tool;

static void print_json(json_t *obj) {
    char *line = json_dumps(obj, JSON_COMPACT);
    printf("%s\n", line);
    fflush(stdout);
    free(line);
    json_decref(obj);
}

static void send_one(void);

static void on_reply(void *data, const ht_fetch_reply *reply) {
    long index = (long)(intptr_t)data;
    json_t *obj = json_pack("{sI}", "index", (json_int_t)index);
    if (reply->error) {
        json_object_set_new(obj, "error", json_string(reply->error));
    } else {
        json_object_set_new(obj, "status", json_integer(reply->status));
        json_object_set_new(obj, "contentType", reply->content_type ? json_string(reply->content_type) : json_null());
        json_t *headers = json_array();
        for (size_t i = 0; i < reply->header_count; i++) json_array_append_new(headers, json_string(reply->headers[i]));
        json_object_set_new(obj, "headers", headers);
        json_object_set_new(obj, "bodyLength", json_integer((json_int_t)reply->body_len));
        if (reply->body_len <= MAX_PRINTED_BODY) {
            json_t *body = json_stringn((const char *)reply->body, reply->body_len);
            if (body) json_object_set_new(obj, "body", body);
        }
    }
    print_json(obj);
    tool.answered++;
    if (tool.sequential && tool.sent < tool.repeat && tool.fetcher) send_one();
}

static void send_one(void) {
    long index = tool.sent++;
    const char *body = tool.body ? tool.body : "";
    ht_fetcher_send(tool.fetcher, tool.servers[index % tool.server_count], tool.method, tool.path, tool.headers, tool.header_count,
                    (const unsigned char *)body, strlen(body), tool.timeout_ms, on_reply, (void *)(intptr_t)index);
}

static void on_cancel(uv_timer_t *t) {
    (void)t;
    ht_fetcher_free(tool.fetcher);
    tool.fetcher = NULL;
    uv_close((uv_handle_t *)&tool.cancel_timer, NULL);
}

/* ---- --resolve ---------------------------------------------------------------- */

static void resolve_next(void);

static void print_destination(const char *server, const ht_destination *d, const char *error) {
    json_t *obj = json_pack("{ss}", "server", server);
    if (error) {
        json_object_set_new(obj, "error", json_string(error));
    } else {
        json_object_set_new(obj, "url", json_string(d->url_base));
        json_object_set_new(obj, "host", json_string(d->host_header + strlen("Host: ")));
        json_object_set_new(obj, "connectTo", json_string(d->connect_to));
        json_object_set_new(obj, "resolve", json_string(d->resolve));
        json_object_set_new(obj, "how", json_string(d->how));
        json_object_set_new(obj, "wellKnownTtlMs", json_integer(d->well_known_ttl_ms));
    }
    print_json(obj);
    tool.answered++;
}

static void on_destination(void *data, const ht_destination *dest, const char *error) {
    print_destination(data, dest, error);
    resolve_next();
}

static void on_resolve_turn(uv_timer_t *t) {
    (void)t;
    if (tool.name_next == tool.name_count) {
        ht_resolver_stop(tool.resolver);
        ht_curl_free(tool.curl);
        ht_dns_free(tool.dns);
        ht_resolver_free(tool.resolver);
        uv_close((uv_handle_t *)&tool.cancel_timer, NULL);
        return;
    }
    char *name = tool.names[tool.name_next++];
    ht_destination dest;
    if (ht_resolver_cached(tool.resolver, name, &dest)) {
        print_destination(name, &dest, NULL);
        resolve_next();
    } else {
        ht_resolver_find(tool.resolver, name, on_destination, name);
    }
}

/* Each name on a turn of its own, so nothing is freed inside a callback. */
static void resolve_next(void) { uv_timer_start(&tool.cancel_timer, on_resolve_turn, 0, 0); }

/* ---- main ------------------------------------------------------------------------ */

static void usage(void) {
    fprintf(stderr, "usage: fetch-tool [options] SERVER METHOD PATH\n"
                    "       fetch-tool [options] --resolve SERVER...\n"
                    "(options: see the comment at the top of tests/fedhost/fetch_tool.c)\n");
}

static bool number(const char *arg, long *out) {
    char *end;
    long v = strtol(arg, &end, 10);
    if (*end || end == arg || v < 0) return false;
    *out = v;
    return true;
}

int main(int argc, char **argv) {
    ht_fetcher_options options = {0};
    long repeat = 1, cancel_after = -1, value;
    bool resolve_only = false;
    enum {
        O_CA = 1, O_INSECURE, O_DNS, O_TIMEOUT, O_HEADER, O_BODY, O_REPEAT, O_SEQUENTIAL, O_MAX_IN_FLIGHT,
        O_MAX_PER_DEST, O_MAX_WAITING, O_MAX_RESPONSE, O_CANCEL, O_RESOLVE
    };
    static const struct option long_options[] = {
        {"ca", required_argument, NULL, O_CA},
        {"insecure-http", no_argument, NULL, O_INSECURE},
        {"dns", required_argument, NULL, O_DNS},
        {"timeout-ms", required_argument, NULL, O_TIMEOUT},
        {"header", required_argument, NULL, O_HEADER},
        {"body", required_argument, NULL, O_BODY},
        {"repeat", required_argument, NULL, O_REPEAT},
        {"sequential", no_argument, NULL, O_SEQUENTIAL},
        {"max-in-flight", required_argument, NULL, O_MAX_IN_FLIGHT},
        {"max-per-destination", required_argument, NULL, O_MAX_PER_DEST},
        {"max-waiting", required_argument, NULL, O_MAX_WAITING},
        {"max-response-bytes", required_argument, NULL, O_MAX_RESPONSE},
        {"cancel-after-ms", required_argument, NULL, O_CANCEL},
        {"resolve", no_argument, NULL, O_RESOLVE},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        bool ok = true;
        switch (opt) {
        case O_CA: options.ca_file = optarg; break;
        case O_INSECURE: options.insecure_http = true; break;
        case O_DNS: options.dns_server = optarg; break;
        case O_TIMEOUT: ok = number(optarg, &value); tool.timeout_ms = value; break;
        case O_HEADER:
            ok = tool.header_count < MAX_TOOL_HEADERS;
            if (ok) tool.headers[tool.header_count++] = optarg;
            break;
        case O_BODY: tool.body = optarg; break;
        case O_REPEAT: ok = number(optarg, &repeat) && repeat > 0; break;
        case O_SEQUENTIAL: tool.sequential = true; break;
        case O_MAX_IN_FLIGHT: ok = number(optarg, &value); options.max_in_flight = (unsigned)value; break;
        case O_MAX_PER_DEST: ok = number(optarg, &value); options.max_per_destination = (unsigned)value; break;
        case O_MAX_WAITING: ok = number(optarg, &value); options.max_waiting = (unsigned)value; break;
        case O_MAX_RESPONSE: ok = number(optarg, &value); options.max_response_bytes = (size_t)value; break;
        case O_CANCEL: ok = number(optarg, &cancel_after); break;
        case O_RESOLVE: resolve_only = true; break;
        default: ok = false;
        }
        if (!ok) {
            usage();
            return 2;
        }
    }
    uv_loop_t *loop = uv_default_loop();
    char err[512];
    uv_timer_init(loop, &tool.cancel_timer);

    if (resolve_only) {
        if (optind == argc) {
            usage();
            return 2;
        }
        tool.names = argv + optind;
        tool.name_count = argc - optind;
        ht_curl_options curl_options = {.ca_file = options.ca_file, .insecure_http = options.insecure_http,
                                        .connect_timeout_ms = 10000, .max_idle_connections = 8};
        tool.curl = ht_curl_new(loop, &curl_options, err, sizeof err);
        tool.dns = tool.curl ? ht_dns_new(loop, options.dns_server, err, sizeof err) : NULL;
        if (!tool.dns) {
            fprintf(stderr, "fetch-tool: %s\n", err);
            return 1;
        }
        tool.resolver = ht_resolver_new(loop, tool.curl, tool.dns, options.insecure_http);
        resolve_next();
    } else {
        if (argc - optind != 3) {
            usage();
            return 2;
        }
        for (char *name = strtok(argv[optind], ","); name && tool.server_count < 16; name = strtok(NULL, ","))
            tool.servers[tool.server_count++] = name;
        if (tool.server_count == 0) {
            usage();
            return 2;
        }
        tool.method = argv[optind + 1];
        tool.path = argv[optind + 2];
        tool.repeat = repeat;
        tool.fetcher = ht_fetcher_new(loop, &options, err, sizeof err);
        if (!tool.fetcher) {
            fprintf(stderr, "fetch-tool: %s\n", err);
            uv_close((uv_handle_t *)&tool.cancel_timer, NULL);
            uv_run(loop, UV_RUN_DEFAULT);
            uv_loop_close(loop);
            return 1;
        }
        if (tool.sequential) send_one();
        else
            while (tool.sent < tool.repeat) send_one();
        if (cancel_after >= 0) uv_timer_start(&tool.cancel_timer, on_cancel, (uint64_t)cancel_after, 0);
        else uv_close((uv_handle_t *)&tool.cancel_timer, NULL);
    }
    /* Runs until every reply is in; then the fetcher goes, and the loop
     * runs once more to close its handles. */
    while (tool.fetcher && uv_run(loop, UV_RUN_ONCE))
        if (tool.answered == tool.repeat) break;
    if (tool.fetcher) {
        ht_fetcher_free(tool.fetcher);
        tool.fetcher = NULL;
        if (!uv_is_closing((uv_handle_t *)&tool.cancel_timer)) uv_close((uv_handle_t *)&tool.cancel_timer, NULL);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(loop);
    struct rusage usage_now;
    getrusage(RUSAGE_SELF, &usage_now);
    json_t *done = json_pack("{sbsIsIsb}", "done", 1, "replies", (json_int_t)tool.answered, "maxRssKb",
                             (json_int_t)usage_now.ru_maxrss, "loopClosed", rc == 0);
    print_json(done);
    return 0;
}
