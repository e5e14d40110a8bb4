#include "rs/base.h"

#include <stdio.h>

#include "rs/version.h"

const char* rs_version(void) { return RS_VERSION_STRING; }

char* rs_banner(const char* tool, char* out, size_t size) {
  snprintf(out, size, "%s (rockshard %s)", tool, RS_VERSION_STRING);
  return out;
}

size_t rs_split_list(const char* list, void (*fn)(const char*, size_t, void*), void* user) {
  size_t count = 0;
  const char* start = list;
  for (const char* p = list;; ++p) {
    if (*p == ',' || *p == ';' || *p == '\0') {
      if (p > start) {
        fn(start, (size_t)(p - start), user);
        ++count;
      }
      if (*p == '\0') break;
      start = p + 1;
    }
  }
  return count;
}
