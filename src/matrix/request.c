/* request.c -- reading a parsed request's headers and query. */
#include "matrix/request.h"

#include <string.h>

const char *ht_request_header(const ht_request *req, const char *name) {
    for (size_t i = 0; i < req->header_count; i++)
        if (strcmp(req->headers[i].name, name) == 0) return req->headers[i].value;
    return NULL;
}

const char *ht_request_query(const ht_request *req, const char *name) {
    for (size_t i = 0; i < req->query_count; i++)
        if (strcmp(req->query[i].name, name) == 0) return req->query[i].value;
    return NULL;
}
