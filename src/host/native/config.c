/* config.c -- flags and the config file, from one table.
 *
 * The file is INI, read by inih (Debian's libinih): "key = value" lines,
 * "#" or ";" comments, and one [rate-limit] section. We chose it because
 * it is the format operators already write for systemd units, git and
 * most daemons on the machine, it has comments (JSON has none) and no
 * indentation or implicit typing traps (YAML's "no" that becomes false),
 * and inih is small, strict and packaged. A value may be written in double
 * quotes, so a file in TOML's flat key = "value" style reads the same.
 * inih runs with continuation lines off (an indented line is a line of
 * its own, never silently part of the value above), lines of any length,
 * and stops at the first error, so the line it names is the one to fix.
 *
 * One table serves both: each entry is a flag (--name) and, unless it is
 * only a flag, the file's key of the same name. Both go through apply(),
 * so a value means the same wherever it is written; flags are applied
 * after the file, so they win. */
#include "host/native/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/native/fetch.h"
#include "host/native/log.h"
#include "util/oom.h"

enum option_id {
    O_CONFIG = 1, O_LISTEN, O_DB, O_SERVER_NAME, O_WEB_ROOT, O_PUBLIC_URL, O_REGISTRATION, O_MAX_BODY,
    O_MAX_UPLOAD, O_REQUEST_TIMEOUT, O_IDLE_TIMEOUT, O_SEND_TIMEOUT, O_MAX_BUFFERED, O_PRESENCE_OFFLINE, O_MAX_CONNS, O_MAX_CONNS_IP,
    O_MAX_PARKED, O_MAX_PARKED_IP, O_RATE_LIMIT, O_NO_RATE_LIMIT, O_LOG_LEVEL, O_LOG_REQUESTS, O_FEDERATION,
    O_NO_FEDERATION, O_FEDERATION_CA, O_FEDERATION_INSECURE, O_FEDERATION_DNS, O_P2P_GATEWAY, O_WEAK_PASSWORDS, O_HELP,
    O_ADMIN, O_REPLACE, O_COUNT
};

/* Where an option may be written. */
enum { IN_FILE = 1, SERVER_ONLY = 2, FOR_CREATE_USER = 4, FOR_RESTORE = 8 };

typedef struct option_def {
    enum option_id id;
    const char *name; /* --name, and the file's key */
    const char *arg;  /* what the value looks like; NULL: a switch (true/false in the file) */
    unsigned where;
    const char *help;
} option_def;

