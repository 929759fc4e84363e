/*
 * init_args.h: the INIT payload, a JSON object whose values are all strings
 * like python_backend's `args` (ffi/WIRE_FORMAT.md, "Payloads"), plus
 * `backend_options`.
 */
#ifndef TDN_INIT_ARGS_H
#define TDN_INIT_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "triton_api.h"

/* Builds the JSON; *json is the caller's to free. With auto_complete the
 * stub runs the model's autoCompleteConfig, answers CONFIG and waits for
 * INSTANCE (the instance fields here are then placeholders). */
TRITONSERVER_Error* tdn_init_args_build(
    const tdn_model* model, const char* instance_name, TRITONSERVER_InstanceGroupKind kind,
    int32_t device_id, bool auto_complete, char** json, size_t* length);

/* The INSTANCE payload: the final configuration and the instance's identity. */
TRITONSERVER_Error* tdn_instance_args_build(
    const tdn_model* model, const char* instance_name, TRITONSERVER_InstanceGroupKind kind,
    int32_t device_id, char** json, size_t* length);

/* "CPU", "GPU", "MODEL" or "AUTO", as python_backend names them. */
const char* tdn_instance_kind_name(TRITONSERVER_InstanceGroupKind kind);

#endif /* TDN_INIT_ARGS_H */
