/* canonical.h -- Matrix's canonical JSON: the one byte string every server
 * computes for a value, under every hash, event id and signature.
 *
 * Spec: appendices "Canonical JSON". Keys sorted by Unicode code point, no
 * insignificant white space, UTF-8 (never \u escapes for printable text),
 * escapes exactly as Python's json.dumps(ensure_ascii=False) writes them,
 * integers in +-(2^53 - 1) only. One byte of difference between two servers
 * gives an event two ids, and the room splits; the differential test
 * (tests/differential) holds this writer to Synapse's own library.
 *
 * What reaches us through jansson, measured with jansson 2.14:
 * - "-0" parses as the integer 0, indistinguishable from "0" afterwards. It is
 *   accepted and written "0", as the spec's own example does ({"a": -0} gives
 *   {"a":0}); every implementation (jansson, Python, JavaScript) reads it as
 *   zero and writes "0", so it cannot split a room. "-0.0" is a real: refused.
 * - Duplicate keys: jansson keeps the last unless told JSON_REJECT_DUPLICATES.
 *   ht_canonical_parse refuses them: a text with two readings is not one that
 *   a canonical encoder wrote, and the client API refuses them already.
 * - U+0000 in a string is refused by jansson unless JSON_ALLOW_NUL (and in a
 *   key always). ht_canonical_parse keeps that refusal: the engine reads event
 *   fields as C strings, where "join\u0000x" would read as "join". Synapse
 *   accepts U+0000, so such an event from it is refused here (never accepted
 *   here and refused there, which is the direction that could be abused).
 *   The writer itself writes strings by length and handles U+0000 correctly.
 * - Integers beyond the 64-bit range fail to parse; lone surrogates (\ud800)
 *   and invalid UTF-8 fail to parse.
 * - "1e2", "1.0": reals. The validator refuses every real (room versions 6+,
 *   as Synapse does); the writer writes a real whose value is an integer in
 *   range as that integer (the spec's example: 1e10 gives 10000000000) and
 *   refuses any other. */
#ifndef HT_UTIL_CANONICAL_H
#define HT_UTIL_CANONICAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/buf.h"

/* The largest integer canonical JSON allows, 2^53 - 1; its negation is the
 * smallest. */
#define HT_CANONICAL_INT_MAX INT64_C(9007199254740991)
/* How deep a value may nest. jansson parses up to 2048 levels; Python, which
 * Synapse runs on, stops encoding near 1000 (its recursion limit). */
enum { HT_CANONICAL_MAX_DEPTH = 1000 };

/* Where a value stops being canonical: a JSON path from the top ("content
 * .body", "prev_events[3]", `["a key"]` for keys that are not plain names),
 * and a sentence saying why. */
typedef struct ht_canonical_error {
    char path[160];     /* truncated from the left with "..." when deeper */
    const char *reason; /* static */
} ht_canonical_error;

/* The validator: true if value holds no real number, no integer outside
 * +-(2^53 - 1), and nests no deeper than HT_CANONICAL_MAX_DEPTH. err (may be
 * NULL) says where otherwise. This is the check for client event content
 * (400 M_BAD_JSON) and for received PDUs. */
bool ht_canonical_check(json_t *value, ht_canonical_error *err);

/* The writer: appends the canonical bytes of value to out. False, with err
 * set (may be NULL) and out restored to its length before the call, if value
 * cannot be written canonically (see the top of this file). */
bool ht_canonical_write(ht_buf *out, json_t *value, ht_canonical_error *err);

/* Appends text (len bytes) as a JSON string, escaped as canonical JSON
 * escapes it. False if it is not valid UTF-8; out may then hold part of it. */
bool ht_canonical_write_string(ht_buf *out, const char *text, size_t len);

/* Writes an object as ht_canonical_write does, and says where the named
 * top-level members stand in what it wrote (offsets into out): for one
 * that is there, its value spans [start, end); for one that is not, start
 * == end is where it would stand, before the comma of the member after it
 * or the closing brace. So a caller may put a member in, or change a value,
 * without writing the rest again. */
typedef struct ht_canonical_place {
    const char *key; /* set by the caller */
    size_t start, end;
    bool present;
} ht_canonical_place;
bool ht_canonical_write_places(ht_buf *out, json_t *object, ht_canonical_place *places, size_t n,
                               ht_canonical_error *err);

/* The same as a malloc'd NUL-terminated string (*len, if not NULL, is its
 * length), or NULL. */
char *ht_canonical_json(json_t *value, size_t *len, ht_canonical_error *err);

/* Parses JSON received from elsewhere: an object or array, no duplicate keys,
 * no U+0000, then ht_canonical_check. A new reference, or NULL with err set;
 * for a syntax error, err->path is "line L, column C". */
json_t *ht_canonical_parse(const char *text, size_t len, ht_canonical_error *err);

/* "<path>: <reason>" (or the reason alone at the top), in the arena: the
 * message of a 400 M_BAD_JSON. */
const char *ht_canonical_error_text(ht_arena *arena, const ht_canonical_error *err);

#endif