static const option_def options[] = {
    {O_CONFIG, "config", "FILE", 0, "read settings from FILE (INI: key = value); flags win over it"},
    {O_LISTEN, "listen", "ADDR:PORT", IN_FILE,
     "where to listen (default 127.0.0.1:8008; [::1]:8008 for IPv6;\n"
     "port 0 picks a free port, printed on stdout)"},
    {O_DB, "db", "PATH", IN_FILE, "SQLite database file (default hometab.sqlite; :memory: for none)"},
    {O_SERVER_NAME, "server-name", "NAME", IN_FILE, "the server name in user and room ids (default localhost)"},
    {O_WEB_ROOT, "web-root", "DIR", IN_FILE, "serve static files (the in-browser demo) from DIR"},
    {O_PUBLIC_URL, "public-url", "URL", IN_FILE, "base URL advertised in /.well-known (default: from Host)"},
    {O_REGISTRATION, "registration", "MODE", IN_FILE,
     "who may register: open, closed (403) or token (a registration token\n"
     "from the admin API); default closed unless --listen is a loopback address"},
    {O_MAX_BODY, "max-body", "BYTES", IN_FILE, "largest request body accepted (default 52428800)"},
    {O_MAX_UPLOAD, "max-upload", "BYTES", IN_FILE,
     "largest media file accepted (default 52428800);\n"
     "raises --max-body to match when it is larger"},
    {O_REQUEST_TIMEOUT, "request-timeout-ms", "N", IN_FILE,
     "a started request must arrive within N ms, else 408 (default 30000)"},
    {O_IDLE_TIMEOUT, "idle-timeout-ms", "N", IN_FILE, "close a keep-alive connection idle for N ms (default 75000)"},
    {O_SEND_TIMEOUT, "send-timeout-ms", "N", IN_FILE,
     "close a connection whose client takes none of its answers\nfor N ms (default 60000)"},
    {O_MAX_BUFFERED, "max-buffered", "BYTES", IN_FILE,
     "bytes held for all connections together (requests received,\n"
     "answers not yet taken); past it new connections get 503 and\n"
     "reading pauses (default 536870912; at least what one largest\n"
     "request needs)"},
    {O_PRESENCE_OFFLINE, "presence-offline-ms", "N", IN_FILE,
     "show a user offline once none of their clients has\nsynced for N ms (default 180000)"},
    {O_MAX_CONNS, "max-connections", "N", IN_FILE, "open connections in all; more get 503 (default 10000)"},
    {O_MAX_CONNS_IP, "max-connections-per-ip", "N", IN_FILE, "open connections from one address (default 2000)"},
    {O_MAX_PARKED, "max-parked", "N", IN_FILE, "long-polls (/sync) waiting at once; more get 503 (default 5000)"},
    {O_MAX_PARKED_IP, "max-parked-per-ip", "N", IN_FILE,
     "long-polls waiting from one address; more get 429 (default 500)"},
    {O_RATE_LIMIT, "rate-limit", "ACTION=PER_SECOND/BURST", IN_FILE,
     "a token bucket: BURST calls at once, then\n"
     "PER_SECOND on average. ACTION is user (events, rooms, joins,\n"
     "invites, uploads, to-device: per user; default 10/50);\n"
     "login (logins that check a password, all callers together;\n"
     "1/30), login-address (per client address; 0.1/10) or\n"
     "login-account (failed logins per account; 0.2/20);\n"
     "register (all callers; 0.5/20) or register-address (0.05/10);\n"
     "federation (signed requests of another server, per origin\n"
     "server; 20/200) or federation-keys (fetches of a server's\n"
     "keys to check requests claiming it, per server; 0.033/5).\n"
     "In the file: ACTION = PER_SECOND/BURST under [rate-limit]"},
    {O_NO_RATE_LIMIT, "no-rate-limit", NULL, IN_FILE, "turn off rate limits (for load and acceptance tests)"},
    {O_LOG_LEVEL, "log-level", "LEVEL", IN_FILE, "error, warn, info (default) or debug"},
    {O_LOG_REQUESTS, "log-requests", NULL, IN_FILE, "log one line per Matrix request"},
    {O_FEDERATION, "federation", NULL, IN_FILE,
     "share rooms with other Matrix servers (off by default;\n"
     "the README says how other servers reach this one)"},
    {O_NO_FEDERATION, "no-federation", NULL, IN_FILE, "do not (the default)"},
    {O_FEDERATION_CA, "federation-ca", "FILE", IN_FILE,
     "trust the CA certificates in FILE (PEM) for other servers,\nbesides the system's"},
    {O_FEDERATION_INSECURE, "federation-insecure-http", NULL, IN_FILE,
     "plain http:// to every other server, no TLS: for tests\n"
     "and development on one machine; refused unless --listen is\n"
     "a loopback address"},
    {O_P2P_GATEWAY, "p2p-gateway", "ADDR:PORT", IN_FILE,
     "reach browser servers (named by their key) through the HTTP\n"
     "gateway of a p2p relay on this machine (plain http, loopback\n"
     "only; `make run` starts one on 127.0.0.1:8010)"},
    /* Not in --help: for tests, which answer SRV and address lookups from
     * a DNS server of their own (tests/fedhost). */
    {O_FEDERATION_DNS, "federation-dns", "ADDR:PORT", IN_FILE, NULL},
    /* Not in --help nor the file: for benchmarks and tests that register
     * thousands of users (a 5,000-member room), Argon2id at libsodium's
     * least cost; refused unless --listen is a loopback address. */
    {O_WEAK_PASSWORDS, "weak-password-hashing", NULL, 0, NULL},
    {O_HELP, "help", NULL, 0, "this text"},
    {O_ADMIN, "admin", NULL, FOR_CREATE_USER, NULL},
    {O_REPLACE, "replace", NULL, FOR_RESTORE, NULL},
};
enum { OPTION_COUNT = sizeof options / sizeof *options };

