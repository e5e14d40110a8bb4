// corert: device enumeration and code-object loading.
#include "corert/corert.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "rs/base.h"
#include "sysdeps/sysdeps.h"

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace fs = std::filesystem;

struct corert_module {
  void* handle = nullptr;
  const kcc_code_object* object = nullptr;
  std::string path;
};

namespace {

thread_local std::string g_last_error;

corert_status fail(corert_status status, std::string detail) {
  g_last_error = std::move(detail);
  return status;
}

#if defined(_WIN32)
const char kPathSeparator = ';';
void* open_library(const fs::path& p) { return LoadLibraryW(p.wstring().c_str()); }
void* find_symbol(void* h, const char* s) {
  return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(h), s));
}
void close_library(void* h) { FreeLibrary(static_cast<HMODULE>(h)); }
std::string library_error() { return "error " + std::to_string(GetLastError()); }
fs::path library_dir_of(const void* address) {
  HMODULE module = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                              GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                          static_cast<LPCWSTR>(address), &module))
    return {};
  wchar_t buffer[MAX_PATH];
  const DWORD size = GetModuleFileNameW(module, buffer, MAX_PATH);
  return size ? fs::path(std::wstring(buffer, size)).parent_path() : fs::path();
}
#else
const char kPathSeparator = ':';
void* open_library(const fs::path& p) { return dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL); }
void* find_symbol(void* h, const char* s) { return dlsym(h, s); }
void close_library(void* h) { dlclose(h); }
std::string library_error() {
  const char* e = dlerror();
  return e ? e : "unknown error";
}
fs::path library_dir_of(const void* address) {
  Dl_info info;
  if (!dladdr(address, &info) || !info.dli_fname) return {};
  std::error_code ec;
  fs::path p = fs::canonical(info.dli_fname, ec);
  return ec ? fs::path(info.dli_fname).parent_path() : p.parent_path();
}
#endif

const char kAnchor = 0;

fs::path runtime_kernel_dir() { return library_dir_of(&kAnchor) / "kernels"; }

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

bool looks_like_target(const std::string& name) {
  return name.size() > 3 && name.compare(0, 3, "gfx") == 0;
}

std::vector<std::string> discover_devices() {
  std::vector<std::string> devices;
  const std::string visible = env("ROCKSHARD_VISIBLE_DEVICES");
  if (!visible.empty()) {
    rs_split_list(
        visible.c_str(),
        [](const char* item, size_t len, void* user) {
          static_cast<std::vector<std::string>*>(user)->emplace_back(item, len);
        },
        &devices);
    return devices;
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(runtime_kernel_dir(), ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && looks_like_target(name)) devices.push_back(name);
  }
  std::sort(devices.begin(), devices.end());
  return devices;
}

const std::vector<std::string>& devices() {
  static std::once_flag once;
  static std::vector<std::string> list;
  std::call_once(once, [] { list = discover_devices(); });
  return list;
}

std::vector<fs::path> search_dirs(const void* anchor) {
  std::vector<fs::path> dirs;
  const std::string extra = env("ROCKSHARD_KERNEL_PATH");
  std::size_t start = 0;
  while (start <= extra.size() && !extra.empty()) {
    const std::size_t end = std::min(extra.find(kPathSeparator, start), extra.size());
    if (end > start) dirs.emplace_back(extra.substr(start, end - start));
    start = end + 1;
  }
  if (anchor) {
    const fs::path dir = library_dir_of(anchor);
    if (!dir.empty()) dirs.push_back(dir / "kernels");
  }
  dirs.push_back(runtime_kernel_dir());
  return dirs;
}

}  // namespace

extern "C" {

const char* corert_version(void) { return rs_version(); }

const char* corert_status_string(corert_status status) {
  switch (status) {
    case CORERT_OK: return "success";
    case CORERT_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case CORERT_ERROR_NO_DEVICE: return "no such device";
    case CORERT_ERROR_NOT_FOUND: return "code object not found";
    case CORERT_ERROR_BAD_OBJECT: return "invalid code object";
    case CORERT_ERROR_NO_KERNEL: return "no such kernel";
  }
  return "unknown status";
}

const char* corert_last_error(void) { return g_last_error.c_str(); }

int corert_device_count(void) { return static_cast<int>(devices().size()); }

const char* corert_device_target(int index) {
  if (index < 0 || index >= corert_device_count()) return nullptr;
  return devices()[static_cast<std::size_t>(index)].c_str();
}

corert_status corert_module_load(corert_module** out, const char* target, const char* module,
                                 const void* anchor) {
  if (!out || !target || !module) return fail(CORERT_ERROR_INVALID_ARGUMENT, "null argument");
  *out = nullptr;
  const std::string file = std::string(module) + ".kco";
  fs::path found;
  std::error_code ec;
  for (const fs::path& dir : search_dirs(anchor)) {
    const fs::path candidate = dir / target / file;
    if (fs::is_regular_file(candidate, ec)) {
      found = candidate;
      break;
    }
  }
  if (found.empty())
    return fail(CORERT_ERROR_NOT_FOUND, std::string(target) + "/" + file + " is not installed");
  void* handle = open_library(found);
  if (!handle) return fail(CORERT_ERROR_BAD_OBJECT, found.string() + ": " + library_error());
  auto entry = reinterpret_cast<kcc_entry_fn>(find_symbol(handle, KCC_ENTRY_POINT));
  const kcc_code_object* object = entry ? entry() : nullptr;
  std::string problem;
  if (!object) {
    problem = "no " KCC_ENTRY_POINT " entry point";
  } else if (object->abi_version != KCC_ABI_VERSION) {
    problem = "kernel ABI " + std::to_string(object->abi_version) + ", expected " +
              std::to_string(KCC_ABI_VERSION);
  } else if (std::strcmp(object->target, target) != 0) {
    problem = std::string("built for ") + object->target + ", not " + target;
  } else if (object->ident != sysdeps_crc32_str(target)) {
    problem = "identity stamp does not match " + std::string(target);
  }
  if (!problem.empty()) {
    close_library(handle);
    return fail(CORERT_ERROR_BAD_OBJECT, found.string() + ": " + problem);
  }
  *out = new corert_module{handle, object, found.string()};
  return CORERT_OK;
}

void corert_module_unload(corert_module* module) {
  if (!module) return;
  close_library(module->handle);
  delete module;
}

const kcc_code_object* corert_module_object(const corert_module* module) {
  return module ? module->object : nullptr;
}

const char* corert_module_path(const corert_module* module) {
  return module ? module->path.c_str() : "";
}

corert_status corert_module_launch(corert_module* module, const char* kernel,
                                   const kcc_launch* launch) {
  if (!module || !kernel || !launch || !launch->out)
    return fail(CORERT_ERROR_INVALID_ARGUMENT, "null argument");
  const kcc_code_object* object = module->object;
  for (uint32_t k = 0; k < object->kernel_count; ++k) {
    if (std::strcmp(object->kernels[k].name, kernel) == 0) {
      object->kernels[k].fn(launch);
      return CORERT_OK;
    }
  }
  return fail(CORERT_ERROR_NO_KERNEL,
              std::string(object->module) + " has no kernel '" + kernel + "'");
}

int corert_list_modules(const char* target, void (*fn)(const char* module, void* user),
                        void* user) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(runtime_kernel_dir() / target, ec)) {
    if (entry.path().extension() == ".kco") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names) fn(name.c_str(), user);
  return static_cast<int>(names.size());
}

}  // extern "C"
