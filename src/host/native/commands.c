/* commands.c -- what an operator runs besides the server: backup, restore,
 * create-user, admin grant/revoke/list, check-config.
 *
 * The account commands are clients of the admin API: they open the core on
 * the same database and send it the admin API's own requests through the
 * door with the operator's authority (ht_request_meta.operator), so an
 * account made here is made exactly as Synapse-Admin would make it, and the
 * action is logged the same way. They may run while the server runs:
 * SQLite serializes the two processes' writes. Restore may not, and makes
 * sure of it (db_lock.h). */
#include "host/native/commands.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "host/native/db_lock.h"
#include "host/native/log.h"
#include "util/oom.h"

enum { EXIT_REFUSED = 1, EXIT_USAGE = 2, EXIT_DATABASE = 4, MAX_PASSWORD_BYTES = 1024 };

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- calling the admin API through the door ----------------------------- */

typedef struct answer {
    int status;
    json_t *body; /* owned; NULL if the answer was not JSON */
} answer;

/* Percent-encodes a path segment: user ids hold ':' and may hold '/'. */
static void append_segment(char *out, size_t size, const char *text) {
    size_t o = strlen(out);
    for (const unsigned char *p = (const unsigned char *)text; *p && o + 4 < size; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~@:", *p))
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, size - o, "%%%02X", *p);
    }
    out[o] = '\0';
}

static bool call(ht_core *core, const char *method, const char *path, json_t *body, answer *out) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    size_t body_len = text ? strlen(text) : 0;
    size_t cap = strlen(path) + body_len + 256;
    char *request = ht_xmalloc(cap);
    int n = snprintf(request, cap,
                     "%s %s HTTP/1.1\r\nHost: operator\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     method, path, body_len, text ? text : "");
    free(text);
    ht_result res;
    int64_t now = now_ms();
    ht_request_meta meta = {.received_ms = now, .now_ms = now, .operator = true};
    ht_core_handle(core, (const unsigned char *)request, (size_t)n, &meta, &res);
    free(request);
    ht_host_log_lines(res.log, res.log_count);
    out->status = 0;
    out->body = NULL;
    if (res.outcome != HT_ANSWER || res.response_len < 12) return false;
    out->status = atoi((const char *)res.response + 9);
    const unsigned char *end = res.response + res.response_len;
    for (const unsigned char *p = res.response; p + 4 <= end; p++) {
        if (memcmp(p, "\r\n\r\n", 4) == 0) {
            out->body = json_loadb((const char *)p + 4, (size_t)(end - p - 4), 0, NULL);
            break;
        }
    }
    return true;
}

/* The error the admin API answered with, for a sentence. */
static const char *error_of(const answer *a) {
    const char *e = json_string_value(json_object_get(a->body, "error"));
    return e ? e : "no reason given";
}

static ht_core *open_core(ht_native_config *c) {
    ht_config cfg = c->core;
    cfg.offload_hashing = false; /* no thread pool here: hash inline */
    char err[1024];
    ht_core *core = ht_core_open(&cfg, err, sizeof err);
    if (!core) fprintf(stderr, "hometab: %s\n", err);
    return core;
}

/* A user id from NAME or @name:server (this server's). */
static const char *user_id_of(ht_native_config *c, const char *name, char *out, size_t size) {
    if (name[0] == '@') snprintf(out, size, "%s", name);
    else snprintf(out, size, "@%s:%s", name, c->core.server_name);
    return out;
}

/* ---- passwords ---------------------------------------------------------- */

/* One line from f, without its line end; false at EOF or if too long. */
static bool read_line(FILE *f, char *out, size_t size) {
    if (!fgets(out, (int)size, f)) return false;
    size_t n = strcspn(out, "\r\n");
    if (out[n] == '\0' && !feof(f)) return false; /* longer than the buffer */
    out[n] = '\0';
    return true;
}

