/*
 * core_api.c: resolves the server API of a Triton core at run time (see
 * core_api.h).
 */
#include "core_api.h"

#include "client.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

bool tdc_core_open(tdc_core* core, const char* path, char* error, uint32_t cap)
{
  memset(core, 0, sizeof(*core));
  core->library = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (core->library == NULL) {
    snprintf(error, cap, "cannot load the Triton core '%s': %s", path, dlerror());
    return false;
  }
#define TDC_CORE_RESOLVE(name)                                                          \
  core->name = (__typeof__(&name))dlsym(core->library, #name);                          \
  if (core->name == NULL) {                                                             \
    snprintf(error, cap, "the Triton core '%s' lacks %s", path, #name);                 \
    dlclose(core->library);                                                             \
    core->library = NULL;                                                               \
    return false;                                                                       \
  }
  TDC_CORE_FUNCTIONS(TDC_CORE_RESOLVE)
#undef TDC_CORE_RESOLVE
  return true;
}

void tdc_core_close(tdc_core* core)
{
  if (core->library != NULL) {
    dlclose(core->library);
  }
  memset(core, 0, sizeof(*core));
}

static const char* code_name(TRITONSERVER_Error_Code code)
{
  switch (code) {
    case TRITONSERVER_ERROR_INTERNAL: return "INTERNAL";
    case TRITONSERVER_ERROR_NOT_FOUND: return "NOT_FOUND";
    case TRITONSERVER_ERROR_INVALID_ARG: return "INVALID_ARG";
    case TRITONSERVER_ERROR_UNAVAILABLE: return "UNAVAILABLE";
    case TRITONSERVER_ERROR_UNSUPPORTED: return "UNSUPPORTED";
    case TRITONSERVER_ERROR_ALREADY_EXISTS: return "ALREADY_EXISTS";
    case TRITONSERVER_ERROR_CANCELLED: return "CANCELLED";
    default: return "UNKNOWN";
  }
}

void tdc_core_take_error(const tdc_core* core, TRITONSERVER_Error* error, char* out, uint32_t cap)
{
  if (error == NULL) {
    if (cap > 0) out[0] = '\0';
    return;
  }
  if (cap > 0) {
    snprintf(out, cap, "%s: %s", code_name(core->TRITONSERVER_ErrorCode(error)),
             core->TRITONSERVER_ErrorMessage(error));
  }
  core->TRITONSERVER_ErrorDelete(error);
}

int32_t tdc_core_make_global(const char* core_library, char* error, uint32_t cap)
{
  /* Never closed: the core stays loaded for the life of the process. */
  if (dlopen(core_library, RTLD_NOW | RTLD_GLOBAL) == NULL) {
    snprintf(error, cap, "INVALID_ARG: cannot load the Triton core '%s': %s", core_library,
             dlerror());
    return -1;
  }
  return 0;
}
