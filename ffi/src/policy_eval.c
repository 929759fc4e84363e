/*
 * policy_eval.c: see policy_eval.h. The evaluator is Deno running
 * sandbox/evaluate_main.ts with read access to the backend directory and
 * the model directory only; it never runs model code. Its answer is read
 * with the strict reader (flat strings) and every field is checked again
 * here before the parent acts on it: the evaluator is trusted, but a
 * mismatch between the two sides must fail loudly, not half-apply.
 */
#include "policy_eval.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "format.h"
#include "helper_run.h"
#include "json_reader.h"
#include "json_writer.h"
#include "model_access.h"
#include "policy_cache.h"

/* The evaluator's answer, or an error naming what went wrong. */
static TRITONSERVER_Error* run_evaluator(
    const tdn_backend* backend, const char* extra_read, const char* request, size_t length,
    tdn_json_value** answer, char** answer_text)
{
  const char* dir = backend->backend_dir;
  /* Read access: the backend directory (its import map, its cache) and,
   * for a model, the model directory (deno.json, deno.lock). */
  char* read_flag = tdn_format(
      "--allow-read=%s%s%s", dir, extra_read != NULL ? "," : "",
      extra_read != NULL ? extra_read : "");
  char* entry = tdn_format("%s/sandbox/evaluate_main.ts", dir);
  char* deno_dir = tdn_format("DENO_DIR=%s/deno_dir", dir);
  /* $HOME/.npmrc could move where cached packages are looked up (see stub_command.c). */
  char* home = tdn_format("HOME=%s/deno_dir", dir);
  char* argv[] = {
      backend->options.deno_path,
      "run",
      "--quiet",
      "--no-prompt",
      "--no-config",
      "--no-remote",
      "--cached-only",
      "--no-lock",
      read_flag,
      entry,
      NULL,
  };
  char* envp[] = {deno_dir, home, "NO_COLOR=1", "DENO_NO_UPDATE_CHECK=1", NULL};
  TRITONSERVER_Error* error = NULL;
  char* output = NULL;
  size_t output_length = 0;
  tdn_diag why;
  if (read_flag == NULL || entry == NULL || deno_dir == NULL || home == NULL) {
    error = tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  } else if (!tdn_helper_run(
                 backend->options.deno_path, argv, envp, request, length,
                 backend->options.stub_timeout_seconds * 1000, &output, &output_length, &why)) {
    error = tdn_error(
        TRITONSERVER_ERROR_INTERNAL,
        "the sandbox policy evaluator (%s) %s; its messages are in Triton's log", entry,
        why.text);
  } else {
    *answer = tdn_json_parse(output, output_length, 1, &why);
    if (*answer == NULL) {
      error = tdn_error(
          TRITONSERVER_ERROR_INTERNAL, "the sandbox policy evaluator answered malformed JSON: %s",
          why.text);
      free(output);
    } else {
      *answer_text = output;
    }
  }
  free(read_flag);
  free(entry);
  free(deno_dir);
  free(home);
  return error;
}

/* The answer's "status": NULL when "ok", else the error to return. */
static TRITONSERVER_Error* status_of(const tdn_json_value* answer)
{
  const tdn_json_value* status = tdn_json_member_value(answer, "status");
  if (answer->kind == TDN_JSON_OBJECT && status != NULL && status->kind == TDN_JSON_STRING &&
      strcmp(status->string, "ok") == 0) {
    return NULL;
  }
  const tdn_json_value* message = tdn_json_member_value(answer, "message");
  if (status != NULL && status->kind == TDN_JSON_STRING && strcmp(status->string, "error") == 0 &&
      message != NULL && message->kind == TDN_JSON_STRING) {
    return tdn_error(TRITONSERVER_ERROR_INVALID_ARG, "%s", message->string);
  }
  return tdn_error(
      TRITONSERVER_ERROR_INTERNAL, "the sandbox policy evaluator answered without a status");
}

/* Writes the request members every mode has. */
static void write_policy(tdn_json_writer* writer, const tdn_backend* backend, const char* mode)
{
  tdn_json_raw(writer, "{");
  tdn_json_string_member(writer, true, "mode", mode);
  tdn_json_string_member(
      writer, false, "policy_path",
      backend->options.policy_path != NULL ? backend->options.policy_path : "");
  tdn_json_string_member(
      writer, false, "policy", backend->policy_text != NULL ? backend->policy_text : "");
}

