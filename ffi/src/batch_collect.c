/*
 * batch_collect.c: see batch_collect.h.
 */
#include "batch_collect.h"

#include "parameters.h"

#include <stdlib.h>
#include <string.h>

#include "cuda_copy.h"
#include "errors.h"
#include "tdn_wire.h"

struct tdn_host_copy {
  tdn_host_copy* next;
  unsigned char data[];
};

/* Copies a GPU input buffer to the host; the copy lives as long as the
 * collected request. */
static TRITONSERVER_Error* copy_to_host(
    tdn_collected_request* owner, const char* input_name, int64_t device_id,
    tdn_input_buffer* buffer)
{
  tdn_host_copy* copy = malloc(sizeof(*copy) + (size_t)buffer->size);
  if (copy == NULL) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "input '%s': no host memory for a copy of %llu bytes",
        input_name, (unsigned long long)buffer->size);
  }
  tdn_diag why;
  if (buffer->size > 0 &&
      !tdn_cuda_copy_to_host(copy->data, buffer->data, (size_t)buffer->size, device_id, &why)) {
    free(copy);
    return tdn_error(
        TRITONSERVER_ERROR_UNSUPPORTED,
        "input '%s' is in the memory of GPU %lld and cannot be copied to the host: %s",
        input_name, (long long)device_id, why.text);
  }
  copy->next = owner->host_copies;
  owner->host_copies = copy;
  buffer->data = copy->data;
  return NULL;
}

static TRITONSERVER_Error* out_of_memory(void)
{
  return tdn_error(TRITONSERVER_ERROR_INTERNAL, "deno backend: out of memory");
}

static TRITONSERVER_Error* collect_input(
    TRITONBACKEND_Request* request, uint32_t index, tdn_input_desc* input,
    tdn_collected_request* owner)
{
  TRITONBACKEND_Input* handle = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestInputByIndex(request, index, &handle), "cannot read input %u", index);
  TRITONSERVER_DataType datatype;
  uint64_t byte_size = 0;
  uint32_t buffer_count = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_InputProperties(
          handle, &input->name, &datatype, &input->shape, &input->rank, &byte_size,
          &buffer_count),
      "cannot read the properties of input %u", index);
  input->datatype = (uint32_t)datatype;
  if (strlen(input->name) > TDN_MAX_NAME_LENGTH || input->rank > TDN_MAX_RANK) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "input '%.64s' has a name of %zu bytes and rank %u; at most %u bytes and rank %u are "
        "supported",
        input->name, strlen(input->name), input->rank, TDN_MAX_NAME_LENGTH, TDN_MAX_RANK);
  }
  if (buffer_count == 0) {
    return NULL;
  }
  tdn_input_buffer* buffers = calloc(buffer_count, sizeof(*buffers));
  if (buffers == NULL) {
    return out_of_memory();
  }
  input->buffers = buffers;
  input->buffer_count = buffer_count;
  uint64_t total = 0;
  for (uint32_t b = 0; b < buffer_count; ++b) {
    TRITONSERVER_MemoryType memory_type = TRITONSERVER_MEMORY_CPU;
    int64_t memory_type_id = 0;
    TDN_RETURN_IF_ERROR_CTX(
        TRITONBACKEND_InputBuffer(
            handle, b, &buffers[b].data, &buffers[b].size, &memory_type, &memory_type_id),
        "cannot read buffer %u of input '%s'", b, input->name);
    if (buffers[b].size > 0 && buffers[b].data == NULL) {
      return tdn_error(
          TRITONSERVER_ERROR_INTERNAL, "buffer %u of input '%s' has no data", b, input->name);
    }
    if (memory_type == TRITONSERVER_MEMORY_GPU) {
      TDN_RETURN_IF_ERROR(copy_to_host(owner, input->name, memory_type_id, &buffers[b]));
    } else if (memory_type != TRITONSERVER_MEMORY_CPU &&
               memory_type != TRITONSERVER_MEMORY_CPU_PINNED) {
      return tdn_error(
          TRITONSERVER_ERROR_UNSUPPORTED, "input '%s' is in memory of unknown type %d",
          input->name, (int)memory_type);
    }
    if (__builtin_add_overflow(total, buffers[b].size, &total)) {
      return tdn_error(TRITONSERVER_ERROR_INTERNAL, "input '%s' is too large", input->name);
    }
  }
  if (total != byte_size) {
    return tdn_error(
        TRITONSERVER_ERROR_INTERNAL, "input '%s' has %llu bytes in its buffers but declares %llu",
        input->name, (unsigned long long)total, (unsigned long long)byte_size);
  }
  return NULL;
}

