/*
 * stub_command.h: the stub's command line and environment
 * (ffi/WIRE_FORMAT.md, "The stub process"), built once per instance and
 * reused for every restart.
 */
#ifndef TDN_STUB_COMMAND_H
#define TDN_STUB_COMMAND_H

#include "model.h"
#include "stub_process.h"
#include "triton_api.h"

/* Where the type check's verdicts live, below the backend directory
 * (runtime/stub/prepare_model.ts, verdictDirectory, says the same). */
#define TDN_VERDICT_DIR "deno_dir/check_verdicts"

TRITONSERVER_Error* tdn_stub_command_build(
    const tdn_model* model, const char* instance_name, tdn_stub_command* command);

void tdn_stub_command_free(tdn_stub_command* command);

#endif /* TDN_STUB_COMMAND_H */
