#include "sysdeps/sysdeps.h"

#include <string.h>

uint32_t sysdeps_crc32(const void* data, size_t len) {
  const unsigned char* bytes = (const unsigned char*)data;
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < len; ++i) {
    crc ^= bytes[i];
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  }
  return crc ^ 0xFFFFFFFFu;
}

uint32_t sysdeps_crc32_str(const char* text) {
  return sysdeps_crc32(text, strlen(text));
}

void sysdeps_hex64(uint64_t value, char out[17]) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = digits[value & 0xFu];
    value >>= 4;
  }
  out[16] = '\0';
}

const char* sysdeps_version(void) { return "1.2.0"; }
