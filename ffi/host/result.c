/*
 * result.c: what the tests read back about a request: its responses (as
 * JSON) and the bytes of each output.
 */
#include <string.h>

#include "host_api.h"
#include "host_internal.h"

static void host_output_json(host_text* text, const TRITONBACKEND_Output* output) {
  host_text_append(text, "{\"name\":", 8);
  host_text_json_string(text, output->name);
  host_text_printf(text, ",\"datatype\":\"%s\",\"datatype_code\":%u,\"shape\":[",
                   TRITONSERVER_DataTypeString(output->datatype), (unsigned)output->datatype);
  for (uint32_t d = 0; d < output->rank; d++) {
    host_text_printf(text, "%s%lld", d == 0 ? "" : ",", (long long)output->shape[d]);
  }
  host_text_printf(text, "],\"byte_size\":%llu,\"has_buffer\":%s}",
                   (unsigned long long)output->byte_size, output->has_buffer ? "true" : "false");
}

void host_sent_response_json(host_text* text, const host_sent_response* record) {
  host_text_printf(text, "{\"flags_only\":%s,\"flags\":%u,\"sent_ns\":%llu,\"error\":",
                   record->flags_only ? "true" : "false", record->flags,
                   (unsigned long long)record->sent_ns);
  if (record->has_error) {
    host_text_printf(text, "{\"code\":%d,\"code_string\":", (int)record->error_code);
    host_text_json_string(text, host_error_code_string(record->error_code));
    host_text_append(text, ",\"message\":", 11);
    host_text_json_string(text, record->error_message);
    host_text_append(text, "}", 1);
  } else {
    host_text_append(text, "null", 4);
  }
  host_text_append(text, ",\"parameters\":{", 15);
  for (uint32_t p = 0; p < record->parameter_count; p++) {
    if (p > 0) host_text_append(text, ",", 1);
    host_text_json_string(text, record->parameters[p].name);
    host_text_append(text, ":", 1);
    host_text_printf(text, "%s", record->parameters[p].json_value);
  }
  host_text_append(text, "},\"outputs\":[", 13);
  for (uint32_t o = 0; o < record->output_count; o++) {
    if (o > 0) host_text_append(text, ",", 1);
    host_output_json(text, record->outputs[o]);
  }
  host_text_append(text, "]}", 2);
}

uint64_t host_request_result_json(TRITONBACKEND_Request* request, char* out, uint64_t cap) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request")) return 0;
  host_text text = {0};
  pthread_mutex_lock(&request->lock);
  host_text_append(&text, "{\"id\":", 6);
  host_text_json_string(&text, request->id);
  host_text_printf(&text,
                   ",\"executed\":%s,\"instance\":",
                   request->executed ? "true" : "false");
  if (request->instance_name != NULL) {
    host_text_json_string(&text, request->instance_name);
  } else {
    host_text_append(&text, "null", 4);
  }
  host_text_printf(&text,
                   ",\"release_count\":%u,\"release_flags\":%u,\"reschedules\":%u,"
                   "\"released_by_host\":%s,"
                   "\"cancelled\":%s,\"stats_reports\":%u,\"stats_success\":%s,\"final\":%s,"
                   "\"live_responses\":%u,\"live_factories\":%u,\"latency_ns\":",
                   request->release_count, request->release_flags, request->reschedules,
                   request->released_by_host ? "true" : "false",
                   request->cancelled ? "true" : "false", request->stats_reports,
                   request->stats_success ? "true" : "false",
                   request->final_sent ? "true" : "false", request->live_responses,
                   request->live_factories);
  if (request->final_sent && request->submit_ns != 0) {
    host_text_printf(&text, "%llu", (unsigned long long)(request->final_ns - request->submit_ns));
  } else {
    host_text_append(&text, "null", 4);
  }
  host_text_append(&text, ",\"responses\":[", 14);
  for (uint32_t r = 0; r < request->response_count; r++) {
    if (r > 0) host_text_append(&text, ",", 1);
    host_sent_response_json(&text, &request->responses[r]);
  }
  host_text_append(&text, "]}", 2);
  pthread_mutex_unlock(&request->lock);
  uint64_t length = host_text_export(&text, out, cap);
  host_text_free(&text);
  return length;
}

int64_t host_request_output_data(TRITONBACKEND_Request* request, uint32_t response_index,
                                 uint32_t output_index, void* out, uint64_t cap) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request")) return -1;
  int64_t result = -1;
  pthread_mutex_lock(&request->lock);
  if (response_index < request->response_count &&
      output_index < request->responses[response_index].output_count) {
    const TRITONBACKEND_Output* output =
        request->responses[response_index].outputs[output_index];
    uint64_t size = output->has_buffer ? output->byte_size : 0;
    if (out != NULL && size > 0 && cap >= size) memcpy(out, output->buffer, size);
    result = (int64_t)size;
  }
  pthread_mutex_unlock(&request->lock);
  return result;
}
