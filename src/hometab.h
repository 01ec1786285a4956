/* hometab.h -- the core's one door.
 *
 * The core is a library that turns the bytes of one complete HTTP/1.1 request
 * into the bytes of one complete HTTP/1.1 response. It never blocks and does
 * no I/O other than SQLite, so the same code runs behind a native event loop
 * and inside a browser service worker.
 *
 * A request that must wait (a long-polling /sync) is not answered: the core
 * returns HT_PARK with a stream position and a deadline. The host keeps the
 * request bytes aside and calls ht_core_handle() again with the same bytes
 * and the same meta.received_ms once ht_core_stream_position() has moved past
 * park_position, or once now_ms reaches park_deadline_ms. On that call the
 * core either answers or, if nothing new is there yet, parks again.
 *
 * Waking is scoped: a parked request names the keys it waits on (its user,
 * its rooms: park_keys), and an answer that moved the stream names the keys
 * its write touched (wake_keys). The host calls a parked request again only
 * when a write touched one of its keys, or when either side names none: a
 * request with no park_keys waits on every write, and an answer with
 * wake_all set may concern every parked request. Keys are opaque numbers;
 * equal keys mean "may concern". Waking more than needed is always safe
 * (the request parks again); waking less never happens if hosts follow this
 * rule.
 *
 * A host that can run work on other threads sets offload_hashing. Then a
 * request that needs a password hashed or checked (Argon2: tens of
 * milliseconds, on purpose) is not answered either: the core returns HT_WORK
 * with an ht_work. The host runs ht_work_run() on any thread, hands the work
 * back with ht_core_work_done() on the core's thread, and calls
 * ht_core_handle() again with the same bytes; that call finds the result and
 * goes on. Meanwhile the core serves other requests. */
#ifndef HOMETAB_H
#define HOMETAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The release, as the admin API and the start line name it. */
#define HT_VERSION "0.1.0"

typedef struct ht_core ht_core;

/* A token bucket: `burst` calls at once, then `per_second` on average. */
typedef struct ht_rate {
    double per_second;
    unsigned burst;
} ht_rate;

/* Who may create an account through POST /register. The admin API and
 * the operator's commands create accounts whatever this says. */
typedef enum ht_registration {
    HT_REGISTRATION_OPEN = 0, /* anyone (the in-browser server: one person's) */
    HT_REGISTRATION_CLOSED,   /* nobody: 403 M_FORBIDDEN */
    HT_REGISTRATION_TOKEN,    /* whoever holds a registration token */
} ht_registration;

typedef struct ht_config {
    const char *db_path;      /* SQLite file, or ":memory:" */
    const char *server_name;  /* the part after ':' in user and room ids */
    const char *public_base_url; /* advertised in /.well-known; NULL: from Host */
    size_t max_body_bytes;    /* larger bodies get 413 */
    size_t max_upload_bytes;  /* larger media uploads get 413 M_TOO_LARGE; the
                               * body limit above must be at least this */
    size_t max_header_bytes;  /* larger header blocks get 431 */
    size_t max_uri_bytes;     /* longer request targets get 414 */
    bool wal;                 /* journal_mode=WAL (native); off in the browser */
    /* With wal: a commit is not synced (checkpoints still are); the host
     * syncs it. Once ht_core_commits() has moved, the host must
     * fdatasync the WAL file (db_path followed by "-wal", complete by then)
     * before it sends anything it answered after that commit, or anything
     * the outbox gives it: the core's answers assume their writes durable.
     * Off: each COMMIT is synced before the core returns. */
    bool host_syncs;
    bool rate_limit;          /* limits on costly calls (routes flagged HT_ROUTE_RATE_LIMITED) */
    ht_rate rate_user;        /* authenticated calls: one bucket per user */
    /* Logins are charged only when they cost an Argon2 check (the account
     * exists and has a password), to three buckets: */
    ht_rate rate_login;         /* ...one shared by every caller (bounds the hashing) */
    ht_rate rate_login_address; /* ...one per client address (meta.client_address) */
    ht_rate rate_login_account; /* ...one per account, taken by failed attempts only */
    ht_rate rate_register;      /* POST /register: one bucket shared by every caller... */
    ht_rate rate_register_address; /* ...and one per client address */
    ht_rate rate_federation;    /* signed server-server requests: one bucket per origin server */
    ht_rate rate_federation_keys; /* fetches of a server's keys for requests claiming it: per server */
    unsigned long pwhash_opslimit; /* Argon2id time cost */
    size_t pwhash_memlimit;   /* Argon2id memory cost in bytes */
    bool offload_hashing;     /* the host takes HT_WORK (see above); else hashes run inline */
    int64_t presence_offline_ms; /* a user none of whose clients synced for this long is offline */
    bool federation;          /* serve and use the server-server API (off: an island) */
    ht_registration registration;
    /* Peer-to-peer mode: a new database's server name is its key name (the
     * base32 of its signing key, src/room/key_name.h) and server_name is
     * ignored for it; a database that already has a name keeps it. */
    bool name_from_key;
} ht_config;

