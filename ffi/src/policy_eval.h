/*
 * policy_eval.h: the model's sandbox as the policy evaluator decided it
 * (sandbox/evaluate.ts, the one place permissions are computed). The
 * parent asks once per model load, before any stub exists, and applies the
 * answer to every stub of the model: command-line permissions, the V8 heap
 * flag, the environment, the rlimits, the execute deadline and the output
 * cap. The answer itself goes to each stub in its INIT arguments
 * (`sandbox`), so the model's Worker gets exactly the same permissions.
 * ffi/WIRE_FORMAT.md, "The sandbox record", lists the fields.
 */
#ifndef TDN_POLICY_EVAL_H
#define TDN_POLICY_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "triton_api.h"

typedef struct tdn_sandbox {
  char* record; /* the evaluator's answer, verbatim: forwarded to the stub */
  bool reused;  /* the answer was kept from an earlier, identical request (policy_cache.h) */
  char* read;   /* comma-separated lists, as deno's --allow-* flags take them */
  char* write;
  char* net;
  char* env;
  char* sys;
  bool gpu;
  char* models;        /* models it may call and ask about: names or globs, comma-separated */
  char* model_control; /* models it may load and unload */
  uint64_t heap_mb;
  uint64_t memory_mb;
  uint64_t data_limit_mb;
  uint64_t open_files;
  uint64_t execute_timeout_ms;
  uint64_t stream_idle_timeout_ms; /* decoupled requests' longest silence after execute; 0: none */
  uint64_t max_output_bytes;
  char* import_map; /* a data: URL, or "" for the runtime's own map */
  bool decoupled;   /* model_transaction_policy { decoupled: true } */
  uint64_t max_batches_in_flight; /* deno.max_batches_in_flight, 1..64 */
  uint64_t max_batch_size;        /* max_batch_size; 0 when the model does not batch */
} tdn_sandbox;

/* Whether Execute hands the model's batches to the pump and returns
 * (decoupled.h): a decoupled model's always, any other model's when it may
 * have more than one batch in flight on an instance. */
static inline bool tdn_sandbox_overlaps(const tdn_sandbox* sandbox)
{
  return sandbox->decoupled || sandbox->max_batches_in_flight > 1;
}

/* Validates the operator's policy file (backend->policy_text), so that a
 * broken policy stops the backend at start instead of every model load. */
TRITONSERVER_Error* tdn_policy_check(const tdn_backend* backend);

/* Decides one model's sandbox. Fails with INVALID_ARG and the evaluator's
 * message (naming the parameter, the value and the ceiling) when the
 * model asks for what it cannot have. */
TRITONSERVER_Error* tdn_sandbox_evaluate(
    const tdn_backend* backend, const char* model_name, const char* model_repository,
    const char* model_config_json, tdn_sandbox* sandbox);

void tdn_sandbox_free(tdn_sandbox* sandbox);

/* True if `name` may be passed into a stub's environment: a C identifier
 * that does not steer the runtime (sandbox/policy/rules.ts has the same rule). */
bool tdn_sandbox_env_name_ok(const char* name);

/* Checks the configuration a model's autoCompleteConfig proposed against
 * the original (sandbox/policy/auto_complete_check.ts: only the fields the API can
 * change may differ). *checked_config is the caller's to free. */
TRITONSERVER_Error* tdn_auto_complete_check(
    const tdn_backend* backend, const char* model_repository, const char* original_config,
    const char* proposed_config, size_t proposed_length, char** checked_config);

#endif /* TDN_POLICY_EVAL_H */
