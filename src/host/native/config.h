/* config.h -- the native binary's settings: flags, and a config file.
 *
 * Every flag has a key of the same name in the file (--max-body 1000 is
 * max-body = 1000), except --config itself and --help; --rate-limit
 * ACTION=R/B is "ACTION = R/B" under a [rate-limit] section. Flags win
 * over the file. Unknown keys and bad values are refused before anything
 * starts, naming the file's line. */
#ifndef HT_NATIVE_CONFIG_H
#define HT_NATIVE_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "host/native/server.h"
#include "hometab.h"

typedef struct ht_native_config {
    ht_config core;           /* what the core opens with */
    ht_server_options server; /* what the event loop runs with */
    ht_log_level log_level;
    const char *config_path;  /* NULL: none */
    bool registration_given;  /* else chosen by the listen address */
    bool create_admin;        /* create-user --admin */
    bool replace;             /* restore --replace */
    bool weak_password_hashing; /* Argon2id at its least cost (loopback only; benchmarks) */
    /* The command's own arguments (after the command name). */
    char **args;
    int arg_count;
    /* Strings kept from the file and the listen address (owned). */
    char **owned;
    size_t owned_count, owned_cap;
    bool max_body_given, max_upload_given, max_buffered_given;
} ht_native_config;

enum { HT_CONFIG_OK = 0, HT_CONFIG_HELP = 1, HT_CONFIG_BAD = 2 };

/* Reads the flags in argv and the file --config names (flags over file),
 * then settles what depends on both: the upload and body limits, and
 * registration (closed unless the listen address is loopback). *command
 * is the first word that is not a flag (NULL: run the server); the words
 * after it land in c->args. Returns HT_CONFIG_OK; HT_CONFIG_HELP after
 * printing --help; HT_CONFIG_BAD after saying why on stderr. */
int ht_native_config_read(ht_native_config *c, int argc, char **argv, const char **command);
void ht_native_config_free(ht_native_config *c);

/* Is this listen address a loopback one (127.0.0.0/8, ::1)? */
bool ht_native_address_is_loopback(const char *host);

/* "open", "closed", "token". */
const char *ht_native_registration_name(ht_registration mode);

#endif
