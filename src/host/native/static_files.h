/* static_files.h -- the native host serving the demo's files. */
#ifndef HT_NATIVE_STATIC_FILES_H
#define HT_NATIVE_STATIC_FILES_H

#include <stdbool.h>
#include <stddef.h>

#include "hometab.h"
#include "util/buf.h"

/* Answers one GET/HEAD for a file under web_root into out. Returns true if
 * the connection should be closed afterwards. */
bool ht_static_serve(const ht_config *cfg, const char *web_root, const unsigned char *bytes,
                     size_t len, ht_buf *out);

/* The Content-Type for a file name, by its extension. */
const char *ht_static_mime_type(const char *path);

#endif
