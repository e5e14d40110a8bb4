/* rship: a HIP-like API over corert. */
#ifndef RSHIP_RSHIP_H
#define RSHIP_RSHIP_H

#include <stddef.h>
#include <stdint.h>

#include <kcc/kernel_abi.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum rshipError_t {
  rshipSuccess = 0,
  rshipErrorInvalidValue = 1,
  rshipErrorNoDevice = 2,
  rshipErrorInvalidDevice = 3,
  rshipErrorFileNotFound = 4,
  rshipErrorInvalidImage = 5,
  rshipErrorNotFound = 6,
  rshipErrorOutOfMemory = 7
} rshipError_t;

typedef struct rshipDeviceProp {
  char name[32];        /* the gfx target, e.g. "gfx1100" */
  int major;            /* 9, 10, 11, 12 */
  int minor;
} rshipDeviceProp;

typedef struct rshipModule* rshipModule_t;

const char* rshipGetErrorString(rshipError_t error);
/* Details of the last failure in this thread (a path, a target), or "". */
const char* rshipGetLastErrorDetail(void);

rshipError_t rshipGetDeviceCount(int* count);
rshipError_t rshipSetDevice(int device);
rshipError_t rshipGetDevice(int* device);
rshipError_t rshipGetDeviceProperties(rshipDeviceProp* prop, int device);
/* "device <n>: <target> (gfx<major>)" into `out`. */
rshipError_t rshipDescribeDevice(int device, char* out, size_t size);

/* Loads the code object of `module` for the current device; `anchor` is an address inside the
   calling library (see corert_module_load). */
rshipError_t rshipModuleLoad(rshipModule_t* module, const char* name, const void* anchor);
rshipError_t rshipModuleUnload(rshipModule_t module);
/* The target the module was built for and its wave size. */
rshipError_t rshipModuleGetInfo(rshipModule_t module, const char** target, unsigned* wave_size);
rshipError_t rshipModuleLaunchKernel(rshipModule_t module, const char* kernel,
                                     const kcc_launch* launch);

/* Loads `module` for `device`, launches `kernel` and unloads; `wave_size` (may be NULL)
   receives the wave size of the code object that ran. */
rshipError_t rshipLaunch(int device, const char* module, const void* anchor, const char* kernel,
                         const kcc_launch* launch, unsigned* wave_size);

/* Device memory (host memory in this simulation). */
rshipError_t rshipMalloc(void** ptr, size_t size);
rshipError_t rshipFree(void* ptr);
rshipError_t rshipMemcpy(void* dst, const void* src, size_t size);

#ifdef __cplusplus
}
#endif

#endif