TRITONSERVER_Error* tdn_policy_check(const tdn_backend* backend)
{
  if (backend->policy_text == NULL) {
    return NULL;
  }
  tdn_json_writer writer = {0};
  write_policy(&writer, backend, "policy");
  tdn_json_raw(&writer, "}");
  const char* failure = writer.failure;
  size_t length = 0;
  char* request = tdn_json_take(&writer, &length);
  if (request == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG, "deno backend: the policy file %s: %s",
        backend->options.policy_path, failure != NULL ? failure : "out of memory");
  }
  tdn_json_value* answer = NULL;
  char* text = NULL;
  TRITONSERVER_Error* error = run_evaluator(backend, NULL, request, length, &answer, &text);
  free(request);
  if (error == NULL) {
    error = status_of(answer);
    tdn_json_free(answer);
    free(text);
  }
  return tdn_error_context(error, "deno backend");
}

bool tdn_sandbox_env_name_ok(const char* name)
{
  static const char* const reserved_prefixes[] = {"DENO_", "LD_",  "GLIBC_",
                                                  "MALLOC_", "RUST_", "NPM_CONFIG_"};
  const size_t length = strlen(name);
  if (length == 0 || length > 256 || isdigit((unsigned char)name[0])) {
    return false;
  }
  for (size_t i = 0; i < length; ++i) {
    if (!isalnum((unsigned char)name[i]) && name[i] != '_') {
      return false;
    }
  }
  for (size_t i = 0; i < sizeof(reserved_prefixes) / sizeof(reserved_prefixes[0]); ++i) {
    if (strncasecmp(name, reserved_prefixes[i], strlen(reserved_prefixes[i])) == 0) {
      return false;
    }
  }
  return strcasecmp(name, "NO_COLOR") != 0;
}

/* A comma list for a deno flag: printable ASCII or UTF-8, no spaces needed. */
static bool list_ok(const char* list)
{
  for (const unsigned char* c = (const unsigned char*)list; *c != '\0'; ++c) {
    if (*c < 0x20 || *c == 0x7f) {
      return false;
    }
  }
  return true;
}

static bool env_list_ok(const char* list)
{
  if (*list == '\0') {
    return true;
  }
  char* copy = strdup(list);
  bool ok = copy != NULL;
  char* save = NULL;
  for (char* name = ok ? strtok_r(copy, ",", &save) : NULL; name != NULL && ok;
       name = strtok_r(NULL, ",", &save)) {
    ok = tdn_sandbox_env_name_ok(name);
  }
  free(copy);
  return ok;
}

static bool decimal_ok(const char* text, uint64_t maximum, uint64_t* value)
{
  if (text[0] == '\0' || (text[0] == '0' && text[1] != '\0')) {
    return false;
  }
  uint64_t result = 0;
  for (const char* c = text; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9' || __builtin_mul_overflow(result, 10, &result) ||
        __builtin_add_overflow(result, (uint64_t)(*c - '0'), &result)) {
      return false;
    }
  }
  *value = result;
  return result <= maximum;
}

/* Copies one string member; false if missing or not a string. */
static bool take_string(const tdn_json_value* answer, const char* key, char** out)
{
  const tdn_json_value* value = tdn_json_member_value(answer, key);
  if (value == NULL || value->kind != TDN_JSON_STRING) {
    return false;
  }
  *out = strdup(value->string);
  return *out != NULL;
}

static bool take_number(
    const tdn_json_value* answer, const char* key, uint64_t maximum, uint64_t* out)
{
  const tdn_json_value* value = tdn_json_member_value(answer, key);
  return value != NULL && value->kind == TDN_JSON_STRING &&
         decimal_ok(value->string, maximum, out);
}

