/* sysdeps: CRC-32 and hex formatting. */
#ifndef SYSDEPS_SYSDEPS_H
#define SYSDEPS_SYSDEPS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of `len` bytes. */
uint32_t sysdeps_crc32(const void* data, size_t len);

/* CRC-32 of a NUL-terminated string. */
uint32_t sysdeps_crc32_str(const char* text);

/* Writes `value` as 16 lower-case hex digits and a NUL into `out` (17 bytes). */
void sysdeps_hex64(uint64_t value, char out[17]);

/* The library version, "MAJOR.MINOR.PATCH". */
const char* sysdeps_version(void);

#ifdef __cplusplus
}
#endif

#endif
