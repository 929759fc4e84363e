/*
 * stub_command.c: see stub_command.h. The stub gets exactly the
 * permissions its trusted main thread needs: read the runtime trees, the
 * model directory and deno itself, load its FFI helper, run deno (for the
 * model's Worker). The environment is three variables and nothing of
 * Triton's. No secret and no region name is on the command line: the region
 * is descriptor 3.
 */
#include "stub_command.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

/* FNV-1a 64, over every piece including a separator, so that different
 * (repository, model, instance) triples get different --location origins
 * and thus separate localStorage / Cache API stores. */
static uint64_t location_hash(const char* const* pieces, size_t count)
{
  uint64_t hash = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < count; ++i) {
    for (const unsigned char* c = (const unsigned char*)pieces[i];; ++c) {
      hash ^= *c;
      hash *= 0x100000001b3ull;
      if (*c == '\0') {
        break;
      }
    }
  }
  return hash;
}

static char* format(const char* pattern, ...) __attribute__((format(printf, 1, 2)));
static char* format(const char* pattern, ...)
{
  va_list args;
  va_start(args, pattern);
  char* text = NULL;
  if (vasprintf(&text, pattern, args) < 0) {
    text = NULL;
  }
  va_end(args);
  return text;
}

enum { ARG_COUNT = 17, ENV_COUNT = 4 };

TRITONSERVER_Error* tdn_stub_command_build(
    const tdn_model* model, const char* instance_name, tdn_stub_command* command)
{
  const tdn_backend* backend = model->backend;
  const char* dir = backend->backend_dir;
  const char* deno = backend->options.deno_path;
  const char* hash_pieces[] = {model->repository, model->name, instance_name};
  const unsigned long long hash = (unsigned long long)location_hash(hash_pieces, 3);

  memset(command, 0, sizeof(*command));
  command->path = strdup(deno);
  command->argv = calloc(ARG_COUNT + 1, sizeof(char*));
  command->envp = calloc(ENV_COUNT + 1, sizeof(char*));
  if (command->path == NULL || command->argv == NULL || command->envp == NULL) {
    tdn_stub_command_free(command);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  char** arg = command->argv;
  *arg++ = strdup(deno);
  *arg++ = strdup("run");
  *arg++ = strdup("--no-prompt");
  *arg++ = strdup("--no-config");
  *arg++ = strdup("--no-remote");
  *arg++ = strdup("--cached-only");
  *arg++ = strdup("--no-lock");
  *arg++ = strdup("--unstable-worker-options");
  *arg++ = format("--import-map=%s/runtime/import_map.json", dir);
  *arg++ = format("--location=http://%016llx.stub.invalid/", hash);
  *arg++ = format(
      "--v8-flags=--max-old-space-size=%llu", (unsigned long long)backend->options.stub_heap_mb);
  *arg++ = strdup("--allow-ffi");
  *arg++ = format(
      "--allow-read=%s/runtime,%s/sandbox,%s/ffi,%s,%s", dir, dir, dir, model->repository, deno);
  *arg++ = format("--allow-run=%s", deno);
  *arg++ = format("%s/runtime/stub/main.ts", dir);
  *arg++ = strdup(backend->stub_library);
  const size_t used = (size_t)(arg - command->argv);

  command->envp[0] = format("DENO_DIR=%s/deno_dir", dir);
  command->envp[1] = strdup("NO_COLOR=1");
  command->envp[2] = strdup("DENO_NO_UPDATE_CHECK=1");
  /* WebGPU works with no permission at all, and a model can reach a fresh realm (a nested
   * Worker) where in-realm removal does not hold: switch it off for the whole process. */
  command->envp[3] = strdup("DENO_WEBGPU_BACKEND=none");

  bool complete = used <= ARG_COUNT;
  for (size_t i = 0; i < used; ++i) {
    complete = complete && command->argv[i] != NULL;
  }
  for (size_t i = 0; i < ENV_COUNT; ++i) {
    complete = complete && command->envp[i] != NULL;
  }
  if (!complete) {
    tdn_stub_command_free(command);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  return NULL;
}

void tdn_stub_command_free(tdn_stub_command* command)
{
  if (command->argv != NULL) {
    for (size_t i = 0; i < ARG_COUNT; ++i) {
      free(command->argv[i]);
    }
  }
  if (command->envp != NULL) {
    for (size_t i = 0; i < ENV_COUNT; ++i) {
      free(command->envp[i]);
    }
  }
  free(command->argv);
  free(command->envp);
  free(command->path);
  memset(command, 0, sizeof(*command));
}
