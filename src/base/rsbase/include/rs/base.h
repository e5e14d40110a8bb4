/* rsbase: small helpers shared by the stack. */
#ifndef RS_BASE_H
#define RS_BASE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The stack version, e.g. "1.0.0". */
const char* rs_version(void);

/* Writes "<tool> (rockshard <version>)" into `out` (truncated to `size`); returns `out`. */
char* rs_banner(const char* tool, char* out, size_t size);

/* Calls `fn(item, len, user)` for every non-empty item of a list separated by ',' or ';'.
   Returns the number of items. */
size_t rs_split_list(const char* list, void (*fn)(const char* item, size_t len, void* user),
                     void* user);

#ifdef __cplusplus
}
#endif

#endif
