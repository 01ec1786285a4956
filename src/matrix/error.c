/* error.c -- the one place that turns a Matrix error into JSON and a status. */
#include "matrix/error.h"

static const struct {
    const char *name;
    int status;
} errcodes[HT_ERRCODE_COUNT] = {
    [HT_OK] = {"M_UNKNOWN", 500},
    [HT_M_UNKNOWN] = {"M_UNKNOWN", 400},
    [HT_M_UNRECOGNIZED] = {"M_UNRECOGNIZED", 404},
    [HT_M_FORBIDDEN] = {"M_FORBIDDEN", 403},
    [HT_M_UNKNOWN_TOKEN] = {"M_UNKNOWN_TOKEN", 401},
    [HT_M_MISSING_TOKEN] = {"M_MISSING_TOKEN", 401},
    [HT_M_UNAUTHORIZED] = {"M_UNAUTHORIZED", 401},
    [HT_M_USER_DEACTIVATED] = {"M_USER_DEACTIVATED", 403},
    [HT_M_BAD_JSON] = {"M_BAD_JSON", 400},
    [HT_M_NOT_JSON] = {"M_NOT_JSON", 400},
    [HT_M_NOT_FOUND] = {"M_NOT_FOUND", 404},
    [HT_M_LIMIT_EXCEEDED] = {"M_LIMIT_EXCEEDED", 429},
    [HT_M_USER_IN_USE] = {"M_USER_IN_USE", 400},
    [HT_M_INVALID_USERNAME] = {"M_INVALID_USERNAME", 400},
    [HT_M_ROOM_IN_USE] = {"M_ROOM_IN_USE", 400},
    [HT_M_INVALID_ROOM_STATE] = {"M_INVALID_ROOM_STATE", 400},
    [HT_M_UNSUPPORTED_ROOM_VERSION] = {"M_UNSUPPORTED_ROOM_VERSION", 400},
    [HT_M_BAD_STATE] = {"M_BAD_STATE", 400},
    [HT_M_GUEST_ACCESS_FORBIDDEN] = {"M_GUEST_ACCESS_FORBIDDEN", 403},
    [HT_M_MISSING_PARAM] = {"M_MISSING_PARAM", 400},
    [HT_M_INVALID_PARAM] = {"M_INVALID_PARAM", 400},
    [HT_M_TOO_LARGE] = {"M_TOO_LARGE", 413},
    [HT_M_EXCLUSIVE] = {"M_EXCLUSIVE", 400},
    [HT_M_NOT_YET_UPLOADED] = {"M_NOT_YET_UPLOADED", 504},
    [HT_M_CANNOT_OVERWRITE_MEDIA] = {"M_CANNOT_OVERWRITE_MEDIA", 409},
    [HT_M_UNKNOWN_POS] = {"M_UNKNOWN_POS", 400},
    [HT_M_BAD_ALIAS] = {"M_BAD_ALIAS", 400},
    [HT_M_INVALID_SIGNATURE] = {"M_INVALID_SIGNATURE", 400},
    [HT_M_WRONG_ROOM_KEYS_VERSION] = {"M_WRONG_ROOM_KEYS_VERSION", 403},
    [HT_M_INCOMPATIBLE_ROOM_VERSION] = {"M_INCOMPATIBLE_ROOM_VERSION", 400},
    [HT_M_UNABLE_TO_AUTHORISE_JOIN] = {"M_UNABLE_TO_AUTHORISE_JOIN", 400},
    [HT_M_SERVER_ERROR] = {"M_UNKNOWN", 500},
};

const char *ht_errcode_name(ht_errcode code) {
    if (code <= HT_OK || code >= HT_ERRCODE_COUNT) return "M_UNKNOWN";
    return errcodes[code].name;
}

int ht_error_status(ht_error err) {
    if (err.status) return err.status;
    if (err.code <= HT_OK || err.code >= HT_ERRCODE_COUNT) return 500;
    return errcodes[err.code].status;
}

json_t *ht_error_json(ht_error err) {
    const char *message = err.message ? err.message : "Something went wrong.";
    return json_pack("{s:s, s:s}", "errcode", ht_errcode_name(err.code), "error", message);
}
