/*
 * backend.c: the backend-wide entry points. Triton loads libtriton_deno.so
 * once per process; everything a model needs that does not depend on the
 * model (options, install layout) is settled here.
 *
 * Reading order for a newcomer: backend.c -> model.c -> instance.c (where
 * requests arrive) -> supervisor.c (the stub's life) -> channel.c/region.c
 * (the wire), with batch_codec.c, the batch's codec both ways, on this side
 * of the stub.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

#include "cuda_copy.h"
#include "errors.h"
#include "log.h"
#include "policy_eval.h"
#include "stub_stderr.h"
#include "trace.h"
#include "triton_api.h"

/* A policy file is a few kilobytes; anything near this is a mistake. */
#define MAX_POLICY_BYTES (1024 * 1024)

static void backend_free(tdn_backend* backend)
{
  if (backend == NULL) {
    return;
  }
  tdn_options_free(&backend->options);
  if (backend->policy_cache != NULL) {
    tdn_policy_cache_free(backend->policy_cache);
    free(backend->policy_cache);
  }
  free(backend->policy_text);
  free(backend->name);
  free(backend->backend_dir);
  free(backend->stub_library);
  free(backend);
}

/* Accepts the running Triton if it speaks our major version and at least
 * the minor version we were written against. */
static TRITONSERVER_Error* check_api_version(void)
{
  uint32_t major = 0;
  uint32_t minor = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ApiVersion(&major, &minor), "deno backend: cannot read Triton's API version");
  if (major != TRITONBACKEND_API_VERSION_MAJOR || minor < TRITONBACKEND_API_VERSION_MINOR) {
    return tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED,
        "deno backend: Triton's backend API version %u.%u is not supported; the deno backend "
        "needs %d.%d or a later %d.x",
        major, minor, TRITONBACKEND_API_VERSION_MAJOR, TRITONBACKEND_API_VERSION_MINOR,
        TRITONBACKEND_API_VERSION_MAJOR);
  }
  return NULL;
}

static TRITONSERVER_Error* read_layout(TRITONBACKEND_Backend* handle, tdn_backend* backend)
{
  TRITONBACKEND_ArtifactType artifact_type;
  const char* location = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_BackendArtifacts(handle, &artifact_type, &location),
      "deno backend: cannot read the backend directory");
  if (artifact_type != TRITONBACKEND_ARTIFACT_FILESYSTEM || location == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED,
        "deno backend: the backend must be installed on a filesystem (artifact type %d)",
        (int)artifact_type);
  }
  /* Absolute and canonical: the stub gets these paths on its command line. */
  char absolute[PATH_MAX];
  if (realpath(location, absolute) == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_NOT_FOUND, "deno backend: the backend directory '%s' cannot be resolved",
        location);
  }
  if (strchr(absolute, ',') != NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "deno backend: the backend directory '%s' contains a comma, which deno's --allow-read "
        "list cannot express; install the backend elsewhere",
        absolute);
  }
  backend->backend_dir = strdup(absolute);
  if (backend->backend_dir == NULL ||
      asprintf(&backend->stub_library, "%s/libtriton_deno_stub.so", absolute) < 0) {
    backend->stub_library = NULL;
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
  }
  return NULL;
}

static TRITONSERVER_Error* read_options(TRITONBACKEND_Backend* handle, tdn_backend* backend)
{
  TRITONSERVER_Message* config = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_BackendConfig(handle, &config), "deno backend: cannot read the backend config");
  const char* json = NULL;
  size_t json_length = 0;
  TRITONSERVER_Error* error = TRITONSERVER_MessageSerializeToJson(config, &json, &json_length);
  if (error == NULL) {
    TDN_LOG_VERBOSE("deno backend configuration: %.*s", (int)json_length, json);
    error = tdn_options_parse(json, json_length, backend->backend_dir, &backend->options);
  } else {
    error = tdn_error_context(error, "deno backend: cannot serialize the backend config");
  }
  /* BackendConfig's message belongs to Triton: not deleted here. */
  return error;
}

/* Reads the policy file once: every model load of this backend is judged
 * by the same text, whatever happens to the file later. */
static TRITONSERVER_Error* read_policy(tdn_backend* backend)
{
  const char* path = backend->options.policy_path;
  if (path == NULL) {
    return NULL;
  }
  FILE* file = fopen(path, "rb");
  if (file == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG, "deno backend: cannot open the policy file %s", path);
  }
  char* text = malloc(MAX_POLICY_BYTES + 1);
  const size_t length = text != NULL ? fread(text, 1, MAX_POLICY_BYTES + 1, file) : 0;
  const bool failed = text == NULL || ferror(file) != 0;
  fclose(file);
  if (failed || length > MAX_POLICY_BYTES) {
    free(text);
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "deno backend: cannot read the policy file %s%s", path,
        failed ? "" : " (larger than 1 MiB)");
  }
  text[length] = '\0';
  if (strlen(text) != length) {
    free(text);
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG, "deno backend: the policy file %s holds a NUL byte", path);
  }
  backend->policy_text = text;
  return tdn_policy_check(backend);
}

