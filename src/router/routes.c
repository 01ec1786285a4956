/* routes.c -- every endpoint hometab serves, in one table.
 *
 * (r0|v3) accepts both the old and the current prefix where the spec had
 * both; endpoints that only ever existed under v1 or v3 say so. */
#include "router/router.h"

#include "api/account.h"
#include "api/account_data.h"
#include "api/admin.h"
#include "api/capabilities.h"
#include "api/directory.h"
#include "api/discovery.h"
#include "api/filter.h"
#include "api/keys.h"
#include "api/media.h"
#include "api/notifications.h"
#include "api/presence.h"
#include "api/profile.h"
#include "api/push_rules.h"
#include "api/receipts.h"
#include "api/relations.h"
#include "api/rooms.h"
#include "api/spaces.h"
#include "api/sync.h"
#include "api/threads.h"
#include "api/typing.h"
#include "federation/federation.h"

#define CLIENT "/_matrix/client/(r0|v3)"
#define AUTH HT_ROUTE_AUTH
/* Calls that write events (a profile change writes one into every joined
 * room), store uploads, queue to-device messages, create aliases, file
 * reports or hash passwords take a token from the caller's bucket; see
 * core.c for registration and core/login_limit.c for logins. */
#define LIMITED (HT_ROUTE_AUTH | HT_ROUTE_RATE_LIMITED)
/* The admin API: a server admin's token (or the operator's command), no
 * rate limit; the door logs every call (api/admin.h). */
#define ADMIN HT_ROUTE_ADMIN
#define ADMIN_V1 "/_synapse/admin/v1"
#define ADMIN_V2 "/_synapse/admin/v2"

#define FED "/_matrix/federation"
#define SIGNED HT_ROUTE_FEDERATION

