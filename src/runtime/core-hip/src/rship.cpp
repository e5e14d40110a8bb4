// rship: the HIP-like layer.
#include "rship/rship.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "corert/corert.h"
#include "fmtlite/fmtlite.hpp"

struct rshipModule {
  corert_module* module;
};

namespace {

thread_local int g_device = 0;
thread_local std::string g_detail;

rshipError_t from_corert(corert_status status) {
  g_detail = corert_last_error();
  switch (status) {
    case CORERT_OK: return rshipSuccess;
    case CORERT_ERROR_INVALID_ARGUMENT: return rshipErrorInvalidValue;
    case CORERT_ERROR_NO_DEVICE: return rshipErrorInvalidDevice;
    case CORERT_ERROR_NOT_FOUND: return rshipErrorFileNotFound;
    case CORERT_ERROR_BAD_OBJECT: return rshipErrorInvalidImage;
    case CORERT_ERROR_NO_KERNEL: return rshipErrorNotFound;
  }
  return rshipErrorInvalidValue;
}

rshipError_t fail(rshipError_t error, std::string detail) {
  g_detail = std::move(detail);
  return error;
}

bool valid_device(int device) { return device >= 0 && device < corert_device_count(); }

}  // namespace

extern "C" {

const char* rshipGetErrorString(rshipError_t error) {
  switch (error) {
    case rshipSuccess: return "rshipSuccess";
    case rshipErrorInvalidValue: return "rshipErrorInvalidValue";
    case rshipErrorNoDevice: return "rshipErrorNoDevice";
    case rshipErrorInvalidDevice: return "rshipErrorInvalidDevice";
    case rshipErrorFileNotFound: return "rshipErrorFileNotFound";
    case rshipErrorInvalidImage: return "rshipErrorInvalidImage";
    case rshipErrorNotFound: return "rshipErrorNotFound";
    case rshipErrorOutOfMemory: return "rshipErrorOutOfMemory";
  }
  return "rshipErrorUnknown";
}

const char* rshipGetLastErrorDetail(void) { return g_detail.c_str(); }

rshipError_t rshipGetDeviceCount(int* count) {
  if (!count) return fail(rshipErrorInvalidValue, "null count");
  *count = corert_device_count();
  return *count > 0 ? rshipSuccess : fail(rshipErrorNoDevice, "no device visible");
}

rshipError_t rshipSetDevice(int device) {
  if (!valid_device(device))
    return fail(rshipErrorInvalidDevice, "no device " + std::to_string(device));
  g_device = device;
  return rshipSuccess;
}

rshipError_t rshipGetDevice(int* device) {
  if (!device) return fail(rshipErrorInvalidValue, "null device");
  *device = g_device;
  return rshipSuccess;
}

rshipError_t rshipGetDeviceProperties(rshipDeviceProp* prop, int device) {
  if (!prop) return fail(rshipErrorInvalidValue, "null prop");
  if (!valid_device(device))
    return fail(rshipErrorInvalidDevice, "no device " + std::to_string(device));
  const std::string target = corert_device_target(device);
  std::memset(prop, 0, sizeof(*prop));
  std::strncpy(prop->name, target.c_str(), sizeof(prop->name) - 1);
  const std::string digits = target.substr(3, target.find(':') - 3);
  const std::size_t major_len = digits.size() == 3 ? 1 : 2;
  prop->major = std::atoi(digits.substr(0, major_len).c_str());
  prop->minor = static_cast<int>(std::strtol(digits.substr(major_len, 1).c_str(), nullptr, 16));
  return rshipSuccess;
}

rshipError_t rshipDescribeDevice(int device, char* out, size_t size) {
  rshipDeviceProp prop;
  const rshipError_t error = rshipGetDeviceProperties(&prop, device);
  if (error != rshipSuccess) return error;
  const std::string text = "device " + std::to_string(device) + ": " + prop.name + " (gfx" +
                           std::to_string(prop.major) + ", id " +
                           fmtlite::hex(static_cast<std::uint64_t>(prop.major * 16 + prop.minor)) +
                           ")";
  if (!out || size == 0) return fail(rshipErrorInvalidValue, "no output buffer");
  std::strncpy(out, text.c_str(), size - 1);
  out[size - 1] = '\0';
  return rshipSuccess;
}

rshipError_t rshipModuleLoad(rshipModule_t* module, const char* name, const void* anchor) {
  if (!module || !name) return fail(rshipErrorInvalidValue, "null argument");
  if (!valid_device(g_device))
    return fail(rshipErrorNoDevice, "no device " + std::to_string(g_device));
  corert_module* loaded = nullptr;
  const corert_status status =
      corert_module_load(&loaded, corert_device_target(g_device), name, anchor);
  if (status != CORERT_OK) return from_corert(status);
  *module = new rshipModule{loaded};
  return rshipSuccess;
}

rshipError_t rshipModuleUnload(rshipModule_t module) {
  if (!module) return fail(rshipErrorInvalidValue, "null module");
  corert_module_unload(module->module);
  delete module;
  return rshipSuccess;
}

rshipError_t rshipModuleGetInfo(rshipModule_t module, const char** target, unsigned* wave_size) {
  if (!module) return fail(rshipErrorInvalidValue, "null module");
  const kcc_code_object* object = corert_module_object(module->module);
  if (target) *target = object->target;
  if (wave_size) *wave_size = object->wave_size;
  return rshipSuccess;
}

rshipError_t rshipModuleLaunchKernel(rshipModule_t module, const char* kernel,
                                     const kcc_launch* launch) {
  if (!module) return fail(rshipErrorInvalidValue, "null module");
  return from_corert(corert_module_launch(module->module, kernel, launch));
}

rshipError_t rshipLaunch(int device, const char* module, const void* anchor, const char* kernel,
                         const kcc_launch* launch, unsigned* wave_size) {
  rshipError_t error = rshipSetDevice(device);
  if (error != rshipSuccess) return error;
  rshipModule_t loaded = nullptr;
  error = rshipModuleLoad(&loaded, module, anchor);
  if (error != rshipSuccess) return error;
  error = rshipModuleLaunchKernel(loaded, kernel, launch);
  if (error == rshipSuccess) rshipModuleGetInfo(loaded, nullptr, wave_size);
  rshipModuleUnload(loaded);
  return error;
}

rshipError_t rshipMalloc(void** ptr, size_t size) {
  if (!ptr) return fail(rshipErrorInvalidValue, "null pointer");
  *ptr = std::calloc(size ? size : 1, 1);
  return *ptr ? rshipSuccess : fail(rshipErrorOutOfMemory, std::to_string(size) + " bytes");
}

rshipError_t rshipFree(void* ptr) {
  std::free(ptr);
  return rshipSuccess;
}

rshipError_t rshipMemcpy(void* dst, const void* src, size_t size) {
  if ((!dst || !src) && size) return fail(rshipErrorInvalidValue, "null pointer");
  if (size) std::memmove(dst, src, size);
  return rshipSuccess;
}

}  // extern "C"
