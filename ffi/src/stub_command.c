/*
 * stub_command.c: see stub_command.h. The stub gets exactly the
 * permissions its trusted main thread needs: read the runtime trees and
 * deno itself, load its FFI helper, run deno (for the type check), and what
 * the model's sandbox grants its Worker (policy_eval.h): the model
 * directory and any granted paths, hosts, variables and system
 * information. The environment is a few variables of the backend's plus the
 * granted ones, nothing else of Triton's. No secret and no region name is
 * on the command line: the region is descriptor 3.
 */
#include "stub_command.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "format.h"

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

/* Upper bounds: the fixed arguments, one per optional --allow-* flag, the
 * terminator; the environment adds the model's granted variables. */
enum { ARG_CAPACITY = 24, ENV_FIXED = 5 };

/* Appends `text` (taking ownership) or records that it failed. */
static void push(char** list, size_t* count, size_t capacity, char* text, bool* complete)
{
  if (text == NULL || *count >= capacity) {
    free(text);
    *complete = false;
    return;
  }
  list[(*count)++] = text;
}

/* Whether the model's granted variables include `name`. */
static bool grants_variable(const tdn_model* model, const char* name)
{
  const size_t length = strlen(name);
  for (size_t i = 0; i < model->env_count; ++i) {
    if (strncmp(model->env_pairs[i], name, length) == 0 && model->env_pairs[i][length] == '=') {
      return true;
    }
  }
  return false;
}

