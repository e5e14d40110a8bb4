/* corert: devices and per-target code objects. */
#ifndef CORERT_CORERT_H
#define CORERT_CORERT_H

#include <stdint.h>

#include <kcc/kernel_abi.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum corert_status {
  CORERT_OK = 0,
  CORERT_ERROR_INVALID_ARGUMENT = 1,
  CORERT_ERROR_NO_DEVICE = 2,
  CORERT_ERROR_NOT_FOUND = 3,     /* no code object for the module and target */
  CORERT_ERROR_BAD_OBJECT = 4,    /* not a code object, wrong ABI, target or identity */
  CORERT_ERROR_NO_KERNEL = 5
} corert_status;

typedef struct corert_module corert_module;

const char* corert_version(void);
const char* corert_status_string(corert_status status);
/* Details of the last failure in this thread (a path, a target), or "". */
const char* corert_last_error(void);

int corert_device_count(void);
/* The gfx target of device `index`, or NULL. */
const char* corert_device_target(int index);

/* Loads the code object of `module` for `target`. `anchor` is any address inside the library
   asking (its directory is searched), or NULL. */
corert_status corert_module_load(corert_module** out, const char* target, const char* module,
                                 const void* anchor);
void corert_module_unload(corert_module* module);
const kcc_code_object* corert_module_object(const corert_module* module);
/* The file the module was loaded from. */
const char* corert_module_path(const corert_module* module);
corert_status corert_module_launch(corert_module* module, const char* kernel,
                                   const kcc_launch* launch);

/* Calls `fn` for every module name (file stem) installed for `target` next to the runtime,
   sorted. Returns the count. */
int corert_list_modules(const char* target, void (*fn)(const char* module, void* user),
                        void* user);

#ifdef __cplusplus
}
#endif

#endif
