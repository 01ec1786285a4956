/* main.c -- the hometab binary: flags, then the server. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/native/fd_limit.h"
#include "host/native/server.h"
#include "hometab.h"

static void usage(FILE *f) {
    fprintf(f,
            "Usage: hometab [options]\n"
            "A Matrix homeserver.\n\n"
            "  --listen ADDR:PORT    where to listen (default 127.0.0.1:8008; [::1]:8008 for IPv6;\n"
            "                        port 0 picks a free port, printed on stdout)\n"
            "  --db PATH             SQLite database file (default hometab.sqlite; :memory: for none)\n"
            "  --server-name NAME    the server name in user and room ids (default localhost)\n"
            "  --web-root DIR        serve static files (the in-browser demo) from DIR\n"
            "  --public-url URL      base URL advertised in /.well-known (default: from Host)\n"
            "  --max-body BYTES      largest request body accepted (default 52428800)\n"
            "  --max-upload BYTES    largest media file accepted (default 52428800);\n"
            "                        raises --max-body to match when it is larger\n"
            "  --request-timeout-ms N  a started request must arrive within N ms, else 408 (default 30000)\n"
            "  --idle-timeout-ms N   close a keep-alive connection idle for N ms (default 75000)\n"
            "  --send-timeout-ms N   close a connection whose client takes none of its answers\n"
            "                        for N ms (default 60000)\n"
            "  --max-buffered BYTES  bytes held for all connections together (requests received,\n"
            "                        answers not yet taken); past it new connections get 503 and\n"
            "                        reading pauses (default 536870912; at least what one largest\n"
            "                        request needs)\n"
            "  --presence-offline-ms N  show a user offline once none of their clients has\n"
            "                        synced for N ms (default 180000)\n"
            "  --max-connections N   open connections in all; more get 503 (default 10000)\n"
            "  --max-connections-per-ip N  open connections from one address (default 2000)\n"
            "  --max-parked N        long-polls (/sync) waiting at once; more get 503 (default 5000)\n"
            "  --max-parked-per-ip N  long-polls waiting from one address; more get 429 (default 500)\n"
            "  --rate-limit ACTION=PER_SECOND/BURST  a token bucket: BURST calls at once, then\n"
            "                        PER_SECOND on average. ACTION is user (events, rooms, joins,\n"
            "                        invites, uploads, to-device: per user; default 10/50);\n"
            "                        login (logins that check a password, all callers together;\n"
            "                        1/30), login-address (per client address; 0.1/10) or\n"
            "                        login-account (failed logins per account; 0.2/20);\n"
            "                        register (all callers; 0.5/20) or register-address (0.05/10)\n"
            "  --no-rate-limit       turn off rate limits (for load and acceptance tests)\n"
            "  --log-requests        print one line per Matrix request on stderr\n"
            "  --federation          talk to other Matrix servers (off by default for now:\n"
            "                        the server-server API is being built)\n"
            "  --no-federation       do not (the default)\n"
            "  --federation-ca FILE  trust the CA certificates in FILE (PEM) for other servers,\n"
            "                        besides the system's\n"
            "  --federation-insecure-http  plain http:// to every other server, no TLS: for tests\n"
            "                        and development on one machine; refused unless --listen is\n"
            "                        a loopback address\n"
            "  --help                this text\n");
}

static bool parse_listen(char *arg, const char **host, int *port) {
    char *colon = strrchr(arg, ':');
    if (!colon) return false;
    *colon = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p < 0 || p > 65535) return false;
    *port = (int)p;
    char *h = arg;
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
        h[hl - 1] = '\0';
        h++;
    }
    *host = h;
    return *h != '\0';
}

/* 127.0.0.0/8, ::1 or localhost: a listener no other machine can reach. */
static bool is_loopback(const char *host) {
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return strcmp(host, "localhost") == 0;
}

/* A whole number from 1 to max, or a sentence on stderr. */
static bool parse_positive(const char *arg, const char *flag, unsigned long long max,
                           unsigned long long *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || *end || end == arg || v == 0 || v > max || arg[0] == '-') {
        fprintf(stderr, "hometab: %s wants a whole number from 1 to %llu, not '%s'\n", flag, max, arg);
        return false;
    }
    *out = v;
    return true;
}