/* From the terminal with echo off, twice; or the first line of stdin. */
static bool read_password(const char *user_id, char *out, size_t size) {
    if (!isatty(STDIN_FILENO)) {
        if (!read_line(stdin, out, size) || !*out) {
            fprintf(stderr, "hometab: no password on stdin (one line, at most %d bytes)\n", MAX_PASSWORD_BYTES);
            return false;
        }
        return true;
    }
    struct termios before, quiet;
    tcgetattr(STDIN_FILENO, &before);
    quiet = before;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    char again[MAX_PASSWORD_BYTES + 2];
    fprintf(stderr, "Password for %s: ", user_id);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    bool ok = read_line(stdin, out, size);
    fprintf(stderr, "\nAgain: ");
    ok = ok && read_line(stdin, again, sizeof again);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &before);
    fprintf(stderr, "\n");
    if (!ok || !*out || strcmp(out, again) != 0) {
        fprintf(stderr, "hometab: the two passwords are empty or differ\n");
        return false;
    }
    return true;
}

/* ---- the commands ------------------------------------------------------- */

static int create_user(ht_native_config *c) {
    if (c->arg_count != 1) {
        fprintf(stderr, "hometab: create-user wants one NAME (a user name or @name:%s)\n", c->core.server_name);
        return EXIT_USAGE;
    }
    char user_id[512], path[1600] = "/_synapse/admin/v2/users/";
    user_id_of(c, c->args[0], user_id, sizeof user_id);
    append_segment(path, sizeof path, user_id);
    ht_core *core = open_core(c);
    if (!core) return EXIT_DATABASE;
    answer a;
    int rc = EXIT_REFUSED;
    if (call(core, "GET", path, NULL, &a) && a.status == 200) {
        fprintf(stderr, "hometab: %s exists already (hometab admin grant makes it an admin)\n", user_id);
    } else {
        json_decref(a.body);
        a.body = NULL;
        char password[MAX_PASSWORD_BYTES + 2];
        if (read_password(user_id, password, sizeof password)) {
            json_t *body = json_pack("{s:s, s:b}", "password", password, "admin", c->create_admin);
            memset(password, 0, sizeof password);
            call(core, "PUT", path, body, &a);
            json_decref(body);
            if (a.status == 201) {
                printf("hometab: created %s%s\n", user_id, c->create_admin ? ", a server admin" : "");
                rc = 0;
            } else {
                fprintf(stderr, "hometab: %s was not created: %s\n", user_id, error_of(&a));
            }
        }
    }
    json_decref(a.body);
    ht_core_close(core);
    return rc;
}

static int admin_command(ht_native_config *c) {
    const char *verb = c->arg_count > 0 ? c->args[0] : "";
    bool list = strcmp(verb, "list") == 0 && c->arg_count == 1;
    bool grant = strcmp(verb, "grant") == 0 && c->arg_count == 2;
    bool revoke = strcmp(verb, "revoke") == 0 && c->arg_count == 2;
    if (!list && !grant && !revoke) {
        fprintf(stderr, "hometab: admin wants: grant USER, revoke USER, or list\n");
        return EXIT_USAGE;
    }
    ht_core *core = open_core(c);
    if (!core) return EXIT_DATABASE;
    answer a;
    int rc = 0;
    if (list) {
        call(core, "GET", "/_synapse/admin/v2/users?admins=true&deactivated=true&limit=1000", NULL, &a);
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(a.body, "users"), i, u) {
            printf("%s%s\n", json_string_value(json_object_get(u, "name")),
                   json_is_true(json_object_get(u, "deactivated")) ? " (deactivated)" : "");
        }
        if (a.status != 200) {
            fprintf(stderr, "hometab: the admins could not be listed: %s\n", error_of(&a));
            rc = EXIT_REFUSED;
        }
    } else {
        char user_id[512], path[1600] = "/_synapse/admin/v1/users/";
        user_id_of(c, c->args[1], user_id, sizeof user_id);
        append_segment(path, sizeof path, user_id);
        strcat(path, "/admin");
        json_t *body = json_pack("{s:b}", "admin", grant);
        call(core, "PUT", path, body, &a);
        json_decref(body);
        if (a.status == 200) {
            printf("hometab: %s %s a server admin\n", user_id, grant ? "is now" : "is no longer");
        } else {
            fprintf(stderr, "hometab: %s: %s\n", user_id, error_of(&a));
            rc = EXIT_REFUSED;
        }
    }
    json_decref(a.body);
    ht_core_close(core);
    return rc;
}

