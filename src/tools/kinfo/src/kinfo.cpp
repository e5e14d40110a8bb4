// kinfo: devices and their code objects.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "corert/corert.h"
#include "fmtlite/fmtlite.hpp"
#include "rs/base.h"
#ifdef KINFO_HAVE_CCL
#include "ccl/ccl.h"
#endif

namespace {

void collect(const char* module, void* user) {
  static_cast<std::vector<std::string>*>(user)->emplace_back(module);
}

}  // namespace

int main(int argc, char** argv) {
  const bool check = argc > 1 && std::strcmp(argv[1], "--check") == 0;
  char banner[128];
  std::printf("%s\n", rs_banner("kinfo", banner, sizeof banner));
  fmtlite::Table table({"device", "target", "module", "wave", "kernels", "status"});
  int errors = 0;
  const int count = corert_device_count();
  for (int d = 0; d < count; ++d) {
    const std::string target = corert_device_target(d);
    std::vector<std::string> modules;
    corert_list_modules(target.c_str(), collect, &modules);
    if (modules.empty()) {
      table.add_row({std::to_string(d), target, "-", "-", "-", "no code objects"});
      ++errors;
    }
    for (const std::string& name : modules) {
      corert_module* module = nullptr;
      const corert_status status = corert_module_load(&module, target.c_str(), name.c_str(), nullptr);
      if (status != CORERT_OK) {
        table.add_row({std::to_string(d), target, name, "-", "-",
                       std::string("error: ") + corert_last_error()});
        ++errors;
        continue;
      }
      const kcc_code_object* object = corert_module_object(module);
      std::vector<std::string> kernels;
      for (uint32_t k = 0; k < object->kernel_count; ++k) kernels.emplace_back(object->kernels[k].name);
      table.add_row({std::to_string(d), target, name, std::to_string(object->wave_size),
                     fmtlite::join(kernels, ","), "ok"});
      corert_module_unload(module);
    }
  }
  std::fputs(table.render().c_str(), stdout);
  std::printf("devices: %d\n", count);
#ifdef KINFO_HAVE_CCL
  ccl_comm* comm = nullptr;
  if (ccl_comm_init_all(&comm) == 0) {
    char ring[512];
    ccl_comm_describe(comm, ring, sizeof ring);
    std::printf("ccl %s: %d ranks, %s\n", ccl_version(), ccl_comm_size(comm), ring);
    ccl_comm_destroy(comm);
  }
#endif
  if (count == 0) ++errors;
  return check && errors ? 1 : 0;
}
