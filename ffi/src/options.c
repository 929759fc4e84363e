/*
 * options.c: backend configuration keys, their defaults and their checks.
 * Every rejection names the key, the value and what is allowed, because the
 * person reading it is looking at a tritonserver command line.
 */
#include "options.h"
#include "region.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "json_reader.h"
#include "tdn_wire.h"

#define MIB (1024ull * 1024ull)

/* Keys Triton adds to every backend's configuration; not ours to judge. */
static const char* const triton_keys[] = {
    "auto-complete-config",
    "backend-directory",
    "min-compute-capability",
    "default-max-batch-size",
};

/* python_backend's keys that mean nothing here: accepted, so that an
 * operator's existing --backend-config lines keep working, and named in
 * one warning at backend start (tdn_options.ignored_keys). The other keys
 * python_backend operators pass (shm-default-byte-size,
 * shm-growth-byte-size, stub-timeout-seconds, shm-region-prefix-name) are
 * honoured below with the same meaning. */
static const char* const no_effect_keys[] = {
    "thread-pool-size",       /* its threads for async BLS; here each instance has its own */
    "shm-message-queue-size", /* its IPC queue; here two fixed rings of records */
};

/* Appends `key` to options->ignored_keys (", "-separated). */
static TRITONSERVER_Error* note_ignored(const char* key, tdn_options* options)
{
  char* joined = NULL;
  if (options->ignored_keys == NULL) {
    joined = strdup(key);
  } else if (asprintf(&joined, "%s, %s", options->ignored_keys, key) < 0) {
    joined = NULL;
  }
  if (joined == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
  }
  free(options->ignored_keys);
  options->ignored_keys = joined;
  return NULL;
}

/* How one numeric key is checked. */
typedef struct numeric_key {
  const char* key;
  uint64_t minimum;
  uint64_t maximum;
  size_t field; /* offsetof(tdn_options, ...) */
} numeric_key;

static const numeric_key numeric_keys[] = {
    {"shm-default-byte-size", 4096, 1ull << 40, offsetof(tdn_options, shm_default_byte_size)},
    {"shm-growth-byte-size", 4096, 1ull << 40, offsetof(tdn_options, shm_growth_byte_size)},
    {"shm-max-byte-size", 2 * 4096, 1ull << 40, offsetof(tdn_options, shm_max_byte_size)},
    {"execute-timeout-ms", 0, UINT32_MAX, offsetof(tdn_options, execute_timeout_ms)},
    {"stream-idle-timeout-ms", 0, UINT32_MAX, offsetof(tdn_options, stream_idle_timeout_ms)},
    {"stub-timeout-seconds", 1, 3600, offsetof(tdn_options, stub_timeout_seconds)},
    {"stub-heap-mb", 16, 1024 * 1024, offsetof(tdn_options, stub_heap_mb)},
    {"stub-memory-mb", 0, 1024 * 1024, offsetof(tdn_options, stub_memory_mb)},
};

static TRITONSERVER_Error* bad_value(const char* key, const char* value, const char* allowed)
{
  return tdn_error(
      TRITONSERVER_ERROR_INVALID_ARG,
      "deno backend: invalid backend config value '%s' for '%s': expected %s", value, key,
      allowed);
}