static const option_def *option_named(const char *name) {
    for (size_t i = 0; i < OPTION_COUNT; i++)
        if (strcmp(options[i].name, name) == 0) return &options[i];
    return NULL;
}

static void usage(FILE *f) {
    fprintf(f, "Usage: hometab [options]             run the server\n"
               "       hometab [options] COMMAND ...  an operator's command (below)\n"
               "A Matrix homeserver.\n\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const option_def *o = &options[i];
        if (!o->help) continue;
        char head[64];
        snprintf(head, sizeof head, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        /* The first help line beside the flag when it fits, the rest under it. */
        const char *line = o->help;
        bool beside = strlen(head) < 22;
        fprintf(f, "  %-22s%s", head, beside ? "" : "\n");
        for (bool first = true; *line; first = false) {
            size_t n = strcspn(line, "\n");
            fprintf(f, "%s%.*s\n", first && beside ? "" : "                        ", (int)n, line);
            line += n + (line[n] == '\n');
        }
    }
    fprintf(f, "\nCommands (they take --config, --db and --server-name as the server does):\n"
               "  backup PATH           a consistent copy of the database, taken while it runs\n"
               "  restore BACKUP [--replace]  put a backup in place of the database (server stopped)\n"
               "  create-user NAME [--admin]  make an account; the password is read from stdin\n"
               "  admin grant USER | admin revoke USER | admin list   server admins\n"
               "  check-config          read the settings, say what they are, and exit\n"
               "\nEvery flag is also a key of the config file: --max-body 1000 is max-body = 1000.\n");
}

/* ---- values ------------------------------------------------------------- */

/* Text that outlives the file's parsing. */
static char *keep(ht_native_config *c, const char *text) {
    if (c->owned_count == c->owned_cap) {
        c->owned_cap = c->owned_cap ? 2 * c->owned_cap : 16;
        c->owned = ht_xrealloc(c->owned, c->owned_cap * sizeof *c->owned);
    }
    return c->owned[c->owned_count++] = ht_xstrdup(text);
}

static bool parse_listen(ht_native_config *c, const char *arg, char *why, size_t why_size) {
    char *text = keep(c, arg);
    char *colon = strrchr(text, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : -1;
    if (colon) *colon = '\0';
    char *host = text;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        host++;
    }
    if (!colon || !end || *end || end == colon + 1 || port < 0 || port > 65535 || !*host) {
        snprintf(why, why_size, "wants ADDRESS:PORT, e.g. 127.0.0.1:8008, not '%s'", arg);
        return false;
    }
    /* An address, not a name: the server binds it as it is, and a name
     * found wrong only at the bind would not say which line set it. */
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(strchr(host, ':') ? AF_INET6 : AF_INET, host, addr) != 1) {
        snprintf(why, why_size, "wants an IP address and a port, e.g. 127.0.0.1:8008, 0.0.0.0:8008 or [::]:8008, "
                                "not '%s'", arg);
        return false;
    }
    c->server.host = host;
    c->server.port = (int)port;
    return true;
}

/* A whole number from 1 to max; with `bytes`, a k, M or G suffix multiplies
 * by 1024, 1024^2 or 1024^3. */
