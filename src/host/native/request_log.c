/* request_log.c -- one line per answered Matrix request (--log-requests).
 *
 * The line is assembled in a fixed buffer on the stack, so every write goes
 * through one appender that checks it against the space left and cuts what
 * does not fit: a request line is the client's to choose, and replacing a
 * token by "<hidden>" can make the copy longer than what it copies (an
 * empty access_token= grows by eight bytes each time). */
#include "host/native/request_log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

enum { LOG_LINE_MAX = 256, REQUEST_LINE_SCAN = 200 };

typedef struct line {
    char text[LOG_LINE_MAX];
    size_t len; /* always < LOG_LINE_MAX: room for the final NUL */
} line;

static void put(line *l, const void *bytes, size_t n) {
    size_t room = sizeof l->text - 1 - l->len;
    if (n > room) n = room;
    memcpy(l->text + l->len, bytes, n);
    l->len += n;
}

void ht_request_log_line(char *out, size_t size, const char *address, const unsigned char *request,
                         size_t request_len, const unsigned char *response, size_t response_len) {
    while (request_len && (*request == '\r' || *request == '\n')) request++, request_len--;
    const unsigned char *eol = memchr(request, '\r', request_len < REQUEST_LINE_SCAN ? request_len : REQUEST_LINE_SCAN);
    size_t shown = eol ? (size_t)(eol - request) : (request_len < 80 ? request_len : 80);

    /* An access token in the query string is a password: not written out. */
    static const char key[] = "access_token=";
    static const char hidden[] = "<hidden>";
    line l = {.len = 0};
    for (size_t i = 0; i < shown && l.len < sizeof l.text - 1;) {
        unsigned char c = request[i++];
        put(&l, &c, 1);
        bool at_param = c == '?' || c == '&';
        if (at_param && shown - i >= sizeof key - 1 && memcmp(request + i, key, sizeof key - 1) == 0) {
            put(&l, key, sizeof key - 1);
            put(&l, hidden, sizeof hidden - 1);
            i += sizeof key - 1;
            while (i < shown && request[i] != '&' && request[i] != ' ') i++;
        }
    }
    l.text[l.len] = '\0';
    for (size_t i = 0; i < l.len; i++)
        if ((unsigned char)l.text[i] < 0x20 || (unsigned char)l.text[i] == 0x7f) l.text[i] = '?';
    /* "HTTP/1.1 200 ...": the status is bytes 9 to 11 of every answer. */
    const char *status = response_len >= 12 ? (const char *)response + 9 : "???";
    snprintf(out, size, "%s %s -> %.3s", address, l.text, status);
}

void ht_log_request(FILE *f, const char *address, const unsigned char *request, size_t request_len,
                    const unsigned char *response, size_t response_len) {
    char text[HT_REQUEST_LOG_LINE_MAX];
    ht_request_log_line(text, sizeof text, address, request, request_len, response, response_len);
    fprintf(f, "%s\n", text);
}
