#include "http/response.h"

#include <stdlib.h>
#include <string.h>

const char *ht_http_reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

/* The headers every answer carries, copied as they are: through printf's
 * format they cost more than the rest of writing a small answer. */
static const char every_answer_headers[] = "Access-Control-Allow-Origin: *\r\n"
                                           "Access-Control-Allow-Methods: GET, POST, PUT, DELETE, OPTIONS\r\n"
                                           "Access-Control-Allow-Headers: X-Requested-With, Content-Type, Authorization\r\n"
                                           "Cache-Control: no-store\r\n";

void ht_http_write_response(ht_buf *out, const ht_response *res) {
    ht_buf_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n", res->status,
                  ht_http_reason(res->status), res->content_type ? res->content_type : "application/json",
                  res->body_len);
    ht_buf_append(out, every_answer_headers, sizeof every_answer_headers - 1);
    if (res->extra_headers) ht_buf_puts(out, res->extra_headers);
    if (res->close) ht_buf_puts(out, "Connection: close\r\n");
    ht_buf_puts(out, "\r\n");
    if (!res->omit_body) ht_buf_append(out, res->body, res->body_len);
}

void ht_http_write_error(ht_buf *out, ht_error err, bool close) {
    json_t *body = ht_error_json(err);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    /* A method no route takes (routes' own 405s list theirs in core.c). */
    ht_response res = {.status = ht_error_status(err),
                       .body = (const unsigned char *)text,
                       .body_len = text ? strlen(text) : 0,
                       .extra_headers = ht_error_status(err) == 405
                                            ? "Allow: GET, HEAD, POST, PUT, DELETE, OPTIONS\r\n"
                                            : NULL,
                       .close = close};
    ht_http_write_response(out, &res);
    free(text);
}