static bool has_database(const char *db_path) {
    if (strcmp(db_path, ":memory:") == 0) {
        fprintf(stderr, "hometab: the database is :memory:: there is nothing to copy\n");
        return false;
    }
    return true;
}

static int backup(ht_native_config *c) {
    if (c->arg_count != 1) {
        fprintf(stderr, "hometab: backup wants one PATH to write the copy to\n");
        return EXIT_USAGE;
    }
    if (!has_database(c->core.db_path)) return EXIT_USAGE;
    char err[1024];
    ht_backup_info info;
    int64_t started = now_ms();
    if (!ht_database_backup(c->core.db_path, c->args[0], &info, err, sizeof err)) {
        fprintf(stderr, "hometab: no backup made: %s\n", err);
        return EXIT_REFUSED;
    }
    printf("hometab: backup of %s written to %s (%lld bytes, %d pages, schema %d) in %lld ms\n", c->core.db_path,
           c->args[0], (long long)info.bytes, info.pages, info.schema_version, (long long)(now_ms() - started));
    return 0;
}

static int restore(ht_native_config *c) {
    if (c->arg_count != 1) {
        fprintf(stderr, "hometab: restore wants one BACKUP file\n");
        return EXIT_USAGE;
    }
    const char *db = c->core.db_path;
    if (!has_database(db)) return EXIT_USAGE;
    char err[1024];
    int lock = ht_db_lock(db, err, sizeof err);
    if (lock == -1) {
        fprintf(stderr, "hometab: nothing restored: %s\n", err);
        return EXIT_REFUSED;
    }
    struct stat st;
    int rc = 0;
    if (stat(db, &st) == 0 && st.st_size > 0 && !c->replace) {
        fprintf(stderr, "hometab: %s exists: restore --replace writes over it (back it up first if you may want "
                        "it: hometab backup)\n", db);
        rc = EXIT_REFUSED;
    } else {
        ht_backup_info info;
        if (ht_database_restore(c->args[0], db, &info, err, sizeof err)) {
            printf("hometab: %s restored from %s (%lld bytes, schema %d)\n", db, c->args[0], (long long)info.bytes,
                   info.schema_version);
        } else {
            fprintf(stderr, "hometab: nothing restored: %s\n", err);
            rc = EXIT_REFUSED;
        }
    }
    ht_db_unlock(lock);
    return rc;
}

static int check_config(ht_native_config *c) {
    printf("hometab: settings%s%s\n", c->config_path ? " from " : " (no config file)",
           c->config_path ? c->config_path : "");
    printf("  listen %s:%d, server name %s, database %s\n", c->server.host, c->server.port, c->core.server_name,
           c->core.db_path);
    printf("  registration %s%s\n", ht_native_registration_name(c->core.registration),
           c->registration_given ? "" : " (chosen by the listen address)");
    printf("  public url %s, web root %s\n", c->core.public_base_url ? c->core.public_base_url : "(from Host)",
           c->server.web_root ? c->server.web_root : "(none)");
    printf("  max body %zu, max upload %zu bytes; rate limits %s\n", c->core.max_body_bytes,
           c->core.max_upload_bytes, c->core.rate_limit ? "on" : "off");
    return 0;
}

int ht_command_run(const char *command, ht_native_config *c) {
    if (strcmp(command, "backup") == 0) return backup(c);
    if (strcmp(command, "restore") == 0) return restore(c);
    if (strcmp(command, "create-user") == 0) return create_user(c);
    if (strcmp(command, "admin") == 0) return admin_command(c);
    if (strcmp(command, "check-config") == 0) return check_config(c);
    fprintf(stderr, "hometab: unknown command '%s' (backup, restore, create-user, admin, check-config; "
                    "hometab --help says more)\n", command);
    return EXIT_USAGE;
}