static bool parse_positive(const char *arg, unsigned long long max, bool bytes, unsigned long long *out, char *why,
                           size_t why_size) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    unsigned long long scale = 1;
    if (bytes && end != arg && *end && !end[1]) {
        scale = *end == 'k' || *end == 'K' ? 1ull << 10 : *end == 'M' ? 1ull << 20 : *end == 'G' ? 1ull << 30 : 0;
        if (scale) end++;
        else scale = 1;
    }
    if (errno || *end || end == arg || v == 0 || arg[0] == '-' || v > max / scale) {
        snprintf(why, why_size, "wants a whole number from 1 to %llu%s, not '%s'", max,
                 bytes ? " (or with k, M or G)" : "", arg);
        return false;
    }
    *out = v * scale;
    return true;
}

static bool parse_bool(const char *arg, bool *out, char *why, size_t why_size) {
    static const char *const yes[] = {"true", "yes", "on", "1"}, *const no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(arg, yes[i]) == 0) return *out = true;
        if (strcmp(arg, no[i]) == 0) return !(*out = false);
    }
    snprintf(why, why_size, "wants true or false, not '%s'", arg);
    return false;
}

/* The buckets --rate-limit and [rate-limit] may set, by action name. */
static const struct {
    const char *name;
    size_t offset;
} rate_actions[] = {
    {"user", offsetof(ht_config, rate_user)},
    {"login", offsetof(ht_config, rate_login)},
    {"login-address", offsetof(ht_config, rate_login_address)},
    {"login-account", offsetof(ht_config, rate_login_account)},
    {"register", offsetof(ht_config, rate_register)},
    {"register-address", offsetof(ht_config, rate_register_address)},
    {"federation", offsetof(ht_config, rate_federation)},
    {"federation-keys", offsetof(ht_config, rate_federation_keys)},
};
enum { RATE_ACTION_COUNT = sizeof rate_actions / sizeof *rate_actions };

/* The bucket an action names (and its place in rate_actions), or NULL. */
static ht_rate *rate_rule(ht_config *cfg, const char *action, size_t len, size_t *index) {
    for (size_t i = 0; i < RATE_ACTION_COUNT; i++) {
        if (strlen(rate_actions[i].name) != len || strncmp(action, rate_actions[i].name, len) != 0) continue;
        if (index) *index = i;
        return (ht_rate *)((char *)cfg + rate_actions[i].offset);
    }
    return NULL;
}

/* PER_SECOND/BURST, e.g. 0.5/10, into rule. */
static bool parse_rate_value(const char *text, ht_rate *rule) {
    char *end = NULL;
    errno = 0;
    double per_second = strtod(text, &end);
    unsigned long burst = 0;
    if (!errno && end != text && *end == '/' && end[1] >= '0' && end[1] <= '9') {
        burst = strtoul(end + 1, &end, 10);
        if (errno || *end) burst = 0;
    }
    if (!(per_second > 0 && per_second <= 1e6) || burst == 0 || burst > 1000000) return false;
    *rule = (ht_rate){per_second, (unsigned)burst};
    return true;
}

static const char rate_wants[] =
    "wants ACTION=PER_SECOND/BURST with ACTION user, login, login-address, login-account, register, "
    "register-address, federation or federation-keys, e.g. login=0.5/10";

/* "127.x.x.x:PORT": the p2p gateway, reached by plain http on this machine. */
static bool is_loopback_gateway(const char *text) {
    char host[32];
    const char *colon = strrchr(text, ':');
    if (!colon || (size_t)(colon - text) >= sizeof host) return false;
    snprintf(host, sizeof host, "%.*s", (int)(colon - text), text);
    struct in_addr v4;
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    return inet_pton(AF_INET, host, &v4) == 1 && ht_native_address_is_loopback(host) && !errno && *end == '\0' &&
           end != colon + 1 && port >= 1 && port <= 65535 && colon[1] != '-' && colon[1] != '+';
}

/* Sets option o from its text. why: what is wrong, to be prefixed with
 * where it was written. */
