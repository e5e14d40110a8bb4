/* corert-devices: print the devices the runtime sees, one a line. */
#include <stdio.h>

#include "corert/corert.h"

int main(void) {
  const int count = corert_device_count();
  for (int i = 0; i < count; ++i) printf("%d %s\n", i, corert_device_target(i));
  return count > 0 ? 0 : 1;
}