/* Strict decimal: digits only, no sign, no spaces, no overflow. */
static bool parse_decimal(const char* text, uint64_t* value)
{
  if (*text == '\0') {
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
  return true;
}

static TRITONSERVER_Error* set_numeric(
    const numeric_key* spec, const char* value, tdn_options* options)
{
  uint64_t number;
  if (!parse_decimal(value, &number) || number < spec->minimum || number > spec->maximum) {
    char allowed[96];
    snprintf(
        allowed, sizeof(allowed), "a decimal integer from %llu to %llu",
        (unsigned long long)spec->minimum, (unsigned long long)spec->maximum);
    return bad_value(spec->key, value, allowed);
  }
  *(uint64_t*)((char*)options + spec->field) = number;
  return NULL;
}

static bool is_executable_file(const char* path)
{
  struct stat info;
  return stat(path, &info) == 0 && S_ISREG(info.st_mode) && access(path, X_OK) == 0;
}

/* The stub's --allow-read list is comma-separated, so paths must not
 * contain commas. */
static bool is_usable_path(const char* path)
{
  return path[0] == '/' && strchr(path, ',') == NULL && strlen(path) < PATH_MAX;
}

/* <backend dir>/deno if executable, else the first deno on PATH. */
static TRITONSERVER_Error* find_default_deno(const char* backend_dir, char** found)
{
  char* candidate = NULL;
  if (asprintf(&candidate, "%s/deno", backend_dir) < 0) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
  }
  if (is_executable_file(candidate)) {
    *found = candidate;
    return NULL;
  }
  free(candidate);
  const char* path_variable = getenv("PATH");
  if (path_variable != NULL) {
    char* directories = strdup(path_variable);
    if (directories == NULL) {
      return tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
    }
    char* save = NULL;
    for (char* dir = strtok_r(directories, ":", &save); dir != NULL;
         dir = strtok_r(NULL, ":", &save)) {
      char joined[PATH_MAX];
      char absolute[PATH_MAX];
      if ((size_t)snprintf(joined, sizeof(joined), "%s/deno", dir) < sizeof(joined) &&
          is_executable_file(joined) && realpath(joined, absolute) != NULL) {
        *found = strdup(absolute);
        free(directories);
        if (*found == NULL) {
          return tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
        }
        return NULL;
      }
    }
    free(directories);
  }
  return tdn_error(
      TRITONSERVER_ERROR_NOT_FOUND,
      "deno backend: no deno executable: '%s/deno' does not exist and there is none on PATH; "
      "set --backend-config=deno,deno-path=<absolute path of deno>",
      backend_dir);
}

static TRITONSERVER_Error* apply(const char* key, const char* value, tdn_options* options)
{
  for (size_t i = 0; i < sizeof(triton_keys) / sizeof(triton_keys[0]); ++i) {
    if (strcmp(key, triton_keys[i]) == 0) {
      return NULL;
    }
  }
  for (size_t i = 0; i < sizeof(numeric_keys) / sizeof(numeric_keys[0]); ++i) {
    if (strcmp(key, numeric_keys[i].key) == 0) {
      return set_numeric(&numeric_keys[i], value, options);
    }
  }
  for (size_t i = 0; i < sizeof(no_effect_keys) / sizeof(no_effect_keys[0]); ++i) {
    if (strcmp(key, no_effect_keys[i]) == 0) {
      return note_ignored(key, options);
    }
  }
  if (strcmp(key, "deno-path") == 0) {
    if (!is_usable_path(value) || !is_executable_file(value)) {
      return bad_value(
          key, value, "the absolute path (without commas) of an executable deno binary");
    }
    free(options->deno_path);
    options->deno_path = strdup(value);
    return NULL;
  }
  if (strcmp(key, "policy") == 0) {
    struct stat info;
    if (value[0] != '/' || stat(value, &info) != 0 || !S_ISREG(info.st_mode) ||
        access(value, R_OK) != 0) {
      return bad_value(key, value, "the absolute path of a readable policy file (JSON)");
    }
    free(options->policy_path);
    options->policy_path = strdup(value);
    return options->policy_path == NULL
               ? tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory")
               : NULL;
  }
  if (strcmp(key, "cuda-runtime-library") == 0) {
    if (!is_usable_path(value)) {
      return bad_value(key, value, "the absolute path of the CUDA runtime library (libcudart)");
    }
    free(options->cuda_runtime_library);
    options->cuda_runtime_library = strdup(value);
    return NULL;
  }
  if (strcmp(key, "stub-seccomp") == 0) {
    if (strcmp(value, "on") != 0 && strcmp(value, "off") != 0) {
      return bad_value(key, value, "on or off");
    }
    options->stub_seccomp = strcmp(value, "on") == 0;
    return NULL;
  }
  if (strcmp(key, "shm-region-prefix-name") == 0) {
    const size_t length = strlen(value);
    bool ok = length > 0 && length <= 64;
    for (const char* c = value; ok && *c != '\0'; ++c) {
      ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
           *c == '_' || *c == '-' || *c == '.';
    }
    if (!ok) {
      return bad_value(key, value, "1 to 64 characters from [A-Za-z0-9_.-]");
    }
    free(options->shm_region_prefix_name);
    options->shm_region_prefix_name = strdup(value);
    return NULL;
  }
  return tdn_error(
      TRITONSERVER_ERROR_INVALID_ARG,
      "deno backend: unknown backend config key '%s' (value '%s'); known keys: deno-path, "
      "shm-default-byte-size, shm-growth-byte-size, shm-max-byte-size, shm-region-prefix-name, "
      "execute-timeout-ms, stream-idle-timeout-ms, stub-timeout-seconds, stub-heap-mb, stub-memory-mb, stub-seccomp, "
      "cuda-runtime-library, "
      "policy (and python_backend's thread-pool-size and shm-message-queue-size, which have no "
      "effect)",
      key, value);
}