static TRITONSERVER_Error* backend_create(TRITONBACKEND_Backend* handle, tdn_backend** created)
{
  tdn_backend* backend = calloc(1, sizeof(*backend));
  if (backend == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
  }
  backend->policy_cache = malloc(sizeof(*backend->policy_cache));
  if (backend->policy_cache == NULL) {
    backend_free(backend);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
  }
  tdn_policy_cache_init(backend->policy_cache);
  const char* name = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_BackendName(handle, &name);
  if (error != NULL) {
    error = tdn_error_context(error, "deno backend: cannot read the backend name");
  } else if ((backend->name = strdup(name)) == NULL) {
    error = tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
  }
  if (error == NULL) {
    error = read_layout(handle, backend);
  }
  if (error == NULL) {
    error = read_options(handle, backend);
  }
  if (error == NULL) {
    error = read_policy(backend);
  }
  if (error == NULL) {
    tdn_cuda_use_library(backend->options.cuda_runtime_library);
  }
  if (error != NULL) {
    backend_free(backend);
    return error;
  }
  *created = backend;
  return NULL;
}

/* Triton calls this once, right after dlopen and before any model of this
 * backend loads. We check the API version, read the install layout and the
 * backend options, and hang the resulting tdn_backend on the handle; it is
 * owned by the backend handle until TRITONBACKEND_Finalize. */
TRITONSERVER_Error* TRITONBACKEND_Initialize(TRITONBACKEND_Backend* handle)
{
  TDN_RETURN_IF_ERROR(check_api_version());
  tdn_trace_init();
  tdn_backend* backend = NULL;
  TDN_RETURN_IF_ERROR(backend_create(handle, &backend));
  TRITONSERVER_Error* error = TRITONBACKEND_BackendSetState(handle, backend);
  if (error != NULL) {
    backend_free(backend);
    return tdn_error_context(error, "deno backend: cannot store the backend state");
  }
  const tdn_options* options = &backend->options;
  TDN_LOG_INFO(
      "TRITONBACKEND_Initialize: %s (dir %s, deno %s, shm %llu/%llu/%llu bytes, execute timeout "
      "%llu ms, stream idle timeout %llu ms, stub timeout %llu s, stub heap %llu MiB, stub memory %llu MiB, seccomp %s, "
      "policy %s)",
      backend->name, backend->backend_dir, options->deno_path,
      (unsigned long long)options->shm_default_byte_size,
      (unsigned long long)options->shm_growth_byte_size,
      (unsigned long long)options->shm_max_byte_size,
      (unsigned long long)options->execute_timeout_ms,
      (unsigned long long)options->stream_idle_timeout_ms,
      (unsigned long long)options->stub_timeout_seconds,
      (unsigned long long)options->stub_heap_mb, (unsigned long long)options->stub_memory_mb,
      options->stub_seccomp ? "on" : "off",
      options->policy_path != NULL ? options->policy_path : "none (models read their own directory only)");
  if (options->ignored_keys != NULL) {
    TDN_LOG_WARN(
        "deno backend: backend config %s: python_backend settings that have no effect on the "
        "Deno backend (each instance has its own threads and two fixed rings of records); "
        "ignored",
        options->ignored_keys);
  }
  return NULL;
}

/* Triton asks this once, after TRITONBACKEND_Initialize. Instances of one
 * model may start on several threads at once: each has its own stub, region
 * and supervisor, and what they share (the model's parked auto-complete
 * stub, its siblings) is locked. A model with N instances then loads in
 * about the time of its slowest stub, not N stub starts one after another;
 * python_backend says the same. The preferred instance kinds stay unset, so
 * that Triton fills in a group without a kind as it does for any backend. */
TRITONSERVER_Error* TRITONBACKEND_GetBackendAttribute(
    TRITONBACKEND_Backend* handle, TRITONBACKEND_BackendAttribute* attributes)
{
  (void)handle;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_BackendAttributeSetParallelModelInstanceLoading(attributes, true),
      "deno backend: cannot ask for parallel instance loading");
  return NULL;
}

/* Triton calls this once when it unloads the backend, after every model of
 * the backend has been finalized. It frees the tdn_backend. */
TRITONSERVER_Error* TRITONBACKEND_Finalize(TRITONBACKEND_Backend* handle)
{
  void* state = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_BackendState(handle, &state), "deno backend: cannot read the backend state");
  backend_free((tdn_backend*)state);
  /* No stub is left; the library may be unloaded next. */
  tdn_stub_stderr_shutdown();
  return NULL;
}