/* Fills `sandbox` from an "ok" answer; names the first bad field. */
static const char* fill(const tdn_json_value* answer, tdn_sandbox* sandbox)
{
  if (!take_string(answer, "read", &sandbox->read) || !list_ok(sandbox->read) ||
      sandbox->read[0] != '/') {
    return "read";
  }
  if (!take_string(answer, "write", &sandbox->write) || !list_ok(sandbox->write)) {
    return "write";
  }
  if (!take_string(answer, "net", &sandbox->net) || !list_ok(sandbox->net)) {
    return "net";
  }
  if (!take_string(answer, "env", &sandbox->env) || !env_list_ok(sandbox->env)) {
    return "env";
  }
  if (!take_string(answer, "sys", &sandbox->sys) || !list_ok(sandbox->sys)) {
    return "sys";
  }
  const tdn_json_value* gpu = tdn_json_member_value(answer, "gpu");
  if (gpu == NULL || gpu->kind != TDN_JSON_STRING ||
      (strcmp(gpu->string, "0") != 0 && strcmp(gpu->string, "1") != 0)) {
    return "gpu";
  }
  sandbox->gpu = strcmp(gpu->string, "1") == 0;
  if (!take_string(answer, "models", &sandbox->models) ||
      !tdn_model_patterns_ok(sandbox->models)) {
    return "models";
  }
  if (!take_string(answer, "model_control", &sandbox->model_control) ||
      !tdn_model_patterns_ok(sandbox->model_control)) {
    return "model_control";
  }
  if (!take_number(answer, "heap_mb", 1024 * 1024, &sandbox->heap_mb) || sandbox->heap_mb < 16) {
    return "heap_mb";
  }
  if (!take_number(answer, "memory_mb", 1024 * 1024, &sandbox->memory_mb)) {
    return "memory_mb";
  }
  if (!take_number(answer, "data_limit_mb", 4 * 1024 * 1024, &sandbox->data_limit_mb)) {
    return "data_limit_mb";
  }
  if (!take_number(answer, "open_files", 1u << 20, &sandbox->open_files) ||
      sandbox->open_files < 64) {
    return "open_files";
  }
  if (!take_number(answer, "execute_timeout_ms", UINT32_MAX, &sandbox->execute_timeout_ms)) {
    return "execute_timeout_ms";
  }
  if (!take_number(
          answer, "stream_idle_timeout_ms", UINT32_MAX, &sandbox->stream_idle_timeout_ms)) {
    return "stream_idle_timeout_ms";
  }
  if (!take_number(answer, "max_output_bytes", 1ull << 50, &sandbox->max_output_bytes)) {
    return "max_output_bytes";
  }
  if (!take_string(answer, "import_map", &sandbox->import_map) ||
      !list_ok(sandbox->import_map) ||
      (sandbox->import_map[0] != '\0' &&
       strncmp(sandbox->import_map, "data:application/json;base64,", 29) != 0)) {
    return "import_map";
  }
  const tdn_json_value* decoupled = tdn_json_member_value(answer, "decoupled");
  if (decoupled == NULL || decoupled->kind != TDN_JSON_STRING ||
      (strcmp(decoupled->string, "0") != 0 && strcmp(decoupled->string, "1") != 0)) {
    return "decoupled";
  }
  sandbox->decoupled = decoupled->string[0] == '1';
  if (!take_number(answer, "max_batches_in_flight", 64, &sandbox->max_batches_in_flight) ||
      sandbox->max_batches_in_flight < 1) {
    return "max_batches_in_flight";
  }
  if (!take_number(answer, "max_batch_size", INT32_MAX, &sandbox->max_batch_size)) {
    return "max_batch_size";
  }
  return NULL;
}

/* Whether the model directory has a deno.json (or might: anything but a
 * clean "no such file" counts as having one), which the evaluator reads. */
static bool has_deno_json(const char* model_repository)
{
  char* path = tdn_format("%s/deno.json", model_repository);
  if (path == NULL) {
    return true;
  }
  struct stat info;
  const bool absent = lstat(path, &info) != 0 && errno == ENOENT;
  free(path);
  return !absent;
}