static TRITONSERVER_Error* apply_all(const tdn_json_value* root, tdn_options* options)
{
  if (root->kind != TDN_JSON_OBJECT) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG, "deno backend: the backend config is not a JSON object");
  }
  for (size_t i = 0; i < root->member_count; ++i) {
    if (strcmp(root->members[i].key, "cmdline") != 0) {
      return tdn_error(
          TRITONSERVER_ERROR_INVALID_ARG,
          "deno backend: unexpected member '%s' in the backend config; only 'cmdline' is known",
          root->members[i].key);
    }
  }
  const tdn_json_value* cmdline = tdn_json_member_value(root, "cmdline");
  if (cmdline == NULL) {
    return NULL;
  }
  if (cmdline->kind != TDN_JSON_OBJECT) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "deno backend: 'cmdline' in the backend config is not an object");
  }
  for (size_t i = 0; i < cmdline->member_count; ++i) {
    const tdn_json_member* member = &cmdline->members[i];
    if (member->value->kind != TDN_JSON_STRING) {
      return tdn_error(
          TRITONSERVER_ERROR_INVALID_ARG,
          "deno backend: backend config key '%s' has %s value; values are strings",
          member->key, tdn_json_kind_name(member->value->kind));
    }
    TDN_RETURN_IF_ERROR(apply(member->key, member->value->string, options));
  }
  return NULL;
}

/* Checks that need several keys at once. */
static TRITONSERVER_Error* check_combination(const tdn_options* options)
{
  /* The window holds the control page and two equal arena halves, the
   * parent's and the stub's; shm-default-byte-size is committed up front in
   * the parent's. */
  if (tdn_region_half_for(options->shm_max_byte_size) < options->shm_default_byte_size ||
      tdn_region_half_for(options->shm_max_byte_size) < TDN_CONTROL_SIZE) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "deno backend: shm-max-byte-size %llu is too small: it holds the %u-byte control page "
        "and two arena halves, each at least shm-default-byte-size (%llu) and 4096 bytes; raise "
        "shm-max-byte-size or lower shm-default-byte-size",
        (unsigned long long)options->shm_max_byte_size, TDN_CONTROL_SIZE,
        (unsigned long long)options->shm_default_byte_size);
  }
  return NULL;
}

TRITONSERVER_Error* tdn_options_parse(
    const char* json, size_t json_length, const char* backend_dir, tdn_options* options)
{
  memset(options, 0, sizeof(*options));
  options->shm_default_byte_size = 1 * MIB;
  options->shm_growth_byte_size = 1 * MIB;
  options->shm_max_byte_size = 1024 * MIB;
  options->execute_timeout_ms = 60000;
  options->stream_idle_timeout_ms = 60000;
  options->stub_timeout_seconds = 30;
  options->stub_heap_mb = 1024;
  options->stub_memory_mb = 4096;
  options->stub_seccomp = true;
  options->shm_region_prefix_name = strdup("triton_deno");

  tdn_diag diag;
  tdn_json_value* root = tdn_json_parse(json, json_length, 2, &diag);
  TRITONSERVER_Error* error = NULL;
  if (root == NULL) {
    error = tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG, "deno backend: cannot read the backend config: %s",
        diag.text);
  } else {
    error = apply_all(root, options);
    tdn_json_free(root);
  }
  if (error == NULL) {
    error = check_combination(options);
  }
  if (error == NULL && options->deno_path == NULL) {
    error = find_default_deno(backend_dir, &options->deno_path);
  }
  if (error == NULL && !is_usable_path(options->deno_path)) {
    error = tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "deno backend: the deno path '%s' contains a comma, which deno's --allow-read list "
        "cannot express; set deno-path to a path without commas",
        options->deno_path);
  }
  if (error == NULL && options->shm_region_prefix_name == NULL) {
    error = tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
  }
  if (error != NULL) {
    tdn_options_free(options);
  }
  return error;
}

void tdn_options_free(tdn_options* options)
{
  free(options->deno_path);
  free(options->shm_region_prefix_name);
  free(options->policy_path);
  free(options->cuda_runtime_library);
  free(options->ignored_keys);
  memset(options, 0, sizeof(*options));
}