/* ACTION=PER_SECOND/BURST, e.g. login=0.5/10. */
static bool parse_rate(const char *arg, ht_config *cfg) {
    const char *eq = strchr(arg, '=');
    ht_rate *rule = NULL;
    if (eq) {
        size_t n = (size_t)(eq - arg);
        static const struct {
            const char *name;
            size_t offset;
        } actions[] = {
            {"user", offsetof(ht_config, rate_user)},
            {"login", offsetof(ht_config, rate_login)},
            {"login-address", offsetof(ht_config, rate_login_address)},
            {"login-account", offsetof(ht_config, rate_login_account)},
            {"register", offsetof(ht_config, rate_register)},
            {"register-address", offsetof(ht_config, rate_register_address)},
        };
        for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
            if (strlen(actions[i].name) == n && strncmp(arg, actions[i].name, n) == 0)
                rule = (ht_rate *)((char *)cfg + actions[i].offset);
    }
    char *end = NULL;
    double per_second = 0;
    unsigned long burst = 0;
    if (rule) {
        errno = 0;
        per_second = strtod(eq + 1, &end);
        if (!errno && end != eq + 1 && *end == '/' && end[1] >= '0' && end[1] <= '9') {
            burst = strtoul(end + 1, &end, 10);
            if (errno || *end) burst = 0;
        }
    }
    if (!rule || !(per_second > 0 && per_second <= 1e6) || burst == 0 || burst > 1000000) {
        fprintf(stderr, "hometab: --rate-limit wants ACTION=PER_SECOND/BURST with ACTION user, login, "
                        "login-address, login-account, register or register-address, e.g. login=0.5/10, "
                        "not '%s'\n", arg);
        return false;
    }
    *rule = (ht_rate){per_second, (unsigned)burst};
    return true;
}