static TRITONSERVER_Error* collect_identity(TRITONBACKEND_Request* request, tdn_request_desc* desc)
{
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestId(request, &desc->id), "cannot read the request id");
  if (desc->id == NULL) {
    desc->id = "";
  }
  desc->correlation_id_string = "";
  /* The numeric form fails when the id is a string; then ask for that. */
  TRITONSERVER_Error* numeric = TRITONBACKEND_RequestCorrelationId(request, &desc->correlation_id);
  if (numeric != NULL) {
    TRITONSERVER_ErrorDelete(numeric);
    desc->correlation_id = 0;
    TDN_RETURN_IF_ERROR_CTX(
        TRITONBACKEND_RequestCorrelationIdString(request, &desc->correlation_id_string),
        "cannot read the correlation id");
    if (desc->correlation_id_string == NULL) {
      desc->correlation_id_string = "";
    }
  }
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestFlags(request, &desc->flags), "cannot read the request flags");
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_InferenceRequestTimeoutMicroseconds(request, &desc->timeout_us),
      "cannot read the request timeout");
  return NULL;
}

static TRITONSERVER_Error* collect_request(
    TRITONBACKEND_Request* request, tdn_request_desc* desc, tdn_collected_request* owner)
{
  TDN_RETURN_IF_ERROR(collect_identity(request, desc));
  uint32_t input_count = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestInputCount(request, &input_count), "cannot count the inputs");
  if (input_count > 0) {
    tdn_input_desc* inputs = calloc(input_count, sizeof(*inputs));
    if (inputs == NULL) {
      return out_of_memory();
    }
    desc->inputs = inputs;
    desc->input_count = input_count;
    for (uint32_t i = 0; i < input_count; ++i) {
      TDN_RETURN_IF_ERROR(collect_input(request, i, &inputs[i], owner));
    }
  }
  uint32_t output_count = 0;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_RequestOutputCount(request, &output_count),
      "cannot count the requested outputs");
  if (output_count > 0) {
    const char** names = calloc(output_count, sizeof(*names));
    if (names == NULL) {
      return out_of_memory();
    }
    desc->requested_outputs = names;
    desc->requested_output_count = output_count;
    for (uint32_t i = 0; i < output_count; ++i) {
      TDN_RETURN_IF_ERROR_CTX(
          TRITONBACKEND_RequestOutputName(request, i, &names[i]),
          "cannot read requested output %u", i);
      if (strlen(names[i]) > TDN_MAX_NAME_LENGTH) {
        return tdn_error(
            TRITONSERVER_ERROR_INVALID_ARG,
            "requested output '%.64s...' has a name longer than %u bytes", names[i],
            TDN_MAX_NAME_LENGTH);
      }
    }
  }
  char* parameters = NULL;
  size_t parameters_length = 0;
  TDN_RETURN_IF_ERROR(tdn_parameters_from_request(request, &parameters, &parameters_length));
  desc->parameters_json = parameters;
  desc->parameters_json_length = parameters_length;
  return NULL;
}

/* A batching model's request: every input's first dimension is the
 * request's batch size, at least 1 and at most max_batch_size. */
