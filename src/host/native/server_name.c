/* server_name.c -- parsing a server name by the spec's grammar.
 *
 * The one decision: a name that is not exactly the grammar is refused here,
 * before any lookup, so nothing later (a DNS query, a URL, a curl option
 * string built with ':' separators) ever sees a character it would read
 * differently: dns-names hold only letters, digits, '-' and '.'. */
#include "host/native/server_name.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_dns_char(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.';
}

static bool parse_port(const char *s, int *port) {
    size_t n = strlen(s);
    if (n < 1 || n > 5) return false;
    int value = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) return false;
        value = value * 10 + (s[i] - '0');
    }
    if (value < 1 || value > 65535) return false;
    *port = value;
    return true;
}

bool ht_server_name_parse(const char *text, ht_server_name *out) {
    memset(out, 0, sizeof *out);
    const char *port_text = NULL;
    size_t host_len;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close) return false;
        host_len = (size_t)(close - text - 1);
        if (host_len < 2 || host_len > 45) return false;
        memcpy(out->host, text + 1, host_len);
        out->host[host_len] = '\0';
        unsigned char addr[16];
        if (inet_pton(AF_INET6, out->host, addr) != 1) return false;
        if (close[1] == ':') port_text = close + 2;
        else if (close[1] != '\0') return false;
        out->ip_literal = out->ipv6 = true;
    } else {
        const char *colon = strchr(text, ':');
        host_len = colon ? (size_t)(colon - text) : strlen(text);
        if (host_len < 1 || host_len > 255) return false;
        for (size_t i = 0; i < host_len; i++)
            if (!is_dns_char(text[i])) return false;
        memcpy(out->host, text, host_len);
        out->host[host_len] = '\0';
        unsigned char addr[4];
        out->ip_literal = inet_pton(AF_INET, out->host, addr) == 1;
        if (colon) port_text = colon + 1;
    }
    if (port_text && !parse_port(port_text, &out->port)) return false;
    return true;
}

void ht_server_name_url_host(const ht_server_name *name, char *out, size_t cap) {
    snprintf(out, cap, name->ipv6 ? "[%s]" : "%s", name->host);
}