int main(int argc, char **argv) {
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.offload_hashing = true; /* Argon2 runs on libuv's thread pool (server.c) */
    ht_server_options opts = {.host = "127.0.0.1",
                              .port = 8008,
                              .idle_timeout_ms = 75000,
                              .request_timeout_ms = 30000,
                              .send_timeout_ms = 60000,
                              .max_buffered = 512u * 1024 * 1024,
                              .max_connections = 10000,
                              .max_connections_per_ip = 2000,
                              .max_parked = 5000,
                              .max_parked_per_ip = 500};
    static char listen_arg[256];

    enum {
        OPT_LISTEN = 1, OPT_DB, OPT_NAME, OPT_WEB, OPT_URL, OPT_MAX_BODY, OPT_MAX_UPLOAD, OPT_REQUEST_TIMEOUT,
        OPT_IDLE_TIMEOUT, OPT_SEND_TIMEOUT, OPT_MAX_BUFFERED, OPT_PRESENCE_OFFLINE, OPT_MAX_CONNS, OPT_MAX_CONNS_IP,
        OPT_MAX_PARKED, OPT_MAX_PARKED_IP, OPT_RATE, OPT_NO_RATE, OPT_LOG, OPT_HELP, OPT_FEDERATION,
        OPT_NO_FEDERATION, OPT_FEDERATION_CA, OPT_FEDERATION_INSECURE, OPT_FEDERATION_DNS, OPT_WEAK_PASSWORDS
    };
    bool max_body_given = false, max_upload_given = false, max_buffered_given = false, weak_passwords = false;
    static const struct option long_opts[] = {
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"db", required_argument, NULL, OPT_DB},
        {"server-name", required_argument, NULL, OPT_NAME},
        {"web-root", required_argument, NULL, OPT_WEB},
        {"public-url", required_argument, NULL, OPT_URL},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"max-upload", required_argument, NULL, OPT_MAX_UPLOAD},
        {"request-timeout-ms", required_argument, NULL, OPT_REQUEST_TIMEOUT},
        {"idle-timeout-ms", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"send-timeout-ms", required_argument, NULL, OPT_SEND_TIMEOUT},
        {"max-buffered", required_argument, NULL, OPT_MAX_BUFFERED},
        {"presence-offline-ms", required_argument, NULL, OPT_PRESENCE_OFFLINE},
        {"max-connections", required_argument, NULL, OPT_MAX_CONNS},
        {"max-connections-per-ip", required_argument, NULL, OPT_MAX_CONNS_IP},
        {"max-parked", required_argument, NULL, OPT_MAX_PARKED},
        {"max-parked-per-ip", required_argument, NULL, OPT_MAX_PARKED_IP},
        {"rate-limit", required_argument, NULL, OPT_RATE},
        {"no-rate-limit", no_argument, NULL, OPT_NO_RATE},
        {"log-requests", no_argument, NULL, OPT_LOG},
        {"help", no_argument, NULL, OPT_HELP},
        {"federation", no_argument, NULL, OPT_FEDERATION},
        {"no-federation", no_argument, NULL, OPT_NO_FEDERATION},
        {"federation-ca", required_argument, NULL, OPT_FEDERATION_CA},
        {"federation-insecure-http", no_argument, NULL, OPT_FEDERATION_INSECURE},
        /* Not in --help: for tests, which answer SRV and address lookups from
         * a DNS server of their own (tests/fedhost). */
        {"federation-dns", required_argument, NULL, OPT_FEDERATION_DNS},
        /* Not in --help: for benchmarks and tests that register thousands of
         * users (a 5,000-member room), Argon2id at libsodium's least cost. */
        {"weak-password-hashing", no_argument, NULL, OPT_WEAK_PASSWORDS},
        {NULL, 0, NULL, 0},
    };
    int opt;
    unsigned long long number;
    while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (opt) {
        case OPT_LISTEN:
            snprintf(listen_arg, sizeof listen_arg, "%s", optarg);
            if (!parse_listen(listen_arg, &opts.host, &opts.port)) {
                fprintf(stderr, "hometab: --listen wants ADDRESS:PORT, e.g. 127.0.0.1:8008\n");
                return 2;
            }
            break;
        case OPT_DB: cfg.db_path = optarg; break;
        case OPT_NAME: cfg.server_name = optarg; break;
        case OPT_WEB: opts.web_root = optarg; break;
        case OPT_URL: cfg.public_base_url = optarg; break;
        case OPT_MAX_BODY:
            if (!parse_positive(optarg, "--max-body", SIZE_MAX, &number)) return 2;
            cfg.max_body_bytes = (size_t)number;
            max_body_given = true;
            break;
        case OPT_MAX_UPLOAD:
            if (!parse_positive(optarg, "--max-upload", SIZE_MAX, &number)) return 2;
            cfg.max_upload_bytes = (size_t)number;
            max_upload_given = true;
            break;
        case OPT_REQUEST_TIMEOUT:
            if (!parse_positive(optarg, "--request-timeout-ms", SIZE_MAX, &number)) return 2;
            opts.request_timeout_ms = number;
            break;
        case OPT_IDLE_TIMEOUT:
            if (!parse_positive(optarg, "--idle-timeout-ms", SIZE_MAX, &number)) return 2;
            opts.idle_timeout_ms = number;
            break;
        case OPT_SEND_TIMEOUT:
            if (!parse_positive(optarg, "--send-timeout-ms", SIZE_MAX, &number)) return 2;
            opts.send_timeout_ms = number;
            break;
        case OPT_MAX_BUFFERED:
            if (!parse_positive(optarg, "--max-buffered", SIZE_MAX, &number)) return 2;
            opts.max_buffered = (size_t)number;
            max_buffered_given = true;
            break;
        case OPT_PRESENCE_OFFLINE:
            if (!parse_positive(optarg, "--presence-offline-ms", INT64_MAX, &number)) return 2;
            cfg.presence_offline_ms = (int64_t)number;
            break;
        case OPT_MAX_CONNS:
            if (!parse_positive(optarg, "--max-connections", UINT_MAX, &number)) return 2;
            opts.max_connections = (unsigned)number;
            break;
        case OPT_MAX_CONNS_IP:
            if (!parse_positive(optarg, "--max-connections-per-ip", UINT_MAX, &number)) return 2;
            opts.max_connections_per_ip = (unsigned)number;
            break;
        case OPT_MAX_PARKED:
            if (!parse_positive(optarg, "--max-parked", UINT_MAX, &number)) return 2;
            opts.max_parked = (unsigned)number;
            break;
        case OPT_MAX_PARKED_IP:
            if (!parse_positive(optarg, "--max-parked-per-ip", UINT_MAX, &number)) return 2;
            opts.max_parked_per_ip = (unsigned)number;
            break;
        case OPT_RATE:
            if (!parse_rate(optarg, &cfg)) return 2;
            break;
        case OPT_NO_RATE: cfg.rate_limit = false; break;
        case OPT_LOG: opts.log_requests = true; break;
        case OPT_HELP: usage(stdout); return 0;
        case OPT_FEDERATION: opts.federation = true; break;
        case OPT_NO_FEDERATION: opts.federation = false; break;
        case OPT_FEDERATION_CA: opts.fetch.ca_file = optarg; break;
        case OPT_FEDERATION_INSECURE: opts.fetch.insecure_http = true; break;
        case OPT_FEDERATION_DNS: opts.fetch.dns_server = optarg; break;
        case OPT_WEAK_PASSWORDS:
            weak_passwords = true;
            cfg.pwhash_opslimit = 1;   /* crypto_pwhash_OPSLIMIT_MIN */
            cfg.pwhash_memlimit = 8192; /* crypto_pwhash_MEMLIMIT_MIN */
            break;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "hometab: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    /* An upload is one request body, so the body limit must let the
     * largest file through: a lower --max-body alone also lowers the upload
     * limit; an explicit --max-upload raises the body limit. */
    if (cfg.max_body_bytes < cfg.max_upload_bytes) {
        if (max_body_given && max_upload_given) {
            fprintf(stderr, "hometab: --max-body must be at least --max-upload\n");
            return 2;
        }
        if (max_body_given) cfg.max_upload_bytes = cfg.max_body_bytes;
        else cfg.max_body_bytes = cfg.max_upload_bytes;
    }

    /* The one largest request must fit in the server's memory bound, or it
     * could never be received: its head, its body with the most chunked
     * framing allows (as much again, and 64 KiB), and a read beyond. */
    size_t largest = cfg.max_header_bytes + 2 * cfg.max_body_bytes + 256 * 1024;
    if (opts.max_buffered < largest) {
        if (max_buffered_given) {
            fprintf(stderr, "hometab: --max-buffered must be at least %zu bytes (one largest request: "
                            "twice --max-body, plus headers and a margin)\n", largest);
            return 2;
        }
        opts.max_buffered = largest;
    }

    /* Plain HTTP carries federation requests (signed, but readable and
     * their answers unauthenticated) between servers on one machine only. */
    if (opts.fetch.insecure_http && !is_loopback(opts.host)) {
        fprintf(stderr, "hometab: --federation-insecure-http sends federation traffic without TLS; it is for tests "
                        "and development on one machine, so --listen must be a loopback address (127.0.0.1, ::1), "
                        "not %s\n", opts.host);
        return 2;
    }
    /* Passwords hashed that cheaply could be guessed from a copied database:
     * only a server no other machine can reach may do it. */
    if (weak_passwords && !is_loopback(opts.host)) {
        fprintf(stderr, "hometab: --weak-password-hashing is for benchmarks and tests on one machine, so --listen "
                        "must be a loopback address (127.0.0.1, ::1), not %s\n", opts.host);
        return 2;
    }
    char fetch_err[512];
    ht_fetcher_options ca_only = {.ca_file = opts.fetch.ca_file}, dns_only = {.dns_server = opts.fetch.dns_server};
    if (!ht_fetcher_check_options(&ca_only, fetch_err, sizeof fetch_err)) {
        fprintf(stderr, "hometab: --federation-ca: %s\n", fetch_err);
        return 2;
    }
    if (!ht_fetcher_check_options(&dns_only, fetch_err, sizeof fetch_err)) {
        fprintf(stderr, "hometab: --federation-dns: %s\n", fetch_err);
        return 2;
    }

    opts.max_connections = ht_fd_limit_fit(opts.max_connections);

    char err[1024];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    if (!core) {
        fprintf(stderr, "hometab: %s\n", err);
        return 4;
    }
    int rc = ht_server_run(core, &cfg, &opts);
    ht_core_close(core);
    return rc;
}
