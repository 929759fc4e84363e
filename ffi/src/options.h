/*
 * options.h: the backend's settings, from Triton's backend configuration
 * (tritonserver --backend-config=deno,<key>=<value>). Parsed and checked
 * once in TRITONBACKEND_Initialize; read-only afterwards.
 */
#ifndef TDN_OPTIONS_H
#define TDN_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "triton_api.h"

typedef struct tdn_options {
  char* deno_path;                /* deno-path: absolute path of the deno executable */
  uint64_t shm_default_byte_size; /* shm-default-byte-size: initial arena bytes */
  uint64_t shm_growth_byte_size;  /* shm-growth-byte-size: arena growth step */
  uint64_t shm_max_byte_size;     /* shm-max-byte-size: the mapped window, control page included */
  char* shm_region_prefix_name;   /* shm-region-prefix-name */
  uint64_t execute_timeout_ms;    /* execute-timeout-ms: 0 = no deadline */
  uint64_t stream_idle_timeout_ms; /* stream-idle-timeout-ms: 0 = streams may be silent forever */
  uint64_t stub_timeout_seconds;  /* stub-timeout-seconds: start + INIT handshake */
  uint64_t stub_heap_mb;          /* stub-heap-mb: default V8 old-space cap of a stub */
  uint64_t stub_memory_mb;        /* stub-memory-mb: default ArrayBuffer/Wasm budget of a stub */
  bool stub_seccomp;              /* stub-seccomp: on|off, the stub's seccomp filter */
  char* policy_path;              /* policy: the operator's ceiling file, or NULL */
  char* cuda_runtime_library;     /* cuda-runtime-library: libcudart to load, or NULL: search */
  char* ignored_keys; /* python_backend keys given that have no effect here ("a, b"), or NULL */
} tdn_options;

/* Parses the backend configuration JSON ({"cmdline":{...}} or {}).
 * backend_dir (absolute) locates the default deno. On error nothing needs
 * freeing; on success free with tdn_options_free. */
TRITONSERVER_Error* tdn_options_parse(
    const char* json, size_t json_length, const char* backend_dir, tdn_options* options);

void tdn_options_free(tdn_options* options);

#endif /* TDN_OPTIONS_H */