const ht_route ht_routes[] = {
    /* the server-server API (src/federation), when federation is on */
    {"GET", "/_matrix/key/v2/server", ht_fed_key_server, HT_ROUTE_KEYS},
    {"GET", "/_matrix/key/v2/server/{keyId}", ht_fed_key_server, HT_ROUTE_KEYS},
    {"GET", FED "/v1/version", ht_fed_version, HT_ROUTE_KEYS},
    {"GET", FED "/v1/query/profile", ht_fed_query_profile, SIGNED},
    {"GET", FED "/v1/query/directory", ht_fed_query_directory, SIGNED},
    {"GET", FED "/v1/publicRooms", ht_api_public_rooms_get, SIGNED},
    {"POST", FED "/v1/publicRooms", ht_api_public_rooms_post, SIGNED},
    {"PUT", FED "/v1/send/{txnId}", ht_fed_send, SIGNED},
    {"PUT", FED "/v2/invite/{roomId}/{eventId}", ht_fed_invite, SIGNED},
    {"GET", FED "/v1/make_join/{roomId}/{userId}", ht_fed_make_join, SIGNED},
    {"PUT", FED "/v2/send_join/{roomId}/{eventId}", ht_fed_send_join, SIGNED},
    {"GET", FED "/v1/make_knock/{roomId}/{userId}", ht_fed_make_knock, SIGNED},
    {"PUT", FED "/v1/send_knock/{roomId}/{eventId}", ht_fed_send_knock, SIGNED},
    {"GET", FED "/v1/make_leave/{roomId}/{userId}", ht_fed_make_leave, SIGNED},
    {"PUT", FED "/v2/send_leave/{roomId}/{eventId}", ht_fed_send_leave, SIGNED},
    {"GET", FED "/v1/event/{eventId}", ht_fed_event, SIGNED},
    {"GET", FED "/v1/state/{roomId}", ht_fed_state, SIGNED},
    {"GET", FED "/v1/state_ids/{roomId}", ht_fed_state_ids, SIGNED},
    {"GET", FED "/v1/event_auth/{roomId}/{eventId}", ht_fed_event_auth, SIGNED},
    {"GET", FED "/v1/backfill/{roomId}", ht_fed_backfill, SIGNED},
    {"POST", FED "/v1/get_missing_events/{roomId}", ht_fed_get_missing_events, SIGNED},
    {"GET", FED "/v1/user/devices/{userId}", ht_fed_user_devices, SIGNED},
    {"POST", FED "/v1/user/keys/query", ht_fed_user_keys_query, SIGNED},
    {"POST", FED "/v1/user/keys/claim", ht_fed_user_keys_claim, SIGNED},
    {"GET", FED "/v1/media/download/{mediaId}", ht_api_media_federation_download, SIGNED},
    {"GET", FED "/v1/media/thumbnail/{mediaId}", ht_api_media_federation_thumbnail, SIGNED},

    {"GET", "/_matrix/client/versions", ht_api_versions, 0},
    {"GET", "/.well-known/matrix/client", ht_api_well_known_client, 0},

    /* accounts and sessions */
    {"POST", CLIENT "/register", ht_api_register, HT_ROUTE_RATE_REGISTER},
    {"GET", CLIENT "/register/available", ht_api_register_available, 0},
    /* a token-guessing oracle: rate limited as registration is */
    {"GET", "/_matrix/client/v1/register/m.login.registration_token/validity",
     ht_api_registration_token_validity, HT_ROUTE_RATE_REGISTER},
    {"GET", CLIENT "/login", ht_api_login_flows, 0},
    {"POST", CLIENT "/login", ht_api_login, 0}, /* charged where it costs: core/login_limit.c */
    {"POST", CLIENT "/logout", ht_api_logout, AUTH},
    {"POST", CLIENT "/logout/all", ht_api_logout_all, AUTH},
    {"GET", CLIENT "/account/whoami", ht_api_whoami, AUTH},
    {"POST", CLIENT "/account/password", ht_api_change_password, LIMITED},
    {"POST", CLIENT "/account/deactivate", ht_api_deactivate, LIMITED},
    {"GET", CLIENT "/devices", ht_api_devices_list, AUTH},
    {"GET", CLIENT "/devices/{deviceId}", ht_api_device_get, AUTH},
    {"PUT", CLIENT "/devices/{deviceId}", ht_api_device_put, AUTH},
    {"DELETE", CLIENT "/devices/{deviceId}", ht_api_device_delete, AUTH},
    {"POST", CLIENT "/delete_devices", ht_api_devices_delete, AUTH},

    /* rooms and membership */
    {"POST", CLIENT "/createRoom", ht_api_create_room, LIMITED},
    {"POST", CLIENT "/join/{roomIdOrAlias}", ht_api_join, LIMITED},
    {"POST", CLIENT "/rooms/{roomId}/join", ht_api_join_room_id, LIMITED},
    {"POST", CLIENT "/knock/{roomIdOrAlias}", ht_api_knock, LIMITED},
    {"POST", CLIENT "/rooms/{roomId}/invite", ht_api_invite, LIMITED},
    {"POST", CLIENT "/rooms/{roomId}/leave", ht_api_leave, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/kick", ht_api_kick, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/ban", ht_api_ban, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/unban", ht_api_unban, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/forget", ht_api_forget, AUTH},
    {"GET", CLIENT "/joined_rooms", ht_api_joined_rooms, AUTH},

    /* events and state */
    {"PUT", CLIENT "/rooms/{roomId}/send/{eventType}/{txnId}", ht_api_send, LIMITED},
    {"PUT", CLIENT "/rooms/{roomId}/redact/{eventId}/{txnId}", ht_api_redact, LIMITED},
    {"PUT", CLIENT "/rooms/{roomId}/state/{eventType}", ht_api_state_put, LIMITED},
    {"PUT", CLIENT "/rooms/{roomId}/state/{eventType}/{stateKey}", ht_api_state_put, LIMITED},
    {"GET", CLIENT "/rooms/{roomId}/state/{eventType}", ht_api_state_get, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/state/{eventType}/{stateKey}", ht_api_state_get, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/state", ht_api_state_all, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/event/{eventId}", ht_api_event_get, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/members", ht_api_members, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/joined_members", ht_api_joined_members, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/messages", ht_api_messages, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/context/{eventId}", ht_api_context, AUTH},
    {"GET", "/_matrix/client/v1/rooms/{roomId}/timestamp_to_event", ht_api_timestamp_to_event, AUTH},

    /* spaces */
    {"GET", "/_matrix/client/v1/rooms/{roomId}/hierarchy", ht_api_hierarchy, AUTH},

    /* sync */
    {"GET", CLIENT "/sync", ht_api_sync, AUTH},
    {"POST", CLIENT "/user/{userId}/filter", ht_api_filter_create, AUTH},
    {"GET", CLIENT "/user/{userId}/filter/{filterId}", ht_api_filter_get, AUTH},

    /* ---- client-rest: what clients use besides rooms and sync ---------- */
    /* profiles and the user directory */
    {"GET", CLIENT "/profile/{userId}", ht_api_profile_get, 0},
    {"GET", CLIENT "/profile/{userId}/{keyName}", ht_api_profile_field_get, 0},
    {"PUT", CLIENT "/profile/{userId}/{keyName}", ht_api_profile_field_put, LIMITED},
    {"DELETE", CLIENT "/profile/{userId}/{keyName}", ht_api_profile_field_delete, AUTH},
    {"POST", CLIENT "/user_directory/search", ht_api_user_directory_search, AUTH},
    /* presence, typing, receipts */
    {"PUT", CLIENT "/presence/{userId}/status", ht_api_presence_put, AUTH},
    {"GET", CLIENT "/presence/{userId}/status", ht_api_presence_get, AUTH},
    {"PUT", CLIENT "/rooms/{roomId}/typing/{userId}", ht_api_typing, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/receipt/{receiptType}/{eventId}", ht_api_receipt, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/read_markers", ht_api_read_markers, AUTH},

    /* account data and tags */
    {"GET", CLIENT "/user/{userId}/account_data/{type}", ht_api_account_data_get, AUTH},
    {"PUT", CLIENT "/user/{userId}/account_data/{type}", ht_api_account_data_put, AUTH},
    {"GET", CLIENT "/user/{userId}/rooms/{roomId}/account_data/{type}", ht_api_room_account_data_get, AUTH},
    {"PUT", CLIENT "/user/{userId}/rooms/{roomId}/account_data/{type}", ht_api_room_account_data_put, AUTH},
    {"GET", CLIENT "/user/{userId}/rooms/{roomId}/tags", ht_api_tags_get, AUTH},
    {"PUT", CLIENT "/user/{userId}/rooms/{roomId}/tags/{tag}", ht_api_tag_put, AUTH},
    {"DELETE", CLIENT "/user/{userId}/rooms/{roomId}/tags/{tag}", ht_api_tag_delete, AUTH},

    /* room directory */
    {"PUT", CLIENT "/directory/room/{roomAlias}", ht_api_alias_put, LIMITED},
    {"GET", CLIENT "/directory/room/{roomAlias}", ht_api_alias_get, 0},
    {"DELETE", CLIENT "/directory/room/{roomAlias}", ht_api_alias_delete, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/aliases", ht_api_room_aliases, AUTH},
    {"GET", CLIENT "/directory/list/room/{roomId}", ht_api_directory_visibility_get, 0},
    {"PUT", CLIENT "/directory/list/room/{roomId}", ht_api_directory_visibility_put, AUTH},
    {"GET", CLIENT "/publicRooms", ht_api_public_rooms_get, 0},
    {"POST", CLIENT "/publicRooms", ht_api_public_rooms_post, AUTH},

    /* push rules and pushers */
    {"GET", CLIENT "/pushrules", ht_api_push_rules_all, AUTH},
    {"GET", CLIENT "/pushrules/", ht_api_push_rules_all, AUTH},
    {"GET", CLIENT "/pushrules/global/", ht_api_push_rules_global, AUTH},
    {"GET", CLIENT "/pushrules/global/{kind}/{ruleId}", ht_api_push_rule_get, AUTH},
    {"PUT", CLIENT "/pushrules/global/{kind}/{ruleId}", ht_api_push_rule_put, AUTH},
    {"DELETE", CLIENT "/pushrules/global/{kind}/{ruleId}", ht_api_push_rule_delete, AUTH},
    {"GET", CLIENT "/pushrules/global/{kind}/{ruleId}/enabled", ht_api_push_rule_enabled_get, AUTH},
    {"PUT", CLIENT "/pushrules/global/{kind}/{ruleId}/enabled", ht_api_push_rule_enabled_put, AUTH},
    {"GET", CLIENT "/pushrules/global/{kind}/{ruleId}/actions", ht_api_push_rule_actions_get, AUTH},
    {"PUT", CLIENT "/pushrules/global/{kind}/{ruleId}/actions", ht_api_push_rule_actions_put, AUTH},
    {"GET", CLIENT "/pushers", ht_api_pushers_get, AUTH},
    {"POST", CLIENT "/pushers/set", ht_api_pushers_set, AUTH},

    /* start-up questions and reports */
    {"GET", CLIENT "/capabilities", ht_api_capabilities, AUTH},
    {"GET", CLIENT "/voip/turnServer", ht_api_turn_server, AUTH},
    {"GET", CLIENT "/thirdparty/protocols", ht_api_thirdparty_protocols, AUTH},
    {"GET", CLIENT "/account/3pid", ht_api_account_3pids, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/report/{eventId}", ht_api_report_event, LIMITED},
    /* ---- end of client-rest -------------------------------------------- */

    /* ---- media, end-to-end encryption, relations, search (e2ee-media) ---- */
    /* content repository */
    {"POST", "/_matrix/media/(r0|v3)/upload", ht_api_media_upload, LIMITED},
    {"POST", "/_matrix/media/v1/create", ht_api_media_create, LIMITED},
    {"PUT", "/_matrix/media/(r0|v3)/upload/{serverName}/{mediaId}", ht_api_media_upload_to, LIMITED},
    {"GET", "/_matrix/client/v1/media/download/{serverName}/{mediaId}", ht_api_media_download, AUTH},
    {"GET", "/_matrix/client/v1/media/download/{serverName}/{mediaId}/{fileName}", ht_api_media_download, AUTH},
    {"GET", "/_matrix/media/(r0|v3)/download/{serverName}/{mediaId}", ht_api_media_download, 0},
    {"GET", "/_matrix/media/(r0|v3)/download/{serverName}/{mediaId}/{fileName}", ht_api_media_download, 0},
    {"GET", "/_matrix/client/v1/media/thumbnail/{serverName}/{mediaId}", ht_api_media_thumbnail, AUTH},
    {"GET", "/_matrix/media/(r0|v3)/thumbnail/{serverName}/{mediaId}", ht_api_media_thumbnail, 0},
    {"GET", "/_matrix/client/v1/media/config", ht_api_media_config, AUTH},
    {"GET", "/_matrix/media/(r0|v3)/config", ht_api_media_config, AUTH},
    /* end-to-end encryption: keys, to-device messages, key backups */
    {"POST", CLIENT "/keys/upload", ht_api_keys_upload, AUTH},
    {"POST", CLIENT "/keys/query", ht_api_keys_query, AUTH},
    {"POST", CLIENT "/keys/claim", ht_api_keys_claim, AUTH},
    {"GET", CLIENT "/keys/changes", ht_api_keys_changes, AUTH},
    {"POST", CLIENT "/keys/device_signing/upload", ht_api_keys_device_signing_upload, AUTH},
    {"POST", CLIENT "/keys/signatures/upload", ht_api_keys_signatures_upload, AUTH},
    {"PUT", CLIENT "/sendToDevice/{eventType}/{txnId}", ht_api_send_to_device, LIMITED},
    {"POST", CLIENT "/room_keys/version", ht_api_room_keys_version_create, AUTH},
    {"GET", CLIENT "/room_keys/version", ht_api_room_keys_version_get, AUTH},
    {"GET", CLIENT "/room_keys/version/{version}", ht_api_room_keys_version_get, AUTH},
    {"PUT", CLIENT "/room_keys/version/{version}", ht_api_room_keys_version_put, AUTH},
    {"DELETE", CLIENT "/room_keys/version/{version}", ht_api_room_keys_version_delete, AUTH},
    {"PUT", CLIENT "/room_keys/keys", ht_api_room_keys_put, AUTH},
    {"GET", CLIENT "/room_keys/keys", ht_api_room_keys_get, AUTH},
    {"DELETE", CLIENT "/room_keys/keys", ht_api_room_keys_delete, AUTH},
    {"PUT", CLIENT "/room_keys/keys/{roomId}", ht_api_room_keys_put, AUTH},
    {"GET", CLIENT "/room_keys/keys/{roomId}", ht_api_room_keys_get, AUTH},
    {"DELETE", CLIENT "/room_keys/keys/{roomId}", ht_api_room_keys_delete, AUTH},
    {"PUT", CLIENT "/room_keys/keys/{roomId}/{sessionId}", ht_api_room_keys_put, AUTH},
    {"GET", CLIENT "/room_keys/keys/{roomId}/{sessionId}", ht_api_room_keys_get, AUTH},
    {"DELETE", CLIENT "/room_keys/keys/{roomId}/{sessionId}", ht_api_room_keys_delete, AUTH},
    /* relations and search */
    {"GET", "/_matrix/client/v1/rooms/{roomId}/relations/{eventId}", ht_api_relations, AUTH},
    {"GET", "/_matrix/client/v1/rooms/{roomId}/relations/{eventId}/{relType}", ht_api_relations, AUTH},
    {"GET", "/_matrix/client/v1/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}", ht_api_relations, AUTH},
    {"POST", CLIENT "/search", ht_api_search, AUTH},
    {"GET", "/_matrix/client/v1/rooms/{roomId}/threads", ht_api_threads, AUTH},
    {"GET", CLIENT "/notifications", ht_api_notifications, AUTH},
    /* ---- end of e2ee-media block ---- */

    /* ---- the admin API: Synapse's paths, which admin tools call (operator) ---- */
    {"GET", ADMIN_V1 "/server_version", ht_api_admin_server_version, ADMIN},
    {"GET", ADMIN_V2 "/users", ht_api_admin_users_list, ADMIN},
    {"GET", ADMIN_V2 "/users/{userId}", ht_api_admin_user_get, ADMIN},
    {"PUT", ADMIN_V2 "/users/{userId}", ht_api_admin_user_put, ADMIN},
    {"POST", ADMIN_V1 "/deactivate/{userId}", ht_api_admin_deactivate, ADMIN},
    {"POST", ADMIN_V1 "/reset_password/{userId}", ht_api_admin_reset_password, ADMIN},
    {"GET", ADMIN_V1 "/users/{userId}/admin", ht_api_admin_admin_get, ADMIN},
    {"PUT", ADMIN_V1 "/users/{userId}/admin", ht_api_admin_admin_put, ADMIN},
    {"GET", ADMIN_V1 "/users/{userId}/joined_rooms", ht_api_admin_joined_rooms, ADMIN},
    {"GET", ADMIN_V2 "/users/{userId}/devices", ht_api_admin_devices_list, ADMIN},
    {"POST", ADMIN_V2 "/users/{userId}/delete_devices", ht_api_admin_devices_delete, ADMIN},
    {"GET", ADMIN_V2 "/users/{userId}/devices/{deviceId}", ht_api_admin_device_get, ADMIN},
    {"PUT", ADMIN_V2 "/users/{userId}/devices/{deviceId}", ht_api_admin_device_put, ADMIN},
    {"DELETE", ADMIN_V2 "/users/{userId}/devices/{deviceId}", ht_api_admin_device_delete, ADMIN},
    {"GET", ADMIN_V1 "/users/{userId}/media", ht_api_admin_user_media_list, ADMIN},
    {"DELETE", ADMIN_V1 "/users/{userId}/media", ht_api_admin_user_media_delete, ADMIN},
    {"DELETE", ADMIN_V1 "/media/{serverName}/{mediaId}", ht_api_admin_media_delete, ADMIN},
    {"GET", ADMIN_V1 "/rooms", ht_api_admin_rooms_list, ADMIN},
    {"GET", ADMIN_V1 "/rooms/{roomId}", ht_api_admin_room_get, ADMIN},
    {"DELETE", ADMIN_V1 "/rooms/{roomId}", ht_api_admin_room_delete_v1, ADMIN},
    {"GET", ADMIN_V1 "/rooms/{roomId}/members", ht_api_admin_room_members, ADMIN},
    {"GET", ADMIN_V1 "/rooms/{roomId}/state", ht_api_admin_room_state, ADMIN},
    {"DELETE", ADMIN_V2 "/rooms/{roomId}", ht_api_admin_room_delete_v2, ADMIN},
    {"GET", ADMIN_V2 "/rooms/{roomId}/delete_status", ht_api_admin_room_delete_status, ADMIN},
    {"GET", ADMIN_V2 "/rooms/delete_status/{deleteId}", ht_api_admin_delete_status, ADMIN},
    {"GET", ADMIN_V1 "/registration_tokens", ht_api_admin_tokens_list, ADMIN},
    {"POST", ADMIN_V1 "/registration_tokens/new", ht_api_admin_token_new, ADMIN},
    {"GET", ADMIN_V1 "/registration_tokens/{token}", ht_api_admin_token_get, ADMIN},
    {"PUT", ADMIN_V1 "/registration_tokens/{token}", ht_api_admin_token_put, ADMIN},
    {"DELETE", ADMIN_V1 "/registration_tokens/{token}", ht_api_admin_token_delete, ADMIN},
    /* ---- end of the admin API ---- */

    {NULL, NULL, NULL, 0},
};
