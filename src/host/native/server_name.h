/* server_name.h -- a Matrix server name taken apart: hostname, port, and
 * whether the hostname is an IP literal (spec: appendices "Server Name"). */
#ifndef HT_NATIVE_SERVER_NAME_H
#define HT_NATIVE_SERVER_NAME_H

#include <stdbool.h>
#include <stddef.h>

enum { HT_DEFAULT_FEDERATION_PORT = 8448 };

typedef struct ht_server_name {
    char host[256]; /* "example.org", "192.0.2.1" or "2001:db8::1" (no brackets) */
    int port;       /* 1..65535, or 0 when the name gives none */
    bool ip_literal;
    bool ipv6;
} ht_server_name;

/* Parses exactly the spec's grammar:
 *   server_name = hostname [ ":" port ]        port = 1*5DIGIT (1..65535)
 *   hostname    = IPv4address / "[" IPv6address "]" / dns-name
 *   dns-name    = 1*255 ( DIGIT / ALPHA / "-" / "." )
 * An IPv4 or IPv6 literal must also be a real address (inet_pton). */
bool ht_server_name_parse(const char *text, ht_server_name *out);

/* The hostname as it goes into a URL or a curl option: IPv6 in brackets. */
void ht_server_name_url_host(const ht_server_name *name, char *out, size_t cap);

#endif