static bool apply(ht_native_config *c, const option_def *o, const char *value, char *why, size_t why_size) {
    unsigned long long n;
    ht_config *cfg = &c->core;
    ht_server_options *srv = &c->server;
    bool on;
    switch (o->id) {
    case O_LISTEN: return parse_listen(c, value, why, why_size);
    case O_DB: cfg->db_path = value; return true;
    case O_SERVER_NAME:
        if (!*value || strlen(value) > 255 || strpbrk(value, " /@#!$")) {
            snprintf(why, why_size, "wants a host name (and port), e.g. example.org, not '%s'", value);
            return false;
        }
        cfg->server_name = value;
        return true;
    case O_WEB_ROOT: srv->web_root = value; return true;
    case O_PUBLIC_URL:
        if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
            snprintf(why, why_size, "wants an http:// or https:// URL, not '%s'", value);
            return false;
        }
        cfg->public_base_url = value;
        return true;
    case O_REGISTRATION:
        if (strcmp(value, "open") == 0) cfg->registration = HT_REGISTRATION_OPEN;
        else if (strcmp(value, "closed") == 0) cfg->registration = HT_REGISTRATION_CLOSED;
        else if (strcmp(value, "token") == 0) cfg->registration = HT_REGISTRATION_TOKEN;
        else {
            snprintf(why, why_size, "wants open, closed or token, not '%s'", value);
            return false;
        }
        c->registration_given = true;
        return true;
    case O_MAX_BODY:
        if (!parse_positive(value, SIZE_MAX, true, &n, why, why_size)) return false;
        cfg->max_body_bytes = (size_t)n;
        c->max_body_given = true;
        return true;
    case O_MAX_UPLOAD:
        if (!parse_positive(value, SIZE_MAX, true, &n, why, why_size)) return false;
        cfg->max_upload_bytes = (size_t)n;
        c->max_upload_given = true;
        return true;
    case O_REQUEST_TIMEOUT:
        if (!parse_positive(value, SIZE_MAX, false, &n, why, why_size)) return false;
        srv->request_timeout_ms = n;
        return true;
    case O_IDLE_TIMEOUT:
        if (!parse_positive(value, SIZE_MAX, false, &n, why, why_size)) return false;
        srv->idle_timeout_ms = n;
        return true;
    case O_SEND_TIMEOUT:
        if (!parse_positive(value, SIZE_MAX, false, &n, why, why_size)) return false;
        srv->send_timeout_ms = n;
        return true;
    case O_MAX_BUFFERED:
        if (!parse_positive(value, SIZE_MAX, true, &n, why, why_size)) return false;
        srv->max_buffered = (size_t)n;
        c->max_buffered_given = true;
        return true;
    case O_PRESENCE_OFFLINE:
        if (!parse_positive(value, INT64_MAX, false, &n, why, why_size)) return false;
        cfg->presence_offline_ms = (int64_t)n;
        return true;
    case O_MAX_CONNS:
    case O_MAX_CONNS_IP:
    case O_MAX_PARKED:
    case O_MAX_PARKED_IP:
        if (!parse_positive(value, UINT_MAX, false, &n, why, why_size)) return false;
        *(o->id == O_MAX_CONNS      ? &srv->max_connections
          : o->id == O_MAX_CONNS_IP ? &srv->max_connections_per_ip
          : o->id == O_MAX_PARKED   ? &srv->max_parked
                                    : &srv->max_parked_per_ip) = (unsigned)n;
        return true;
    case O_RATE_LIMIT: {
        const char *eq = strchr(value, '=');
        ht_rate *rule = eq ? rate_rule(cfg, value, (size_t)(eq - value), NULL) : NULL;
        if (!rule || !parse_rate_value(eq + 1, rule)) {
            snprintf(why, why_size, "%s, not '%s'", rate_wants, value);
            return false;
        }
        return true;
    }
    case O_NO_RATE_LIMIT:
        if (!parse_bool(value, &on, why, why_size)) return false;
        cfg->rate_limit = !on;
        return true;
    case O_LOG_LEVEL:
        if (!ht_host_log_level_named(value, &c->log_level)) {
            snprintf(why, why_size, "wants error, warn, info or debug, not '%s'", value);
            return false;
        }
        return true;
    case O_LOG_REQUESTS: return parse_bool(value, &srv->log_requests, why, why_size);
    case O_FEDERATION:
    case O_NO_FEDERATION:
        if (!parse_bool(value, &on, why, why_size)) return false;
        srv->federation = o->id == O_FEDERATION ? on : !on;
        return true;
    case O_FEDERATION_CA: srv->fetch.ca_file = value; return true;
    case O_FEDERATION_INSECURE: return parse_bool(value, &srv->fetch.insecure_http, why, why_size);
    case O_FEDERATION_DNS: srv->fetch.dns_server = value; return true;
    case O_P2P_GATEWAY:
        if (!is_loopback_gateway(value)) {
            snprintf(why, why_size, "wants an IPv4 loopback address and port (127.0.0.1:8010): the gateway is "
                     "reached by plain http, so only on this machine; not '%s'", value);
            return false;
        }
        srv->fetch.p2p_gateway = value;
        return true;
    case O_WEAK_PASSWORDS: return parse_bool(value, &c->weak_password_hashing, why, why_size);
    case O_ADMIN: return parse_bool(value, &c->create_admin, why, why_size);
    case O_REPLACE: return parse_bool(value, &c->replace, why, why_size);
    case O_CONFIG:
    case O_HELP:
    case O_COUNT: break;
    }
    return true;
}