/* Fills *cfg with the defaults used by the native host. */
void ht_config_defaults(ht_config *cfg);

/* Opens the database, creating or migrating its schema. On failure returns
 * NULL and writes a sentence saying why into err. */
ht_core *ht_core_open(const ht_config *cfg, char *err, size_t err_size);
void ht_core_close(ht_core *core);

typedef enum ht_outcome {
    HT_ANSWER = 0, /* response holds a complete HTTP response */
    HT_PARK = 1,   /* wait, then call again with the same bytes */
    HT_WORK = 2,   /* run `work`, hand it back, then call again with the same bytes */
    HT_FETCH = 3,  /* run `fetches`, hand each back, then call again with the same bytes */
} ht_outcome;

/* One password hash to compute or check; see offload_hashing. */
typedef struct ht_work ht_work;

/* One request to another server; see "Other servers" below. */
typedef struct ht_fetch ht_fetch;

/* What a request did that belongs in the operator's log: every admin
 * action (only once committed), refused admin calls. The host writes
 * them where and how it logs; the core does no I/O. */
typedef enum ht_log_level { HT_LOG_ERROR = 0, HT_LOG_WARN, HT_LOG_INFO, HT_LOG_DEBUG } ht_log_level;

typedef struct ht_log_line {
    ht_log_level level;
    const char *text; /* one line, no newline */
} ht_log_line;

/* The body of an answer too large to copy whole (a media download): the
 * host reads it a piece at a time as the client takes it. */
typedef struct ht_body ht_body;

typedef struct ht_result {
    ht_outcome outcome;
    /* The response bytes; valid until the next call into the core. */
    const unsigned char *response;
    size_t response_len;
    /* HT_PARK: call again once the stream position exceeds this (through a
     * write that touched one of park_keys, if there are any)... */
    uint64_t park_position;
    /* ...or once the clock reaches this (milliseconds since the epoch). A
     * deadline of the call's own now is a long job's pause (a big room's
     * join, taken in slices): what the call did is committed, and it wants
     * calling again as soon as the host has served what else is waiting. */
    int64_t park_deadline_ms;
    const uint64_t *park_keys; /* valid until the next call into the core */
    size_t park_key_count;     /* 0: any write may concern it */
    /* HT_ANSWER that moved the stream: the keys the write touched (valid
     * until the next call), or wake_all when it may concern anyone. */
    const uint64_t *wake_keys;
    size_t wake_key_count;
    bool wake_all;
    /* HT_WORK: the work, owned by the host until ht_core_work_done(). */
    ht_work *work;
    /* HT_FETCH: requests to other servers, run them all (in any order, at
     * once); each is the host's until ht_core_fetch_done(). The array is
     * valid until the next call into the core. */
    ht_fetch **fetches;
    size_t fetch_count;
    /* The call queued traffic for other servers: ask
     * ht_core_outbound_next() for it. */
    bool outbound;

    /* HT_ANSWER: when set, `response` is only the head (its Content-Length
     * counts the body) and the body_len bytes of the body come from
     * ht_core_body_read(); the host owns `body` until ht_core_body_close(). */
    ht_body *body;
    uint64_t body_len;
    bool wrote;            /* the request committed a change to the database */
    bool close_connection; /* the client asked for it, or the request was unreadable */
    /* Lines for the host's log (see ht_log_line); valid until the next call. */
    const ht_log_line *log;
    size_t log_count;
} ht_result;

