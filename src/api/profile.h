/* profile.h -- /profile and /user_directory/search. */
#ifndef HT_API_PROFILE_H
#define HT_API_PROFILE_H

#include "matrix/handler.h"

/* Synapse's bounds (handlers/profile.py), for the profile and for the
 * display name and avatar a member event carries. */
enum { HT_MAX_DISPLAYNAME_BYTES = 256, HT_MAX_AVATAR_URL_BYTES = 1000 };

ht_reply ht_api_profile_get(ht_ctx *ctx);
ht_reply ht_api_profile_field_get(ht_ctx *ctx);
ht_reply ht_api_profile_field_put(ht_ctx *ctx);
ht_reply ht_api_profile_field_delete(ht_ctx *ctx);
ht_reply ht_api_user_directory_search(ht_ctx *ctx);
/* Shows user_id's stored profile in every room they are joined to (a new
 * member event where it changed): after any change to the profile. */
void ht_profile_announce(ht_ctx *ctx, const char *user_id);

#endif