/* ---- the file ----------------------------------------------------------- */

typedef struct file_reading {
    ht_native_config *c;
    bool seen[O_COUNT];
    bool rate_seen[RATE_ACTION_COUNT];
    char why[512]; /* the first error; its line is what inih returns */
} file_reading;

static int on_file_entry(void *user, const char *section, const char *key, const char *raw) {
    file_reading *r = user;
    /* "value" reads as value: flat TOML files work too. */
    size_t len = strlen(raw);
    char *value = keep(r->c, raw);
    if (len >= 2 && raw[0] == '"' && raw[len - 1] == '"') {
        value[len - 1] = '\0';
        value++;
    }
    if (strcmp(section, "rate-limit") == 0) {
        size_t i;
        ht_rate *rule = rate_rule(&r->c->core, key, strlen(key), &i);
        if (!rule) {
            snprintf(r->why, sizeof r->why, "unknown action '%s' in [rate-limit] (user, login, login-address, "
                     "login-account, register, register-address, federation or federation-keys)", key);
            return 0;
        }
        if (r->rate_seen[i]) {
            snprintf(r->why, sizeof r->why, "%s is set twice in [rate-limit]", key);
            return 0;
        }
        r->rate_seen[i] = true;
        if (!parse_rate_value(value, rule)) {
            snprintf(r->why, sizeof r->why, "%s wants PER_SECOND/BURST, e.g. 0.5/10, not '%s'", key, value);
            return 0;
        }
        return 1;
    }
    if (*section) {
        snprintf(r->why, sizeof r->why, "unknown section [%s] (the only section is [rate-limit])", section);
        return 0;
    }
    const option_def *o = option_named(key);
    if (!o || !(o->where & IN_FILE) || o->id == O_RATE_LIMIT) {
        snprintf(r->why, sizeof r->why, "unknown key '%s'%s", key,
                 o && o->id == O_RATE_LIMIT ? " (rate limits go under [rate-limit] as ACTION = PER_SECOND/BURST)"
                                            : " (hometab --help lists them: each flag is a key)");
        return 0;
    }
    if (r->seen[o->id]) {
        snprintf(r->why, sizeof r->why, "%s is set twice", key);
        return 0;
    }
    r->seen[o->id] = true;
    char why[400];
    if (!apply(r->c, o, value, why, sizeof why)) {
        snprintf(r->why, sizeof r->why, "%s %s", key, why);
        return 0;
    }
    return 1;
}