/* What the host knows about a request beyond its bytes. Nothing here may
 * come from the request itself (a client can write any header): only the
 * transport that carried the bytes can vouch for it. Zero it, then set what
 * the host knows; fields are only ever added, and a zero field means
 * "unknown". */
typedef struct ht_request_meta {
    int64_t received_ms;        /* when the host first received the request: it
                                 * fixes a long-poll's deadline across calls */
    int64_t now_ms;             /* the current time (ms since the epoch) */
    const char *client_address; /* the peer's IP address as text ("192.0.2.7",
                                 * "2001:db8::1"); NULL: none (the browser) */
    const char *peer_server;    /* the server name the transport authenticated
                                 * (federation); NULL: none */
    bool operator;              /* the operator's own command on the server's
                                 * machine (hometab create-user, admin...): the
                                 * admin API (/_synapse/admin/) answers it
                                 * without an access token; every other route
                                 * as it would anyone */
} ht_request_meta;

/* Handles one request. `bytes` need not be NUL-terminated and may hold a
 * binary body. A request called again (after HT_PARK or HT_WORK) keeps its
 * received_ms; the strings in meta need only last for the call. */
void ht_core_handle(ht_core *core, const unsigned char *bytes, size_t len,
                    const ht_request_meta *meta, ht_result *out);

/* ---- Group commit ------------------------------------------------------
 *
 * Natively each write is made durable by its COMMIT (an fsync). A host
 * with several requests ready at once may make them durable together:
 *
 *     ht_core_group_begin(core);          (false: run them one by one)
 *     ht_core_handle(core, ...);          for each request, one after another
 *     ht_core_group_commit(core, &group); one COMMIT for all of them
 *
 * Each request is still all or nothing: it runs in a savepoint of the
 * group's transaction, undone alone when it fails (an error answer, or
 * HT_PARK, HT_WORK, HT_FETCH). Until ht_core_group_commit() returns,
 * nothing of the group is durable, so the host sends none of its answers
 * before then, and the core tells nothing the outside world may act on:
 * ht_core_stream_position() has not moved, and results carry no wake_keys,
 * wake_all nor outbound (the group's come in ht_group_result), and no log
 * lines that wait for a commit. Between the two calls the host calls
 * nothing else into the core but ht_core_fetch_done for a request's own
 * fetches (never the outbox: ht_core_outbound_next, or the answer to one
 * of its transactions).
 *
 * Reads must never see, nor wait for, writes not yet committed: a host
 * runs a request for which ht_request_is_read() is true outside any group,
 * and the requests of a client's connection in order (a request behind
 * one waiting for its group waits too).
 *
 * If the COMMIT fails, nothing of the group stays and the core is as
 * before it; every request answered in the group then gets `failure` (500
 * M_UNKNOWN, "nothing was changed") instead of its own answer -- one that
 * wrote nothing may have read what an earlier one of the group wrote. A
 * host that never calls these runs one transaction per request. */

/* True for a request that only reads (GET, HEAD, OPTIONS): keep it out of
 * groups. Bytes that are not a request read as false. */
bool ht_request_is_read(const unsigned char *bytes, size_t len);

typedef struct ht_group_result {
    bool committed;
    /* !committed: the answer for every request answered in the group
     * (valid until the next call into the core). */
    const unsigned char *failure;
    size_t failure_len;
    /* committed: what the group's writes moved, as ht_result says for one
     * request (valid until the next call into the core). */
    const uint64_t *wake_keys;
    size_t wake_key_count;
    bool wake_all;
    bool outbound;
    const ht_log_line *log;
    size_t log_count;
} ht_group_result;

bool ht_core_group_begin(ht_core *core);
void ht_core_group_commit(ht_core *core, ht_group_result *out);

/* Reads the next bytes of a streamed body into buf (at most cap): returns
 * how many, 0 once it is all read, or -1 if it can no longer be read (its
 * file was deleted): the host then closes the connection, so the client
 * sees a body shorter than its Content-Length. Called between calls into
 * the core, in any order with other requests. */
long ht_core_body_read(ht_core *core, ht_body *body, unsigned char *buf, size_t cap);
/* Ends a streamed body, read to its end or not (the client went away). */
void ht_core_body_close(ht_core *core, ht_body *body);