static TRITONSERVER_Error* batch_dimension(
    const tdn_request_desc* desc, uint64_t max_batch_size, uint64_t* size)
{
  *size = 1;
  for (uint32_t i = 0; i < desc->input_count; ++i) {
    const tdn_input_desc* input = &desc->inputs[i];
    if (input->rank == 0) {
      return tdn_error(
          TRITONSERVER_ERROR_INVALID_ARG,
          "input '%s' has no batch dimension, but the model batches (max_batch_size %llu)",
          input->name, (unsigned long long)max_batch_size);
    }
    const int64_t dimension = input->shape[0];
    if (i == 0) {
      *size = dimension < 0 ? 0 : (uint64_t)dimension;
    } else if ((uint64_t)dimension != *size) {
      return tdn_error(
          TRITONSERVER_ERROR_INVALID_ARG,
          "input '%s' has batch dimension %lld but input '%s' has %llu", input->name,
          (long long)dimension, desc->inputs[0].name, (unsigned long long)*size);
    }
  }
  if (*size < 1 || *size > max_batch_size) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "the request's batch dimension is %llu; the model takes 1 to max_batch_size %llu",
        (unsigned long long)*size, (unsigned long long)max_batch_size);
  }
  return NULL;
}

TRITONSERVER_Error* tdn_batch_collect(
    TRITONBACKEND_Request** requests, uint32_t count, uint64_t max_batch_size,
    tdn_collected_batch* batch)
{
  memset(batch, 0, sizeof(*batch));
  if (count == 0) {
    return NULL;
  }
  batch->requests = calloc(count, sizeof(*batch->requests));
  batch->sendable = calloc(count, sizeof(*batch->sendable));
  batch->sendable_index = calloc(count, sizeof(*batch->sendable_index));
  batch->sendable_requests = calloc(count, sizeof(*batch->sendable_requests));
  batch->cancel_sent = calloc(count, sizeof(*batch->cancel_sent));
  if (batch->requests == NULL || batch->sendable == NULL || batch->sendable_index == NULL ||
      batch->sendable_requests == NULL || batch->cancel_sent == NULL) {
    tdn_collected_batch_free(batch);
    return out_of_memory();
  }
  batch->count = count;
  for (uint32_t r = 0; r < count; ++r) {
    tdn_collected_request* collected = &batch->requests[r];
    collected->request = requests[r];
    collected->error = collect_request(requests[r], &collected->desc, collected);
    uint64_t size = 1;
    if (collected->error == NULL && max_batch_size > 0) {
      collected->error = batch_dimension(&collected->desc, max_batch_size, &size);
    }
    if (collected->error != NULL && collected->desc.id != NULL && collected->desc.id[0] != '\0') {
      collected->error = tdn_error_context(collected->error, "request '%s'", collected->desc.id);
    }
    if (collected->error == NULL) {
      batch->sendable[batch->sendable_count] = collected->desc;
      batch->sendable_index[batch->sendable_count] = r;
      batch->sendable_requests[batch->sendable_count] = requests[r];
      batch->sendable_count++;
      batch->batch_size += size;
    }
  }
  return NULL;
}

void tdn_collected_batch_free(tdn_collected_batch* batch)
{
  for (uint32_t r = 0; r < batch->count; ++r) {
    tdn_collected_request* collected = &batch->requests[r];
    for (uint32_t i = 0; i < collected->desc.input_count; ++i) {
      free((void*)collected->desc.inputs[i].buffers);
    }
    free((void*)collected->desc.inputs);
    free((void*)collected->desc.requested_outputs);
    free((void*)collected->desc.parameters_json);
    while (collected->host_copies != NULL) {
      tdn_host_copy* next = collected->host_copies->next;
      free(collected->host_copies);
      collected->host_copies = next;
    }
    if (collected->error != NULL) {
      TRITONSERVER_ErrorDelete(collected->error);
    }
  }
  free(batch->requests);
  free(batch->sendable);
  free(batch->sendable_index);
  free(batch->sendable_requests);
  free(batch->cancel_sent);
  memset(batch, 0, sizeof(*batch));
}
