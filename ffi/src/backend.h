/*
 * backend.h: state of the loaded backend, one per Triton process. Created
 * in TRITONBACKEND_Initialize, hung on the backend handle with
 * TRITONBACKEND_BackendSetState, freed in TRITONBACKEND_Finalize. Models
 * read it; nothing writes it after initialization but the policy cache,
 * which has its own lock.
 */
#ifndef TDN_BACKEND_H
#define TDN_BACKEND_H

#include "options.h"
#include "policy_cache.h"

typedef struct tdn_backend {
  char* name;         /* as Triton knows the backend ("deno") */
  char* backend_dir;  /* absolute: holds deno, deno_dir/, runtime/, sandbox/, ffi/ */
  char* stub_library; /* <backend_dir>/libtriton_deno_stub.so */
  tdn_options options;
  char* policy_text;  /* the policy file's contents (options.policy_path), or NULL */
  tdn_policy_cache* policy_cache; /* the evaluator's answers (policy_cache.h) */
} tdn_backend;

#endif /* TDN_BACKEND_H */
