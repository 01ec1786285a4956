/* main.c -- the hometab binary: settings (flags and config file), then the
 * server or an operator's command. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "host/native/commands.h"
#include "host/native/config.h"
#include "host/native/db_lock.h"
#include "host/native/fd_limit.h"
#include "host/native/log.h"
#include "host/native/server.h"
#include "hometab.h"

/* What the start line adds to what the server knows: how registration
 * was chosen and where the settings came from. */
static void describe_settings(const ht_native_config *c, char *out, size_t size) {
    const char *mode = ht_native_registration_name(c->core.registration);
    const char *why = c->registration_given ? ""
                      : c->core.registration == HT_REGISTRATION_OPEN
                          ? " (a loopback address; set registration to change it)"
                          : " (the default off loopback; set registration = open or token to change it)";
    snprintf(out, size, "registration %s%s; settings from %s", mode, why,
             c->config_path ? c->config_path : "flags only");
}

static int run_server(ht_native_config *c) {
    c->server.max_connections = ht_fd_limit_fit(c->server.max_connections);
    char err[1024];
    /* The lock comes first: a second server must not open the database at
     * all, since opening may migrate it under the one that runs. */
    int lock = ht_db_lock(c->core.db_path, err, sizeof err);
    if (lock == -1) {
        fprintf(stderr, "hometab: %s\n", err);
        return 4;
    }
    /* The server syncs its commits itself, off its loop (server.c). */
    c->core.host_syncs = strcmp(c->core.db_path, ":memory:") != 0;
    ht_core *core = ht_core_open(&c->core, err, sizeof err);
    if (!core) {
        fprintf(stderr, "hometab: %s\n", err);
        ht_db_unlock(lock);
        return 4;
    }
    char note[512];
    describe_settings(c, note, sizeof note);
    c->server.start_note = note;
    if (c->core.registration == HT_REGISTRATION_OPEN &&
        !ht_native_address_is_loopback(c->server.host))
        ht_host_log(HT_LOG_WARN, "registration is open to anyone who can reach %s: set registration = token or "
                                 "closed unless that is what you want", c->server.host);
    int rc = ht_server_run(core, &c->core, &c->server);
    ht_core_close(core);
    ht_db_unlock(lock);
    return rc;
}

/* glibc gives the top of its heap back to the system whenever 128 KiB are
 * free there, and takes it again with the next request: a write's memory
 * (its arena, SQLite's statement journals) went back and forth through
 * brk() and fresh page faults every time, a tenth of a PUT /send. The heap
 * now keeps up to 8 MiB free for the next request. Blocks of 4 MiB and more
 * (a large upload's) are mapped apart and given back whole when freed, so
 * what the heap keeps after one stays bounded (tests/api/memory_bounds). */
static void keep_freed_memory(void) {
    mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
}

int main(int argc, char **argv) {
    keep_freed_memory();
    ht_native_config c;
    const char *command;
    int read = ht_native_config_read(&c, argc, argv, &command);
    if (read != HT_CONFIG_OK) {
        ht_native_config_free(&c);
        return read == HT_CONFIG_HELP ? 0 : 2;
    }
    ht_host_log_setup(c.log_level);
    int rc = command ? ht_command_run(command, &c) : run_server(&c);
    ht_native_config_free(&c);
    return rc;
}
