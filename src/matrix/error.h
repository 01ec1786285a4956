/* error.h -- Matrix errors as values.
 *
 * Every refusal the server gives is an ht_error: one of the spec's errcodes
 * and a sentence a person understands. The HTTP status follows from the
 * errcode (see the table in error.c); only a few codes whose status depends
 * on the situation (M_UNRECOGNIZED: 404 or 405) carry their own. */
#ifndef HT_MATRIX_ERROR_H
#define HT_MATRIX_ERROR_H

#include <jansson.h>

typedef enum ht_errcode {
    HT_OK = 0,
    HT_M_UNKNOWN,
    HT_M_UNRECOGNIZED,
    HT_M_FORBIDDEN,
    HT_M_UNKNOWN_TOKEN,
    HT_M_MISSING_TOKEN,
    HT_M_UNAUTHORIZED,
    HT_M_USER_DEACTIVATED,
    HT_M_BAD_JSON,
    HT_M_NOT_JSON,
    HT_M_NOT_FOUND,
    HT_M_LIMIT_EXCEEDED,
    HT_M_USER_IN_USE,
    HT_M_INVALID_USERNAME,
    HT_M_ROOM_IN_USE,
    HT_M_INVALID_ROOM_STATE,
    HT_M_UNSUPPORTED_ROOM_VERSION,
    HT_M_BAD_STATE,
    HT_M_GUEST_ACCESS_FORBIDDEN,
    HT_M_MISSING_PARAM,
    HT_M_INVALID_PARAM,
    HT_M_TOO_LARGE,
    HT_M_EXCLUSIVE,
    HT_M_NOT_YET_UPLOADED,
    HT_M_CANNOT_OVERWRITE_MEDIA,
    HT_M_UNKNOWN_POS,
    HT_M_BAD_ALIAS,
    HT_M_INVALID_SIGNATURE,
    HT_M_WRONG_ROOM_KEYS_VERSION,
    HT_M_INCOMPATIBLE_ROOM_VERSION,
    HT_M_UNABLE_TO_AUTHORISE_JOIN,
    HT_M_SERVER_ERROR, /* not a spec code: M_UNKNOWN with status 500 */
    HT_ERRCODE_COUNT
} ht_errcode;

typedef struct ht_error {
    ht_errcode code;
    int status;          /* 0: the errcode's usual status */
    const char *message; /* static or in the request's arena */
} ht_error;

const char *ht_errcode_name(ht_errcode code);
int ht_error_status(ht_error err);
/* {"errcode": ..., "error": ...}; the caller owns the reference. */
json_t *ht_error_json(ht_error err);

#endif