/* What the database holds, for the line a host prints at start. */
typedef struct ht_core_summary {
    int schema_version;
    int64_t users;  /* not deactivated */
    int64_t admins; /* ...of whom server admins */
    int64_t rooms;
} ht_core_summary;

void ht_core_summarize(ht_core *core, ht_core_summary *out);

/* A consistent copy of a live database, taken with SQLite's online backup
 * API from a connection of its own: a server using db_path goes on reading
 * and writing meanwhile (WAL). The copy is written to dest_path + ".partial",
 * checked (PRAGMA quick_check), switched out of WAL so it is one
 * self-contained file, and only then renamed to dest_path. On failure
 * nothing is left at dest_path and err says why. */
typedef struct ht_backup_info {
    int64_t bytes;       /* the copy's size */
    int pages;
    int schema_version;
} ht_backup_info;

bool ht_database_backup(const char *db_path, const char *dest_path, ht_backup_info *info, char *err,
                        size_t err_size);

/* Puts the backup at backup_path in place of the database at db_path,
 * through SQLite (the -wal and -shm files stay consistent), after checking
 * the backup (a hometab database this build can open, PRAGMA quick_check).
 * No server may be using db_path meanwhile: the host makes sure of that.
 * A backup of an older schema is migrated when a server next opens it. */
bool ht_database_restore(const char *backup_path, const char *db_path, ht_backup_info *info, char *err,
                         size_t err_size);

/* Does the work. Touches nothing but the work itself, so any thread may
 * run it while the core goes on serving. */
void ht_work_run(ht_work *work);

/* Gives finished work back to the core (on the core's thread), whether or
 * not its request will be retried: the core owns it again. */
void ht_core_work_done(ht_core *core, ht_work *work);

/* ---- Other servers ----------------------------------------------------
 *
 * A request that needs another server's answer (a remote join, a missing
 * event, a key) comes back as HT_FETCH. For each fetch the host sends the
 * request to the server named by ht_fetch_destination() -- resolving the
 * name as the server-server spec says, over HTTPS natively, or over the
 * peer-to-peer transport in the browser -- and gives the answer back with
 * ht_core_fetch_done() (status and body) or ht_core_fetch_done_bytes() (the
 * answer's whole bytes). Once all are back it calls ht_core_handle() again
 * with the same bytes and the same received_ms. A fetch that cannot be made
 * (unreachable, timed out) is given back with an error sentence: the core
 * decides what that means. Everything is on the core's thread.
 *
 * Traffic the core starts itself (transactions of events for the servers in
 * a room) waits in a durable outbox: the host asks ht_core_outbound_next()
 * for the next fetch after an answer with `outbound` set and whenever the
 * time it returned comes, sends it, and gives it back the same way. */

const char *ht_fetch_destination(const ht_fetch *f);   /* a server name */
const char *ht_fetch_method(const ht_fetch *f);
const char *ht_fetch_target(const ht_fetch *f);        /* path and query, encoded */
const char *ht_fetch_authorization(const ht_fetch *f); /* the Authorization header's value */
/* The JSON body (NULL if none) and its length. */
const unsigned char *ht_fetch_body(const ht_fetch *f, size_t *len);
/* The whole HTTP/1.1 request (Host: the destination), for transports that
 * carry bytes. Valid while the host holds the fetch. */
const unsigned char *ht_fetch_request(ht_fetch *f, size_t *len);
/* How long the host may wait for the answer. */
int64_t ht_fetch_timeout_ms(const ht_fetch *f);
/* The answer's Content-Type, when the host has it (a file's bytes are typed
 * by it): called before ht_core_fetch_done, which gives f back.
 * ht_core_fetch_done_bytes reads it from the bytes itself. */
void ht_fetch_set_content_type(ht_fetch *f, const char *content_type);
/* Gives a fetch back: the answer's status and body, or (status ignored)
 * an error sentence when no answer came. The core owns f again. */
void ht_core_fetch_done(ht_core *core, ht_fetch *f, int status, const unsigned char *body, size_t len,
                        const char *error);
/* The same with the answer's bytes as they came (status line, headers,
 * body); bytes that are not one whole response count as an error. */
void ht_core_fetch_done_bytes(ht_core *core, ht_fetch *f, const unsigned char *response, size_t len,
                              const char *error);
/* The next transaction to send now, or NULL; then *next_ms says when to ask
 * again (0: nothing waits). */
