/*
 * backend.c: loading a backend library the way Triton does, and the
 * TRITONBACKEND_Backend services.
 *
 * Deno's FFI opens libtriton_host.so with RTLD_LOCAL, so its TRITONSERVER_
 * and TRITONBACKEND_ definitions are invisible to libraries opened later.
 * Before opening the backend, the host re-opens itself with RTLD_NOLOAD |
 * RTLD_GLOBAL, which promotes the already-loaded copy into the global
 * namespace; the backend's undefined references then bind to the host, as
 * they bind to libtritonserver.so inside Triton.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_internal.h"
#include "host_server.h"

static _Atomic uint32_t host_api_major = TRITONBACKEND_API_VERSION_MAJOR;
static _Atomic uint32_t host_api_minor = TRITONBACKEND_API_VERSION_MINOR;

void host_set_api_version(uint32_t major, uint32_t minor) {
  atomic_store(&host_api_major, major);
  atomic_store(&host_api_minor, minor);
}

TRITONSERVER_Error* TRITONBACKEND_ApiVersion(uint32_t* major, uint32_t* minor) {
  if (major == NULL || minor == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  }
  *major = atomic_load(&host_api_major);
  *minor = atomic_load(&host_api_minor);
  return NULL;
}

/* Makes this library's symbols global (see the comment at the top). */
static bool host_promote_self(char* error_text, uint32_t error_cap) {
  Dl_info info;
  if (dladdr((void*)&host_backend_load, &info) == 0 || info.dli_fname == NULL) {
    host_write_text(error_text, error_cap, "dladdr could not name the host library");
    return false;
  }
  /* The handle stays open for the life of the process on purpose: the
   * promotion must outlive every backend. */
  if (dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL) == NULL) {
    const char* reason = dlerror();
    host_write_text(error_text, error_cap, "cannot promote %s to RTLD_GLOBAL: %s",
                    info.dli_fname, reason == NULL ? "unknown" : reason);
    return false;
  }
  return true;
}

static void* host_entry_point(void* library, const char* name) {
  dlerror();
  return dlsym(library, name);
}

static void host_backend_free(TRITONBACKEND_Backend* backend) {
  host_message_free(backend->config);
  if (backend->library != NULL) dlclose(backend->library);
  free(backend->name);
  free(backend->directory);
  free(backend->library_path);
  backend->magic = HOST_MAGIC_DEAD;
  free(backend);
}

/* Triton's backend config: {"cmdline":{...}} or {} when nothing was set. */
static TRITONSERVER_Error* host_backend_config(const char* cmdline_json,
                                               TRITONSERVER_Message** config) {
  const char* cmdline = cmdline_json == NULL ? "{}" : cmdline_json;
  const char* problem = host_json_check(cmdline, strlen(cmdline));
  if (problem != NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "backend cmdline JSON: %s", problem);
  }
  const char* first = cmdline + strspn(cmdline, " \t\r\n");
  if (*first != '{') {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "backend cmdline JSON must be an object");
  }
  const char* inner = first + 1 + strspn(first + 1, " \t\r\n");
  host_text text = {0};
  if (*inner == '}') {
    host_text_append(&text, "{}", 2);
  } else {
    host_text_printf(&text, "{\"cmdline\":%s}", first);
  }
  /* The backend object owns this message, as in Triton: not a live object. */
  TRITONSERVER_Error* error = host_message_new(config, text.data, text.length, false);
  host_text_free(&text);
  return error;
}

