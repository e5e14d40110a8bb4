/* rship/testing.h: the device loop of the stack's test executables (header-only).
 *
 *   <tool>-test             runs on every visible device
 *   <tool>-test gfx1100 ... runs on the devices of those targets; a target without a device
 *                           fails
 *
 * Prints one "RESULT <tool> <target> ..." line per device; exits 1 when one failed.
 */
#ifndef RSHIP_TESTING_H
#define RSHIP_TESTING_H

#include <stdio.h>
#include <string.h>

#include "rship/rship.h"

typedef int (*rship_test_fn)(int device, const char* target);

/* Reports a failed call on `target` and returns 0 (not ok). */
static inline int rship_test_error(const char* tool, const char* target, int error) {
  printf("RESULT %s %s wave=0 error=%s detail='%s' FAIL\n", tool, target,
         rshipGetErrorString((rshipError_t)error), rshipGetLastErrorDetail());
  fflush(stdout);
  return 0;
}

static inline int rship_test_devices(const char* tool, int argc, char** argv, rship_test_fn fn) {
  int count = 0;
  rshipGetDeviceCount(&count);
  int failed = 0;
  int ran = 0;
  if (argc > 1) {
    for (int a = 1; a < argc; ++a) {
      int found = -1;
      for (int d = 0; d < count; ++d) {
        rshipDeviceProp prop;
        if (rshipGetDeviceProperties(&prop, d) == rshipSuccess && strcmp(prop.name, argv[a]) == 0)
          found = d;
      }
      if (found < 0) {
        printf("RESULT %s %s wave=0 error=no-device FAIL\n", tool, argv[a]);
        failed = 1;
        continue;
      }
      ++ran;
      if (!fn(found, argv[a])) failed = 1;
    }
  } else {
    for (int d = 0; d < count; ++d) {
      rshipDeviceProp prop;
      rshipGetDeviceProperties(&prop, d);
      ++ran;
      if (!fn(d, prop.name)) failed = 1;
    }
  }
  if (ran == 0) {
    printf("RESULT %s - wave=0 error=no-device FAIL\n", tool);
    failed = 1;
  }
  fflush(stdout);
  return failed ? 1 : 0;
}

#endif