ht_fetch *ht_core_outbound_next(ht_core *core, int64_t now_ms, int64_t *next_ms);

/* The server's name: the configured one, or in peer-to-peer mode the one
 * its database holds (see name_from_key). Valid while the core is open. */
const char *ht_core_server_name(const ht_core *core);

/* The 32-byte ed25519 seed of the server's signing key, for a transport
 * that authenticates peers by the same key (Noise in js-libp2p). The host
 * keeps it out of every answer and wipes its copy after use. */
void ht_core_signing_seed(const ht_core *core, unsigned char seed[32]);

/* How many events and EDUs wait in the outbox for other servers (what a
 * status display shows while a peer is away). */
uint64_t ht_core_outbox_waiting(ht_core *core);

/* A number that grows whenever something a /sync would report changes. */
uint64_t ht_core_stream_position(const ht_core *core);

/* How many COMMITs the database has made since it opened (see host_syncs). */
uint64_t ht_core_commits(const ht_core *core);

/* ---- Checkpoints off the loop ------------------------------------------
 *
 * With wal, the core copies its WAL into the database file by itself,
 * inside the commit that makes the WAL reach 16 MiB: some 10 ms of a busy
 * server during which nothing else runs. A host with threads may do it
 * instead, once it has called ht_core_host_checkpoints(core):
 *
 *   - when ht_core_wal_need() says HT_WAL_CHECKPOINT, it runs
 *     ht_checkpointer_run() on another thread, on a connection opened for
 *     that alone, until a pass finds little left to copy, while the core
 *     goes on serving;
 *   - then it holds the writes (ht_core_handle of requests that may write)
 *     for one more pass, which copies the frames committed meanwhile, so
 *     that the next write starts the WAL over; it holds them at once if
 *     the core says HT_WAL_TOO_LARGE while the passes run (writes that
 *     outrun the thread);
 *   - and it tells the core what each round of passes copied
 *     (ht_core_wal_copied).
 *
 * A host that falls behind finds the core checkpointing by itself again
 * once its WAL holds 256 MiB not copied. */
typedef struct ht_wal_state {
    int frames; /* in the WAL */
    int copied; /* ...of which a checkpoint has copied */
} ht_wal_state;

typedef enum ht_wal_need {
    HT_WAL_SMALL,      /* nothing to do */
    HT_WAL_CHECKPOINT, /* 16 MiB not copied */
    HT_WAL_TOO_LARGE,  /* 48 MiB not copied (as far as the core was told) */
} ht_wal_need;

void ht_core_host_checkpoints(ht_core *core);
ht_wal_need ht_core_wal_need(const ht_core *core);
void ht_core_wal_copied(ht_core *core, ht_wal_state copied);

/* A connection that only checkpoints the database at db_path, which a core
 * has opened. Any thread may open, run and close it, one at a time. */
typedef struct ht_checkpointer ht_checkpointer;
ht_checkpointer *ht_checkpointer_open(const char *db_path, char *err, size_t err_size);
/* One pass; out->frames is the WAL's size as the pass found it. */
bool ht_checkpointer_run(ht_checkpointer *c, ht_wal_state *out);
void ht_checkpointer_close(ht_checkpointer *c);

/* How much of `bytes` forms one complete request: returns its length, 0 if
 * more bytes are needed, or -1 if the bytes can never form a valid request
 * (the host then passes them to ht_core_handle for a proper error answer).
 * *expects_continue (may be NULL) is set when a complete head asks for
 * "100 Continue" before the client sends its body. */
long ht_request_length(const ht_config *cfg, const unsigned char *bytes, size_t len,
                       bool *expects_continue);

/* How far ht_request_length_resume() got through a request still arriving.
 * Its fields are the core's; zero it for each new request. */
typedef struct ht_framing {
    size_t chunk_at; /* where the next chunk of a chunked body starts (0: none read) */
    size_t decoded;  /* data bytes in the chunks before it */
} ht_framing;

/* The same, for a host that calls again as more bytes of the same request
 * arrive (and never changes those it passed before): a long chunked body is
 * then read once, not again from its start on every call. */
long ht_request_length_resume(const ht_config *cfg, const unsigned char *bytes, size_t len,
                              ht_framing *framing, bool *expects_continue);

#endif
