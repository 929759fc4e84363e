/*
 * bls_payload.c: see bls_payload.h. The layout is batch_codec.c's
 * one-response RESULT; this file reads Triton's response into it and takes
 * the blocks. Triton's own values are trusted but still bounded by the
 * wire's limits, so the stub never sees what it could not have sent.
 */
#include "bls_payload.h"

#include <stdlib.h>
#include <string.h>

#include "batch_codec.h"
#include "datatype.h"
#include "errors.h"
#include "tensor_copy.h"

/* Triton's response read for the encoder: outputs[i]'s data lies at bases[i]
 * until place_data gives it an arena offset. */
typedef struct planned {
  tdn_encoded_response response;
  tdn_encoded_output* outputs;
  const uint8_t** bases;
  char* parameters; /* owned wire form or NULL */
} planned;

static TRITONSERVER_Error* remember_block(tdn_bls_written* written, uint64_t handle)
{
  uint64_t* grown = realloc(written->blocks, (written->block_count + 1) * sizeof(uint64_t));
  if (grown == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  written->blocks = grown;
  written->blocks[written->block_count++] = handle;
  return NULL;
}

/* Takes a block and remembers it; *offset is its arena offset. */
static TRITONSERVER_Error* take(
    tdn_supervisor* supervisor, uint64_t bytes, tdn_bls_written* written, uint64_t* offset)
{
  tdn_arena_grant grant;
  TDN_RETURN_IF_ERROR(tdn_supervisor_take(supervisor, bytes, &grant));
  TRITONSERVER_Error* error = remember_block(written, grant.handle);
  if (error != NULL) {
    tdn_supervisor_give_back(supervisor, grant.handle);
    return error;
  }
  *offset = grant.offset;
  return NULL;
}

/* Places the data of each output: in place when Triton wrote it into the
 * arena at an aligned offset, else a copy in a block of its own. */
static TRITONSERVER_Error* place_data(
    tdn_supervisor* supervisor, planned* plan, tdn_bls_written* written)
{
  uint8_t* arena = tdn_supervisor_arena(supervisor);
  const uint64_t arena_size = tdn_supervisor_arena_size(supervisor);
  for (uint32_t i = 0; i < plan->response.output_count; ++i) {
    tdn_encoded_output* output = &plan->outputs[i];
    if (output->data_size == 0) {
      output->data_offset = 0;
      continue;
    }
    const uintptr_t at = (uintptr_t)plan->bases[i];
    const uintptr_t start = (uintptr_t)arena;
    if (at >= start && at - start <= arena_size &&
        output->data_size <= arena_size - (at - start) && (at - start) % TDN_TENSOR_ALIGN == 0) {
      output->data_offset = at - start;
      continue;
    }
    uint64_t offset = 0;
    TDN_RETURN_IF_ERROR(take(supervisor, output->data_size, written, &offset));
    tdn_tensor_copy(arena + offset, plan->bases[i], output->data_size);
    output->data_offset = offset;
  }
  return NULL;
}

/* Writes the plan: one block for the structs and strings. */
static TRITONSERVER_Error* write_plan(
    tdn_supervisor* supervisor, planned* plan, tdn_bls_written* written)
{
  plan->response.outputs = plan->outputs;
  uint64_t base = 0;
  TDN_RETURN_IF_ERROR(take(supervisor, tdn_one_response_size(&plan->response), written, &base));
  TDN_RETURN_IF_ERROR(place_data(supervisor, plan, written));
  written->offset = base;
  written->length =
      tdn_one_response_encode(tdn_supervisor_arena(supervisor), base, &plan->response);
  return NULL;
}

/* Reads output `index` of Triton's response into the plan, within the
 * wire's limits. */
static TRITONSERVER_Error* plan_output(
    TRITONSERVER_InferenceResponse* response, uint32_t index, tdn_encoded_output* output,
    const uint8_t** base_out)
{
  const char* name = NULL;
  TRITONSERVER_DataType datatype = TRITONSERVER_TYPE_INVALID;
  const int64_t* shape = NULL;
  uint64_t rank = 0;
  const void* base = NULL;
  size_t size = 0;
  TRITONSERVER_MemoryType memory_type = TRITONSERVER_MEMORY_CPU;
  int64_t memory_type_id = 0;
  void* userp = NULL;
  TDN_RETURN_IF_ERROR(TRITONSERVER_InferenceResponseOutput(
      response, index, &name, &datatype, &shape, &rank, &base, &size, &memory_type,
      &memory_type_id, &userp));
  if (name == NULL || name[0] == '\0' || strlen(name) > TDN_MAX_NAME_LENGTH) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "output %u has no usable name", index);
  }
  if (!tdn_datatype_is_valid((uint32_t)datatype) || rank > TDN_MAX_RANK ||
      (rank > 0 && shape == NULL) || (size > 0 && base == NULL)) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "output '%s' has a datatype, shape or buffer the model "
        "runtime cannot carry", name);
  }
  if (memory_type == TRITONSERVER_MEMORY_GPU && size > 0) {
    return tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED, "output '%s' is in GPU memory, which the Deno backend "
        "cannot read", name);
  }
  output->name = name;
  output->datatype = (uint32_t)datatype;
  output->rank = (uint32_t)rank;
  output->shape = shape;
  output->data_size = size;
  *base_out = base;
  return NULL;
}