TRITONSERVER_Error* tdn_stub_command_build(
    const tdn_model* model, const char* instance_name, tdn_stub_command* command)
{
  const tdn_backend* backend = model->backend;
  const tdn_sandbox* sandbox = &model->sandbox;
  const char* dir = backend->backend_dir;
  const char* deno = backend->options.deno_path;
  const char* hash_pieces[] = {model->repository, model->name, instance_name};
  const unsigned long long hash = (unsigned long long)location_hash(hash_pieces, 3);
  const size_t env_capacity = ENV_FIXED + model->env_count;

  memset(command, 0, sizeof(*command));
  command->path = strdup(deno);
  command->argv = calloc(ARG_CAPACITY + 1, sizeof(char*));
  command->envp = calloc(env_capacity + 1, sizeof(char*));
  command->layers = malloc(sizeof(*command->layers));
  if (command->path == NULL || command->argv == NULL || command->envp == NULL ||
      command->layers == NULL) {
    tdn_stub_command_free(command);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  bool complete = true;
  size_t count = 0;
  char** arg = command->argv;
  push(arg, &count, ARG_CAPACITY, strdup(deno), &complete);
  push(arg, &count, ARG_CAPACITY, strdup("run"), &complete);
  push(arg, &count, ARG_CAPACITY, strdup("--no-prompt"), &complete);
  push(arg, &count, ARG_CAPACITY, strdup("--no-config"), &complete);
  push(arg, &count, ARG_CAPACITY, strdup("--no-remote"), &complete);
  push(arg, &count, ARG_CAPACITY, strdup("--cached-only"), &complete);
  push(arg, &count, ARG_CAPACITY, strdup("--no-lock"), &complete);
  push(arg, &count, ARG_CAPACITY, strdup("--unstable-worker-options"), &complete);
  /* The model's own dependencies come with a map of their own (a data: URL). */
  push(
      arg, &count, ARG_CAPACITY,
      sandbox->import_map[0] != '\0' ? tdn_format("--import-map=%s", sandbox->import_map)
                                     : tdn_format("--import-map=%s/runtime/import_map.json", dir),
      &complete);
  push(arg, &count, ARG_CAPACITY, tdn_format("--location=http://%016llx.stub.invalid/", hash), &complete);
  push(
      arg, &count, ARG_CAPACITY,
      tdn_format("--v8-flags=--max-old-space-size=%llu", (unsigned long long)sandbox->heap_mb),
      &complete);
  push(arg, &count, ARG_CAPACITY, strdup("--allow-ffi"), &complete);
  /* The trusted thread holds everything its model's Worker gets (a Worker
   * cannot have more than its parent thread), plus the runtime and deno.
   * sandbox->read starts with the model directory. */
  push(
      arg, &count, ARG_CAPACITY,
      tdn_format(
          "--allow-read=%s/runtime,%s/sandbox,%s/ffi,%s/" TDN_VERDICT_DIR ",%s,%s", dir, dir, dir,
          dir, sandbox->read, deno),
      &complete);
  /* The type check's verdicts (sandbox/checks/check_verdicts.ts) are written by the
   * trusted thread only: the Worker's own permissions never include them. */
  push(
      arg, &count, ARG_CAPACITY,
      sandbox->write[0] != '\0'
          ? tdn_format("--allow-write=%s/" TDN_VERDICT_DIR ",%s", dir, sandbox->write)
          : tdn_format("--allow-write=%s/" TDN_VERDICT_DIR, dir),
      &complete);
  if (sandbox->net[0] != '\0') {
    push(arg, &count, ARG_CAPACITY, tdn_format("--allow-net=%s", sandbox->net), &complete);
  }
  if (sandbox->env[0] != '\0') {
    push(arg, &count, ARG_CAPACITY, tdn_format("--allow-env=%s", sandbox->env), &complete);
  }
  if (sandbox->sys[0] != '\0') {
    push(arg, &count, ARG_CAPACITY, tdn_format("--allow-sys=%s", sandbox->sys), &complete);
  }
  /* deno for `deno check`; TypeScript's native compiler for the check's fast path
   * (sandbox/checks/native_check.ts). Neither ever runs model code. */
  push(arg, &count, ARG_CAPACITY, tdn_format("--allow-run=%s,%s/typescript/tsc", deno, dir), &complete);
  push(arg, &count, ARG_CAPACITY, tdn_format("%s/runtime/stub/main.ts", dir), &complete);
  push(arg, &count, ARG_CAPACITY, strdup(backend->stub_library), &complete);

  size_t env_count = 0;
  char** env = command->envp;
  push(env, &env_count, env_capacity, tdn_format("DENO_DIR=%s/deno_dir", dir), &complete);
  push(env, &env_count, env_capacity, strdup("NO_COLOR=1"), &complete);
  push(env, &env_count, env_capacity, strdup("DENO_NO_UPDATE_CHECK=1"), &complete);
  /* Deno reads $HOME/.npmrc, and without HOME the home of Triton's user: a registry named there
   * would move where cached packages are looked up. The backend's own cache directory instead
   * (it holds no .npmrc unless the operator puts one there); a model granted HOME gets Triton's. */
  if (!grants_variable(model, "HOME")) {
    push(env, &env_count, env_capacity, tdn_format("HOME=%s/deno_dir", dir), &complete);
  }
  /* WebGPU works with no permission at all, and a model can reach a fresh realm (a nested
   * Worker) where in-realm removal does not hold: off for the whole process unless granted. */
  if (!sandbox->gpu) {
    push(env, &env_count, env_capacity, strdup("DENO_WEBGPU_BACKEND=none"), &complete);
  }
  for (size_t i = 0; i < model->env_count; ++i) {
    push(env, &env_count, env_capacity, strdup(model->env_pairs[i]), &complete);
  }

  if (!tdn_layers_prepare(
          command->layers, sandbox->data_limit_mb * 1024 * 1024, sandbox->open_files,
          backend->options.stub_seccomp)) {
    tdn_stub_command_free(command);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "the stub's seccomp filter does not fit");
  }
  if (!complete) {
    tdn_stub_command_free(command);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  return NULL;
}

void tdn_stub_command_free(tdn_stub_command* command)
{
  for (char** arg = command->argv; arg != NULL && *arg != NULL; ++arg) {
    free(*arg);
  }
  for (char** env = command->envp; env != NULL && *env != NULL; ++env) {
    free(*env);
  }
  free(command->argv);
  free(command->envp);
  free(command->path);
  free(command->layers);
  memset(command, 0, sizeof(*command));
}