TRITONBACKEND_Backend* host_backend_load(const char* name, const char* library_path,
                                         const char* backend_dir, const char* cmdline_json,
                                         char* error_text, uint32_t error_cap) {
  if (name == NULL || library_path == NULL || backend_dir == NULL) {
    host_write_text(error_text, error_cap, "name, library path and backend dir are required");
    return NULL;
  }
  if (!host_promote_self(error_text, error_cap)) return NULL;

  TRITONBACKEND_Backend* backend = host_alloc(sizeof *backend);
  backend->magic = HOST_MAGIC_BACKEND;
  backend->name = host_strdup(name);
  backend->directory = host_strdup(backend_dir);
  backend->library_path = host_strdup(library_path);
  backend->execution_policy = TRITONBACKEND_EXECUTION_BLOCKING;

  TRITONSERVER_Error* error = host_backend_config(cmdline_json, &backend->config);
  if (error != NULL) {
    host_error_take(error, error_text, error_cap);
    host_backend_free(backend);
    return NULL;
  }

  backend->library = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
  if (backend->library == NULL) {
    const char* reason = dlerror();
    host_write_text(error_text, error_cap, "unable to load backend library: %s",
                    reason == NULL ? library_path : reason);
    host_backend_free(backend);
    return NULL;
  }

  /* Only Execute is required, as in Triton. */
  backend->initialize = (host_backend_fn)host_entry_point(backend->library,
                                                          "TRITONBACKEND_Initialize");
  backend->finalize = (host_backend_fn)host_entry_point(backend->library,
                                                        "TRITONBACKEND_Finalize");
  backend->model_initialize = (host_model_fn)host_entry_point(backend->library,
                                                              "TRITONBACKEND_ModelInitialize");
  backend->model_finalize = (host_model_fn)host_entry_point(backend->library,
                                                            "TRITONBACKEND_ModelFinalize");
  backend->instance_initialize = (host_instance_fn)host_entry_point(
      backend->library, "TRITONBACKEND_ModelInstanceInitialize");
  backend->instance_finalize = (host_instance_fn)host_entry_point(
      backend->library, "TRITONBACKEND_ModelInstanceFinalize");
  backend->instance_execute = (host_execute_fn)host_entry_point(
      backend->library, "TRITONBACKEND_ModelInstanceExecute");
  backend->instance_ready = (host_instance_fn)host_entry_point(
      backend->library, "TRITONBACKEND_ModelInstanceReady");
  if (backend->instance_execute == NULL) {
    host_write_text(error_text, error_cap,
                    "unable to find required entrypoint 'TRITONBACKEND_ModelInstanceExecute' "
                    "in backend library");
    host_backend_free(backend);
    return NULL;
  }

  if (backend->initialize != NULL) {
    error = backend->initialize(backend);
    if (error != NULL) {
      host_error_take(error, error_text, error_cap);
      host_backend_free(backend);
      return NULL;
    }
  }
  /* As Triton: asked once, after Initialize; optional. */
  typedef TRITONSERVER_Error* (*attribute_fn)(TRITONBACKEND_Backend*,
                                              TRITONBACKEND_BackendAttribute*);
  attribute_fn get_attribute =
      (attribute_fn)host_entry_point(backend->library, "TRITONBACKEND_GetBackendAttribute");
  if (get_attribute != NULL) {
    TRITONBACKEND_BackendAttribute attributes = {.parallel_instance_loading = false};
    error = get_attribute(backend, &attributes);
    if (error != NULL) {
      host_error_take(error, error_text, error_cap);
      /* Triton's backend object finalizes in its destructor. */
      if (backend->finalize != NULL) {
        TRITONSERVER_Error* finalized = backend->finalize(backend);
        if (finalized != NULL) TRITONSERVER_ErrorDelete(finalized);
      }
      host_backend_free(backend);
      return NULL;
    }
    backend->parallel_instance_loading = attributes.parallel_instance_loading;
  }
  return backend;
}

int32_t host_backend_unload(TRITONBACKEND_Backend* backend, char* error_text,
                            uint32_t error_cap) {
  if (!host_check_magic(backend, HOST_MAGIC_BACKEND, "backend")) {
    host_write_text(error_text, error_cap, "invalid backend handle");
    return -1;
  }
  /* Models the server loaded itself (TRITONSERVER_ServerLoadModel) are the
   * server's to unload, as Triton unloads every model before a backend. */
  host_model_control_drain(backend);
  uint32_t models = __atomic_load_n(&backend->loaded_models, __ATOMIC_SEQ_CST);
  if (models != 0) {
    host_write_text(error_text, error_cap, "backend still has %u loaded model(s)", models);
    return -1;
  }
  int32_t status = 0;
  if (backend->finalize != NULL) {
    TRITONSERVER_Error* error = backend->finalize(backend);
    if (error != NULL) {
      host_error_take(error, error_text, error_cap);
      status = -1;
    }
  }
  host_backend_free(backend);
  return status;
}

TRITONSERVER_Error* TRITONBACKEND_BackendName(TRITONBACKEND_Backend* backend, const char** name) {
  if (!host_check_magic(backend, HOST_MAGIC_BACKEND, "backend") || name == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid backend or out-pointer");
  }
  *name = backend->name;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_BackendConfig(TRITONBACKEND_Backend* backend,
                                                TRITONSERVER_Message** backend_config) {
  if (!host_check_magic(backend, HOST_MAGIC_BACKEND, "backend") || backend_config == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid backend or out-pointer");
  }
  *backend_config = backend->config; /* owned by the backend object, as in Triton */
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_BackendExecutionPolicy(TRITONBACKEND_Backend* backend,
                                                         TRITONBACKEND_ExecutionPolicy* policy) {
  if (!host_check_magic(backend, HOST_MAGIC_BACKEND, "backend") || policy == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid backend or out-pointer");
  }
  *policy = backend->execution_policy;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_BackendArtifacts(TRITONBACKEND_Backend* backend,
                                                   TRITONBACKEND_ArtifactType* artifact_type,
                                                   const char** location) {
  if (!host_check_magic(backend, HOST_MAGIC_BACKEND, "backend") || artifact_type == NULL ||
      location == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid backend or out-pointer");
  }
  *artifact_type = TRITONBACKEND_ARTIFACT_FILESYSTEM;
  *location = backend->directory;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_BackendState(TRITONBACKEND_Backend* backend, void** state) {
  if (!host_check_magic(backend, HOST_MAGIC_BACKEND, "backend") || state == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid backend or out-pointer");
  }
  *state = backend->state;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_BackendAttributeSetParallelModelInstanceLoading(
    TRITONBACKEND_BackendAttribute* attributes, bool enabled) {
  if (attributes == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid backend attributes");
  }
  attributes->parallel_instance_loading = enabled;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_BackendSetState(TRITONBACKEND_Backend* backend, void* state) {
  if (!host_check_magic(backend, HOST_MAGIC_BACKEND, "backend")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid backend");
  }
  backend->state = state;
  return NULL;
}