static TRITONSERVER_Error* plan_response(TRITONSERVER_InferenceResponse* response, planned* plan)
{
  TRITONSERVER_Error* failed = TRITONSERVER_InferenceResponseError(response);
  if (failed != NULL) {
    /* Owned by the response: read, not deleted. */
    plan->response.status = TDN_STATUS_ERROR;
    plan->response.error_code = (uint32_t)TRITONSERVER_ErrorCode(failed);
    plan->response.message = TRITONSERVER_ErrorMessage(failed);
  }
  uint32_t count = 0;
  TDN_RETURN_IF_ERROR(TRITONSERVER_InferenceResponseOutputCount(response, &count));
  if (count > TDN_MAX_OUTPUTS) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "the response has %u outputs; the model runtime takes at "
        "most %u", count, TDN_MAX_OUTPUTS);
  }
  if (count > 0) {
    plan->outputs = calloc(count, sizeof(tdn_encoded_output));
    plan->bases = calloc(count, sizeof(const uint8_t*));
    if (plan->outputs == NULL || plan->bases == NULL) {
      return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
    }
  }
  plan->response.output_count = count;
  for (uint32_t i = 0; i < count; ++i) {
    TDN_RETURN_IF_ERROR(plan_output(response, i, &plan->outputs[i], &plan->bases[i]));
  }
  TDN_RETURN_IF_ERROR(tdn_parameters_from_response(
      response, &plan->parameters, &plan->response.parameters_length));
  plan->response.parameters = plan->parameters;
  return NULL;
}

static void bound_message(planned* plan)
{
  tdn_encoded_response* response = &plan->response;
  if (response->message == NULL) {
    response->message = "";
  }
  response->message_length = strlen(response->message);
  if (response->message_length > TDN_MAX_ERROR_LENGTH) {
    response->message_length = TDN_MAX_ERROR_LENGTH;
  }
  if (response->error_code > TRITONSERVER_ERROR_CANCELLED) {
    response->error_code = TRITONSERVER_ERROR_INTERNAL;
  }
}

TRITONSERVER_Error* tdn_bls_write_response(
    tdn_supervisor* supervisor, TRITONSERVER_InferenceResponse* response,
    tdn_bls_written* written)
{
  memset(written, 0, sizeof(*written));
  planned plan;
  memset(&plan, 0, sizeof(plan));
  TRITONSERVER_Error* error = plan_response(response, &plan);
  if (error == NULL) {
    bound_message(&plan);
    error = write_plan(supervisor, &plan, written);
  }
  free(plan.outputs);
  free(plan.bases);
  free(plan.parameters);
  if (error != NULL) {
    tdn_bls_written_discard(supervisor, written);
  }
  return error;
}

TRITONSERVER_Error* tdn_bls_write_error(
    tdn_supervisor* supervisor, TRITONSERVER_Error_Code code, const char* message,
    tdn_bls_written* written)
{
  memset(written, 0, sizeof(*written));
  planned plan;
  memset(&plan, 0, sizeof(plan));
  plan.response.status = TDN_STATUS_ERROR;
  plan.response.error_code = (uint32_t)code;
  plan.response.message = message;
  bound_message(&plan);
  TRITONSERVER_Error* error = write_plan(supervisor, &plan, written);
  if (error != NULL) {
    tdn_bls_written_discard(supervisor, written);
  }
  return error;
}

TRITONSERVER_Error* tdn_bls_write_text(
    tdn_supervisor* supervisor, const char* text, tdn_bls_written* written)
{
  memset(written, 0, sizeof(*written));
  size_t length = strlen(text);
  if (length > TDN_MAX_ERROR_LENGTH) {
    length = TDN_MAX_ERROR_LENGTH;
  }
  uint64_t offset = 0;
  TRITONSERVER_Error* error = take(supervisor, length, written, &offset);
  if (error != NULL) {
    tdn_bls_written_discard(supervisor, written);
    return error;
  }
  memcpy(tdn_supervisor_arena(supervisor) + offset, text, length);
  written->offset = offset;
  written->length = length;
  return NULL;
}

void tdn_bls_written_discard(tdn_supervisor* supervisor, tdn_bls_written* written)
{
  for (uint32_t i = 0; i < written->block_count; ++i) {
    tdn_supervisor_give_back(supervisor, written->blocks[i]);
  }
  tdn_bls_written_forget(written);
}

void tdn_bls_written_forget(tdn_bls_written* written)
{
  free(written->blocks);
  memset(written, 0, sizeof(*written));
}