TRITONSERVER_Error* tdn_sandbox_evaluate(
    const tdn_backend* backend, const char* model_name, const char* model_repository,
    const char* model_config_json, tdn_sandbox* sandbox)
{
  memset(sandbox, 0, sizeof(*sandbox));
  const tdn_options* options = &backend->options;
  char numbers[5][24];
  snprintf(numbers[0], sizeof(numbers[0]), "%llu", (unsigned long long)options->stub_heap_mb);
  snprintf(numbers[1], sizeof(numbers[1]), "%llu", (unsigned long long)options->stub_memory_mb);
  snprintf(
      numbers[2], sizeof(numbers[2]), "%llu", (unsigned long long)options->execute_timeout_ms);
  /* No batch can return more than the shared-memory window holds. */
  snprintf(
      numbers[3], sizeof(numbers[3]), "%llu", (unsigned long long)options->shm_max_byte_size);
  snprintf(
      numbers[4], sizeof(numbers[4]), "%llu", (unsigned long long)options->stream_idle_timeout_ms);

  tdn_json_writer writer = {0};
  write_policy(&writer, backend, "model");
  tdn_json_string_member(&writer, false, "model_name", model_name);
  tdn_json_string_member(&writer, false, "model_repository", model_repository);
  tdn_json_string_member(&writer, false, "model_config", model_config_json);
  tdn_json_string_member(&writer, false, "runtime_dir", backend->backend_dir);
  tdn_json_string_member(&writer, false, "heap_mb", numbers[0]);
  tdn_json_string_member(&writer, false, "memory_mb", numbers[1]);
  tdn_json_string_member(&writer, false, "execute_timeout_ms", numbers[2]);
  tdn_json_string_member(&writer, false, "stream_idle_timeout_ms", numbers[4]);
  tdn_json_string_member(&writer, false, "max_output_bytes", numbers[3]);
  tdn_json_raw(&writer, "}");
  const char* failure = writer.failure;
  size_t length = 0;
  char* request = tdn_json_take(&writer, &length);
  if (request == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG, "cannot build the sandbox policy request: %s",
        failure != NULL ? failure : "out of memory");
  }
  /* An earlier answer to this very request stands while the model still
   * has no deno.json (policy_cache.h); it is checked again like a new one. */
  const bool cacheable = backend->policy_cache != NULL && !has_deno_json(model_repository);
  tdn_json_value* answer = NULL;
  TRITONSERVER_Error* error = NULL;
  char* kept = cacheable ? tdn_policy_cache_find(backend->policy_cache, request, length) : NULL;
  if (kept != NULL) {
    tdn_diag why;
    answer = tdn_json_parse(kept, strlen(kept), 1, &why);
    if (answer == NULL) {
      free(kept);
      kept = NULL;
    } else {
      sandbox->record = kept;
      sandbox->reused = true;
    }
  }
  if (answer == NULL) {
    error = run_evaluator(backend, model_repository, request, length, &answer, &sandbox->record);
  }
  if (error != NULL) {
    free(request);
    return error;
  }
  error = status_of(answer);
  if (error == NULL) {
    const char* bad = fill(answer, sandbox);
    if (bad != NULL) {
      error = tdn_error(
          TRITONSERVER_ERROR_INTERNAL,
          "the sandbox policy evaluator answered an invalid '%s'", bad);
    }
  }
  tdn_json_free(answer);
  /* Kept only if there is still no deno.json: one that appeared while the
   * evaluator ran may not have been read. */
  if (error == NULL && cacheable && kept == NULL && !has_deno_json(model_repository)) {
    tdn_policy_cache_keep(backend->policy_cache, request, length, sandbox->record);
  }
  free(request);
  if (error != NULL) {
    tdn_sandbox_free(sandbox);
  }
  return error;
}

void tdn_sandbox_free(tdn_sandbox* sandbox)
{
  free(sandbox->record);
  free(sandbox->read);
  free(sandbox->write);
  free(sandbox->net);
  free(sandbox->env);
  free(sandbox->sys);
  free(sandbox->models);
  free(sandbox->model_control);
  free(sandbox->import_map);
  memset(sandbox, 0, sizeof(*sandbox));
}

TRITONSERVER_Error* tdn_auto_complete_check(
    const tdn_backend* backend, const char* model_repository, const char* original_config,
    const char* proposed_config, size_t proposed_length, char** checked_config)
{
  *checked_config = NULL;
  char* proposed = strndup(proposed_config, proposed_length);
  if (proposed == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  tdn_json_writer writer = {0};
  write_policy(&writer, backend, "auto_complete");
  tdn_json_string_member(&writer, false, "original_config", original_config);
  /* The stub's text: the writer refuses invalid UTF-8, which fails the load. */
  tdn_json_string_member(&writer, false, "proposed_config", proposed);
  tdn_json_raw(&writer, "}");
  free(proposed);
  const char* failure = writer.failure;
  size_t length = 0;
  char* request = tdn_json_take(&writer, &length);
  if (request == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "autoCompleteConfig produced a configuration that cannot be checked: %s",
        failure != NULL ? failure : "out of memory");
  }
  tdn_json_value* answer = NULL;
  char* answer_text = NULL;
  TRITONSERVER_Error* error =
      run_evaluator(backend, model_repository, request, length, &answer, &answer_text);
  free(request);
  free(answer_text);
  if (error != NULL) {
    return error;
  }
  error = status_of(answer);
  if (error == NULL && !take_string(answer, "model_config", checked_config)) {
    error = tdn_error(
        TRITONSERVER_ERROR_INTERNAL,
        "the sandbox policy evaluator answered an invalid 'model_config'");
  }
  tdn_json_free(answer);
  return error;
}