static bool read_file(ht_native_config *c, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "hometab: cannot read the config file %s: %s\n", path, strerror(errno));
        return false;
    }
    ini_allow_multiline = false;
    ini_use_stack = false;
    ini_allow_realloc = true;
    ini_max_line = 64 * 1024;
    ini_stop_on_first_error = true;
    ini_inline_comment_prefixes = ";#";
    file_reading r = {.c = c};
    int line = ini_parse_file(f, on_file_entry, &r);
    fclose(f);
    if (line == 0) return true;
    if (line < 0) fprintf(stderr, "hometab: cannot read the config file %s (out of memory)\n", path);
    else if (r.why[0]) fprintf(stderr, "hometab: %s line %d: %s\n", path, line, r.why);
    else
        fprintf(stderr, "hometab: %s line %d: not a 'key = value' line, a [section] or a comment\n", path, line);
    return false;
}

/* ---- reading it all ----------------------------------------------------- */

bool ht_native_address_is_loopback(const char *host) {
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, host, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
    return strcmp(host, "localhost") == 0;
}

/* The federation client's settings, checked before anything starts. */
static bool check_federation(const ht_server_options *srv) {
    /* Plain HTTP carries federation requests (signed, but readable and
     * their answers unauthenticated) between servers on one machine only. */
    if (srv->fetch.insecure_http && !ht_native_address_is_loopback(srv->host)) {
        fprintf(stderr, "hometab: --federation-insecure-http sends federation traffic without TLS; it is for tests "
                        "and development on one machine, so --listen must be a loopback address (127.0.0.1, ::1), "
                        "not %s\n", srv->host);
        return false;
    }
    char err[512];
    ht_fetcher_options ca_only = {.ca_file = srv->fetch.ca_file}, dns_only = {.dns_server = srv->fetch.dns_server};
    if (!ht_fetcher_check_options(&ca_only, err, sizeof err)) {
        fprintf(stderr, "hometab: --federation-ca: %s\n", err);
        return false;
    }
    if (!ht_fetcher_check_options(&dns_only, err, sizeof err)) {
        fprintf(stderr, "hometab: --federation-dns: %s\n", err);
        return false;
    }
    return true;
}

const char *ht_native_registration_name(ht_registration mode) {
    return mode == HT_REGISTRATION_OPEN ? "open" : mode == HT_REGISTRATION_CLOSED ? "closed" : "token";
}

static void defaults(ht_native_config *c) {
    memset(c, 0, sizeof *c);
    ht_config_defaults(&c->core);
    c->core.offload_hashing = true; /* Argon2 runs on libuv's thread pool (server.c) */
    c->server = (ht_server_options){.host = "127.0.0.1",
                                    .port = 8008,
                                    .idle_timeout_ms = 75000,
                                    .request_timeout_ms = 30000,
                                    .max_connections = 10000,
                                    .max_connections_per_ip = 2000,
                                    .max_parked = 5000,
                                    .max_parked_per_ip = 500,
                                    .send_timeout_ms = 60000,
                                    .max_buffered = 512u * 1024 * 1024};
    c->log_level = HT_LOG_INFO;
}

static bool accepted_here(const option_def *o, const char *command) {
    if (o->where & FOR_CREATE_USER) return command && strcmp(command, "create-user") == 0;
    if (o->where & FOR_RESTORE) return command && strcmp(command, "restore") == 0;
    return true;
}

