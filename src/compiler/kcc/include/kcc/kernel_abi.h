/* The ABI between kcc code objects and the runtime that loads them. */
#ifndef KCC_KERNEL_ABI_H
#define KCC_KERNEL_ABI_H

#include <stdint.h>

#define KCC_ABI_VERSION 1u
/* The symbol every code object exports: `const kcc_code_object* kcc_get_code_object(void)`. */
#define KCC_ENTRY_POINT "kcc_get_code_object"

#if defined(_WIN32)
#define KCC_EXPORT __declspec(dllexport)
#else
#define KCC_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The arguments of one kernel launch over `n` elements. */
typedef struct kcc_launch {
  uint64_t n;
  const uint64_t* a; /* may be NULL: reads as 0 */
  const uint64_t* b; /* may be NULL: reads as 0 */
  uint64_t* out;     /* n elements for a map kernel, 1 for a reduction */
  uint64_t alpha;
} kcc_launch;

typedef void (*kcc_kernel_fn)(const kcc_launch* launch);

typedef struct kcc_kernel {
  const char* name;
  const char* kind; /* "map" or "reduce" */
  kcc_kernel_fn fn;
} kcc_kernel;

typedef struct kcc_code_object {
  uint32_t abi_version; /* KCC_ABI_VERSION */
  const char* target;   /* e.g. "gfx1100" */
  uint32_t wave_size;   /* 32 or 64 */
  uint32_t ident;       /* CRC-32 of `target` */
  const char* module;   /* e.g. "rsblas" */
  const char* generator;
  uint32_t kernel_count;
  const kcc_kernel* kernels;
} kcc_code_object;

typedef const kcc_code_object* (*kcc_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif
