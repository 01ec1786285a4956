/* auth.h -- access tokens, sessions and user-interactive authentication. */
#ifndef HT_API_AUTH_H
#define HT_API_AUTH_H

#include "matrix/handler.h"

/* Finds the access token (Authorization: Bearer, or ?access_token=) and
 * fills ctx->auth. Without a token: M_MISSING_TOKEN if required, else OK. */
ht_error ht_auth_check(ht_ctx *ctx, bool required);

/* Creates (or reuses) the device and a new access token for it, and adds
 * user_id, access_token and device_id to reply. device_id NULL: a new one. */
bool ht_session_create(ht_ctx *ctx, const char *user_id, const char *device_id,
                       const char *display_name, json_t *reply);

/* User-interactive authentication with one stage: "m.login.dummy" or
 * "m.login.registration_token" (for registration, as the server's
 * registration mode says) or "m.login.password" (re-authenticating as
 * user_id).
 * Returns true when the stage is complete; otherwise *reply is the 401
 * (or error) to send back. */
bool ht_uia_check(ht_ctx *ctx, json_t *body, const char *stage, const char *user_id,
                  ht_reply *reply);

/* Device ids are at most 255 bytes (as other identifiers); display names,
 * which /keys/query shows to everyone sharing a room, at most 100
 * characters (Synapse's MAX_DEVICE_DISPLAY_NAME_LEN). */
enum { HT_MAX_DEVICE_ID_BYTES = 255, HT_MAX_DEVICE_NAME_CHARS = 100 };

/* Checks a device id and display name a client chose (either may be
 * NULL); false with the 400 reply. */
bool ht_device_fields_ok(ht_ctx *ctx, const char *device_id, const char *display_name, ht_reply *err);

/* The full user id for a login identifier ("alice" or "@alice:server"),
 * or NULL if it cannot be one of ours. */
const char *ht_login_user_id(ht_ctx *ctx, const char *user);

#endif
