/* rs-smi: the devices at a glance. */
#include <stdio.h>
#include <string.h>

#include "corert/corert.h"
#include "rs/base.h"

static void count_module(const char* module, void* user) {
  (void)module;
  ++*(int*)user;
}

int main(void) {
  char banner[128];
  printf("===== %s =====\n", rs_banner("rs-smi", banner, sizeof banner));
  printf("%-4s %-10s %-5s %s\n", "GPU", "Target", "Wave", "Objects");
  const int count = corert_device_count();
  for (int d = 0; d < count; ++d) {
    const char* target = corert_device_target(d);
    int modules = 0;
    corert_list_modules(target, count_module, &modules);
    const unsigned wave = strcspn(target, ":") == 6 ? 64u : 32u;
    printf("%-4d %-10s %-5u %d\n", d, target, wave, modules);
  }
  printf("===== end of rs-smi: %d device(s) =====\n", count);
  return count > 0 ? 0 : 1;
}