int ht_native_config_read(ht_native_config *c, int argc, char **argv, const char **command) {
    defaults(c);
    *command = NULL;
    struct option long_opts[OPTION_COUNT + 1];
    for (size_t i = 0; i < OPTION_COUNT; i++)
        long_opts[i] = (struct option){options[i].name, options[i].arg ? required_argument : no_argument, NULL,
                                       (int)options[i].id};
    long_opts[OPTION_COUNT] = (struct option){NULL, 0, NULL, 0};

    /* A first pass finds the file, wherever --config stands (so that flags
     * win), and the command: the first word that is not a flag (getopt
     * moves those after the flags). optind = 0 restarts getopt afresh. */
    int opt;
    opterr = 0;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1)
        if (opt == O_CONFIG) c->config_path = optarg;
    if (optind < argc) *command = argv[optind];
    if (c->config_path && !read_file(c, c->config_path)) return HT_CONFIG_BAD;

    opterr = 1;
    optind = 0;
    while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        if (opt == '?' || opt == ':') {
            usage(stderr);
            return HT_CONFIG_BAD;
        }
        const option_def *o = NULL;
        for (size_t i = 0; i < OPTION_COUNT; i++)
            if ((int)options[i].id == opt) o = &options[i];
        if (o->id == O_CONFIG) continue;
        if (o->id == O_HELP) {
            usage(stdout);
            return HT_CONFIG_HELP;
        }
        if (!accepted_here(o, *command)) {
            fprintf(stderr, "hometab: --%s is for %s only\n", o->name,
                    o->where & FOR_CREATE_USER ? "hometab create-user" : "hometab restore");
            return HT_CONFIG_BAD;
        }
        char why[512];
        if (!apply(c, o, o->arg ? optarg : "true", why, sizeof why)) {
            fprintf(stderr, "hometab: --%s %s\n", o->name, why);
            return HT_CONFIG_BAD;
        }
    }
    if (*command) {
        c->args = argv + optind + 1;
        c->arg_count = argc - optind - 1;
    }

    /* An upload is one request body, so the body limit must let the
     * largest file through: a lower max-body alone also lowers the upload
     * limit; an explicit max-upload raises the body limit. */
    ht_config *cfg = &c->core;
    if (cfg->max_body_bytes < cfg->max_upload_bytes) {
        if (c->max_body_given && c->max_upload_given) {
            fprintf(stderr, "hometab: --max-body must be at least --max-upload\n");
            return HT_CONFIG_BAD;
        }
        if (c->max_body_given) cfg->max_upload_bytes = cfg->max_body_bytes;
        else cfg->max_body_bytes = cfg->max_upload_bytes;
    }
    /* The one largest request must fit in the server's memory bound, or it
     * could never be received: its head, its body with the most chunked
     * framing allows (as much again, and 64 KiB), and a read beyond. */
    size_t largest = cfg->max_header_bytes + 2 * cfg->max_body_bytes + 256 * 1024;
    if (c->server.max_buffered < largest) {
        if (c->max_buffered_given) {
            fprintf(stderr, "hometab: --max-buffered must be at least %zu bytes (one largest request: "
                            "twice --max-body, plus headers and a margin)\n", largest);
            return HT_CONFIG_BAD;
        }
        c->server.max_buffered = largest;
    }
    if (!check_federation(&c->server)) return HT_CONFIG_BAD;
    /* Passwords hashed that cheaply could be guessed from a copied database:
     * only a server no other machine can reach may do it. */
    if (c->weak_password_hashing) {
        if (!ht_native_address_is_loopback(c->server.host)) {
            fprintf(stderr, "hometab: --weak-password-hashing is for benchmarks and tests on one machine, so "
                            "--listen must be a loopback address (127.0.0.1, ::1), not %s\n", c->server.host);
            return HT_CONFIG_BAD;
        }
        cfg->pwhash_opslimit = 1;    /* crypto_pwhash_OPSLIMIT_MIN */
        cfg->pwhash_memlimit = 8192; /* crypto_pwhash_MEMLIMIT_MIN */
    }
    cfg->federation = c->server.federation;
    /* A server reachable from elsewhere does not hand out accounts to
     * whoever finds it, unless its operator says so. */
    if (!c->registration_given)
        cfg->registration = ht_native_address_is_loopback(c->server.host) ? HT_REGISTRATION_OPEN
                                                                          : HT_REGISTRATION_CLOSED;
    return HT_CONFIG_OK;
}

void ht_native_config_free(ht_native_config *c) {
    for (size_t i = 0; i < c->owned_count; i++) free(c->owned[i]);
    free(c->owned);
    c->owned = NULL;
    c->owned_count = c->owned_cap = 0;
}
