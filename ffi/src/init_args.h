/*
 * init_args.h: the INIT payload, a JSON object whose values are all strings
 * like python_backend's `args` (ffi/WIRE_FORMAT.md, "Payloads"), plus
 * `backend_options`.
 */
#ifndef TDN_INIT_ARGS_H
#define TDN_INIT_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "triton_api.h"

/* Builds the JSON; *json is the caller's to free. */
TRITONSERVER_Error* tdn_init_args_build(
    const tdn_model* model, const char* instance_name, TRITONSERVER_InstanceGroupKind kind,
    int32_t device_id, char** json, size_t* length);

/* "CPU", "GPU", "MODEL" or "AUTO", as python_backend names them. */
const char* tdn_instance_kind_name(TRITONSERVER_InstanceGroupKind kind);

#endif /* TDN_INIT_ARGS_H */
