/*
 * infer_check.c: the checks Triton makes of an inference request against
 * the model's configuration before it is scheduled
 * (InferenceRequest::Normalize), with Triton's messages: requested outputs
 * the model has, the number of inputs, the batch dimension, each input's
 * datatype and shape. A request that fails them is refused by
 * TRITONSERVER_ServerInferAsync itself.
 */
#include <string.h>

#include "host_core.h"

static const char* host_request_label(const TRITONSERVER_InferenceRequest* request) {
  return request->id[0] == '\0' ? "<id_unknown>" : request->id;
}

static const host_config_tensor* host_config_find(const host_config_tensor* tensors,
                                                  uint32_t count, const char* name) {
  for (uint32_t i = 0; i < count; i++) {
    if (strcmp(tensors[i].name, name) == 0) return &tensors[i];
  }
  return NULL;
}

static bool host_request_has_input(const TRITONSERVER_InferenceRequest* request,
                                   const char* name) {
  for (uint32_t i = 0; i < request->input_count; i++) {
    if (strcmp(request->inputs[i].name, name) == 0) return true;
  }
  return false;
}

/* Triton's DimsListToString: "[4,-1]". */
static void host_dims_text(host_text* out, const int64_t* dims, uint32_t rank, bool batch) {
  host_text_printf(out, "[");
  bool first = true;
  if (batch) {
    host_text_printf(out, "-1");
    first = false;
  }
  for (uint32_t d = 0; d < rank; d++) {
    host_text_printf(out, "%s%lld", first ? "" : ",", (long long)dims[d]);
    first = false;
  }
  host_text_printf(out, "]");
}

/* The message for a wrong number of inputs, quirks included: Triton drops
 * the last character of each list, which is the opening bracket when the
 * list is empty. */
static TRITONSERVER_Error* host_input_count_error(const TRITONSERVER_InferenceRequest* request,
                                                  const host_model_config* config,
                                                  uint32_t required) {
  host_text missing = {0};
  host_text_printf(&missing, "[");
  for (uint32_t i = 0; i < config->input_count; i++) {
    const host_config_tensor* input = &config->inputs[i];
    if (!input->optional && !host_request_has_input(request, input->name)) {
      host_text_printf(&missing, "'%s',", input->name);
    }
  }
  missing.data[--missing.length] = '\0';
  host_text_printf(&missing, "]");
  host_text given = {0};
  if (request->input_count == 0) {
    host_text_printf(&given, "[]");
  } else {
    host_text_printf(&given, "[");
    for (uint32_t i = 0; i < request->input_count; i++) {
      host_text_printf(&given, "'%s',", request->inputs[i].name);
    }
    given.data[--given.length] = '\0';
    host_text_printf(&given, "]");
  }
  host_text expected = {0};
  if (required == config->input_count) {
    host_text_printf(&expected, "expected %u inputs", config->input_count);
  } else {
    host_text_printf(&expected, "expected number of inputs between %u and %u", required,
                     config->input_count);
  }
  TRITONSERVER_Error* error = host_error_new(
      TRITONSERVER_ERROR_INVALID_ARG,
      "[request id: %s] %s but got %u inputs for model '%s'. Got input(s) %s, but missing "
      "required input(s) %s. Please provide all required input(s).",
      host_request_label(request), expected.data, request->input_count, request->model_name,
      given.data, missing.data);
  host_text_free(&missing);
  host_text_free(&given);
  host_text_free(&expected);
  return error;
}

static TRITONSERVER_Error* host_shape_error(const TRITONSERVER_InferenceRequest* request,
                                            const host_model_config* config,
                                            const host_config_tensor* input_config,
                                            const host_infer_input* input) {
  host_text expected = {0};
  host_dims_text(&expected, input_config->dims, input_config->rank, config->max_batch_size > 0);
  host_text got = {0};
  host_dims_text(&got, input->shape, input->rank, false);
  TRITONSERVER_Error* error =
      host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                     "[request id: %s] unexpected shape for input '%s' for model '%s'. Expected "
                     "%s, got %s",
                     host_request_label(request), input->name, request->model_name,
                     expected.data, got.data);
  host_text_free(&expected);
  host_text_free(&got);
  return error;
}

TRITONSERVER_Error* host_infer_check_config(const TRITONSERVER_InferenceRequest* request,
                                            const host_model_config* config,
                                            uint64_t* batch_size) {
  const char* label = host_request_label(request);
  const char* model = request->model_name;
  *batch_size = 1;
  for (uint32_t i = 0; i < request->requested_output_count; i++) {
    const char* name = request->requested_outputs[i];
    if (host_config_find(config->outputs, config->output_count, name) == NULL) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "unexpected inference output '%s' for model '%s'", name, model);
    }
  }
  uint32_t required = 0;
  for (uint32_t i = 0; i < config->input_count; i++) {
    if (!config->inputs[i].optional) required++;
  }
  if (request->input_count > config->input_count || request->input_count < required) {
    return host_input_count_error(request, config, required);
  }
  int64_t batch = 0;
  bool batching = config->max_batch_size > 0;
  if (batching) {
    for (uint32_t i = 0; i < request->input_count; i++) {
      const host_infer_input* input = &request->inputs[i];
      if (input->rank == 0) {
        return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                              "[request id: %s] input '%s' has no shape but model requires batch "
                              "dimension for '%s'",
                              label, input->name, model);
      }
      if (batch == 0) {
        batch = input->shape[0];
      } else if (input->shape[0] != batch) {
        return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                              "[request id: %s] input '%s' batch size does not match other "
                              "inputs for '%s'",
                              label, input->name, model);
      }
    }
    if (batch > config->max_batch_size) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "[request id: %s] inference request batch-size must be <= %lld for "
                            "'%s'",
                            label, (long long)config->max_batch_size, model);
    }
    *batch_size = batch < 1 ? 1 : (uint64_t)batch;
  }
  for (uint32_t i = 0; i < request->input_count; i++) {
    const host_infer_input* input = &request->inputs[i];
    const host_config_tensor* input_config =
        host_config_find(config->inputs, config->input_count, input->name);
    if (input_config == NULL) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "unexpected inference input '%s' for model '%s'", input->name, model);
    }
    if (input->datatype != input_config->datatype) {
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                            "[request id: %s] inference input '%s' data-type is '%s', but model "
                            "'%s' expects '%s'",
                            label, input->name, TRITONSERVER_DataTypeString(input->datatype),
                            model, TRITONSERVER_DataTypeString(input_config->datatype));
    }
    const int64_t* dims = input->shape + (batching ? 1 : 0);
    uint32_t rank = input->rank - (batching ? 1u : 0u);
    bool match = rank == input_config->rank;
    for (uint32_t d = 0; match && d < rank; d++) {
      match = input_config->dims[d] == -1 || input_config->dims[d] == dims[d];
    }
    if (!match) return host_shape_error(request, config, input_config, input);
  }
  return NULL;
}
