/* routes.c -- every endpoint hometab serves, in one table.
 *
 * (r0|v3) accepts both the old and the current prefix where the spec had
 * both; endpoints that only ever existed under v1 or v3 say so. */
#include "router/router.h"

#include "api/account.h"
#include "api/capabilities.h"
#include "api/discovery.h"
#include "api/filter.h"
#include "api/profile.h"
#include "api/rooms.h"
#include "api/sync.h"

#define CLIENT "/_matrix/client/(r0|v3)"
#define AUTH HT_ROUTE_AUTH

const ht_route ht_routes[] = {
    {"GET", "/_matrix/client/versions", ht_api_versions, 0},
    {"GET", "/.well-known/matrix/client", ht_api_well_known_client, 0},

    /* accounts and sessions */
    {"POST", CLIENT "/register", ht_api_register, 0},
    {"GET", CLIENT "/register/available", ht_api_register_available, 0},
    {"GET", CLIENT "/login", ht_api_login_flows, 0},
    {"POST", CLIENT "/login", ht_api_login, 0},
    {"POST", CLIENT "/logout", ht_api_logout, AUTH},
    {"POST", CLIENT "/logout/all", ht_api_logout_all, AUTH},
    {"GET", CLIENT "/account/whoami", ht_api_whoami, AUTH},
    {"POST", CLIENT "/account/password", ht_api_change_password, AUTH},
    {"GET", CLIENT "/devices", ht_api_devices_list, AUTH},
    {"GET", CLIENT "/devices/{deviceId}", ht_api_device_get, AUTH},
    {"PUT", CLIENT "/devices/{deviceId}", ht_api_device_put, AUTH},
    {"DELETE", CLIENT "/devices/{deviceId}", ht_api_device_delete, AUTH},
    {"POST", CLIENT "/delete_devices", ht_api_devices_delete, AUTH},

    /* rooms and membership */
    {"POST", CLIENT "/createRoom", ht_api_create_room, AUTH},
    {"POST", CLIENT "/join/{roomIdOrAlias}", ht_api_join, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/join", ht_api_join_room_id, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/invite", ht_api_invite, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/leave", ht_api_leave, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/kick", ht_api_kick, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/ban", ht_api_ban, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/unban", ht_api_unban, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/forget", ht_api_forget, AUTH},
    {"GET", CLIENT "/joined_rooms", ht_api_joined_rooms, AUTH},

    /* events and state */
    {"PUT", CLIENT "/rooms/{roomId}/send/{eventType}/{txnId}", ht_api_send, AUTH},
    {"PUT", CLIENT "/rooms/{roomId}/redact/{eventId}/{txnId}", ht_api_redact, AUTH},
    {"PUT", CLIENT "/rooms/{roomId}/state/{eventType}", ht_api_state_put, AUTH},
    {"PUT", CLIENT "/rooms/{roomId}/state/{eventType}/{stateKey}", ht_api_state_put, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/state/{eventType}", ht_api_state_get, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/state/{eventType}/{stateKey}", ht_api_state_get, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/state", ht_api_state_all, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/event/{eventId}", ht_api_event_get, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/members", ht_api_members, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/joined_members", ht_api_joined_members, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/messages", ht_api_messages, AUTH},
    {"GET", CLIENT "/rooms/{roomId}/context/{eventId}", ht_api_context, AUTH},

    /* sync */
    {"GET", CLIENT "/sync", ht_api_sync, AUTH},
    {"POST", CLIENT "/user/{userId}/filter", ht_api_filter_create, AUTH},
    {"GET", CLIENT "/user/{userId}/filter/{filterId}", ht_api_filter_get, AUTH},

    /* ---- client-rest: what clients use besides rooms and sync ---------- */
    /* profiles and the user directory */
    {"GET", CLIENT "/profile/{userId}", ht_api_profile_get, 0},
    {"GET", CLIENT "/profile/{userId}/{keyName}", ht_api_profile_field_get, 0},
    {"PUT", CLIENT "/profile/{userId}/{keyName}", ht_api_profile_field_put, AUTH},
    {"DELETE", CLIENT "/profile/{userId}/{keyName}", ht_api_profile_field_delete, AUTH},
    {"POST", CLIENT "/user_directory/search", ht_api_user_directory_search, AUTH},
    /* start-up questions and reports */
    {"GET", CLIENT "/capabilities", ht_api_capabilities, AUTH},
    {"GET", CLIENT "/voip/turnServer", ht_api_turn_server, AUTH},
    {"GET", CLIENT "/thirdparty/protocols", ht_api_thirdparty_protocols, AUTH},
    {"POST", CLIENT "/rooms/{roomId}/report/{eventId}", ht_api_report_event, AUTH},
    /* ---- end of client-rest -------------------------------------------- */

    {NULL, NULL, NULL, 0},
};
