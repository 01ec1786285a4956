/* dns.h -- DNS lookups on the libuv loop (c-ares): the addresses of a host
 * (AAAA and A, and /etc/hosts) and the SRV records of a service name. */
#ifndef HT_NATIVE_DNS_H
#define HT_NATIVE_DNS_H

#include <stddef.h>
#include <uv.h>

enum { HT_DNS_MAX_ADDRESSES = 8, HT_DNS_MAX_SRV = 16 };

typedef struct ht_dns ht_dns;

/* server: "ADDR:PORT" of the one DNS server to ask (tests point this at a
 * local one), or NULL for the system's (/etc/resolv.conf). NULL on failure,
 * with a sentence in err. */
ht_dns *ht_dns_new(uv_loop_t *loop, const char *server, char *err, size_t err_size);
/* Ends every lookup (each callback runs once, with an error) and closes
 * the handles; the memory goes once the loop has run their close callbacks.
 * Not from inside a callback of this ht_dns. */
void ht_dns_free(ht_dns *dns);

typedef struct ht_dns_addresses {
    size_t count; /* 1..HT_DNS_MAX_ADDRESSES */
    char address[HT_DNS_MAX_ADDRESSES][46]; /* numeric, IPv6 without brackets */
    int ttl_s;    /* the smallest TTL among them; 0 for /etc/hosts */
} ht_dns_addresses;

typedef struct ht_dns_srv_record {
    char target[256];
    int port, priority, weight;
} ht_dns_srv_record;

/* found, or error: a sentence ("no address for example.org", a time-out). */
typedef void ht_dns_addresses_done(void *data, const ht_dns_addresses *found, const char *error);
/* count 0 and error NULL: the name has no SRV record (NXDOMAIN or no data). */
typedef void ht_dns_srv_done(void *data, const ht_dns_srv_record *records, size_t count,
                             const char *error);

/* The callbacks may run before these return (an /etc/hosts hit). */
void ht_dns_lookup_addresses(ht_dns *dns, const char *host, ht_dns_addresses_done *done, void *data);
void ht_dns_lookup_srv(ht_dns *dns, const char *name, ht_dns_srv_done *done, void *data);

#endif
