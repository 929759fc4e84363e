/*
 * instance.c: the TRITONBACKEND_ModelInstance services, including the
 * statistics a backend reports per request and per batch, which the host
 * records (and checks: ordered timestamps, once per request, the instance
 * the request ran on, before release).
 */
#include "host_api.h"
#include "host_core.h"
#include "host_internal.h"

#define HOST_CHECK_INSTANCE(instance, out)                                                  \
  do {                                                                                      \
    if (!host_check_magic((instance), HOST_MAGIC_INSTANCE, "model instance") ||             \
        (out) == NULL) {                                                                    \
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid instance or NULL out"); \
    }                                                                                       \
  } while (0)

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceName(TRITONBACKEND_ModelInstance* instance,
                                                    const char** name) {
  HOST_CHECK_INSTANCE(instance, name);
  *name = instance->name;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceKind(TRITONBACKEND_ModelInstance* instance,
                                                    TRITONSERVER_InstanceGroupKind* kind) {
  HOST_CHECK_INSTANCE(instance, kind);
  *kind = instance->kind;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceDeviceId(TRITONBACKEND_ModelInstance* instance,
                                                        int32_t* device_id) {
  HOST_CHECK_INSTANCE(instance, device_id);
  *device_id = instance->device_id;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceModel(TRITONBACKEND_ModelInstance* instance,
                                                     TRITONBACKEND_Model** model) {
  HOST_CHECK_INSTANCE(instance, model);
  *model = instance->model;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceState(TRITONBACKEND_ModelInstance* instance,
                                                     void** state) {
  HOST_CHECK_INSTANCE(instance, state);
  *state = instance->state;
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceSetState(TRITONBACKEND_ModelInstance* instance,
                                                        void* state) {
  if (!host_check_magic(instance, HOST_MAGIC_INSTANCE, "model instance")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid instance handle");
  }
  instance->state = state;
  return NULL;
}

static bool host_timestamps_ordered(uint64_t exec_start, uint64_t compute_start,
                                    uint64_t compute_end, uint64_t exec_end) {
  return exec_start <= compute_start && compute_start <= compute_end && compute_end <= exec_end;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceReportStatistics(
    TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request, const bool success,
    const uint64_t exec_start_ns, const uint64_t compute_start_ns, const uint64_t compute_end_ns,
    const uint64_t exec_end_ns) {
  if (!host_check_magic(instance, HOST_MAGIC_INSTANCE, "model instance") ||
      !host_check_magic(request, HOST_MAGIC_REQUEST, "request")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid instance or request");
  }
  if (!host_timestamps_ordered(exec_start_ns, compute_start_ns, compute_end_ns, exec_end_ns)) {
    host_violation_record(HOST_VIOLATION_STATS_TIMESTAMPS_OUT_OF_ORDER,
                          "request statistics on %s: %llu %llu %llu %llu", instance->name,
                          (unsigned long long)exec_start_ns,
                          (unsigned long long)compute_start_ns,
                          (unsigned long long)compute_end_ns, (unsigned long long)exec_end_ns);
  }
  pthread_mutex_lock(&request->lock);
  /* Triton reads the request here; after release it is freed memory. */
  if (request->release_count > 0) {
    host_violation_record(HOST_VIOLATION_STATS_AFTER_RELEASE, "request '%s'", request->id);
  }
  if (request->stats_reports > 0) {
    host_violation_record(HOST_VIOLATION_STATS_REPORTED_TWICE, "request '%s'", request->id);
  }
  if (request->instance != instance) {
    host_violation_record(HOST_VIOLATION_STATS_WRONG_INSTANCE,
                          "request '%s' reported on %s", request->id, instance->name);
  }
  request->stats_reports++;
  request->stats_success = success;
  uint64_t submitted_ns = request->submit_ns;
  pthread_mutex_unlock(&request->lock);

  /* A served model counts it as Triton's statistics do, with the request's
   * batch size (its first dimension when the model batches). */
  struct host_model_runtime* runtime = instance->model->runtime;
  if (runtime != NULL) {
    uint64_t batch_size = 1;
    if (runtime->config.max_batch_size > 0 && request->input_count > 0 &&
        request->inputs[0]->rank > 0 && request->inputs[0]->shape[0] > 0) {
      batch_size = (uint64_t)request->inputs[0]->shape[0];
    }
    host_model_stats_request(&runtime->stats, submitted_ns, batch_size, success, exec_start_ns,
                             compute_start_ns, compute_end_ns, exec_end_ns);
  }

  pthread_mutex_lock(&instance->stats_lock);
  if (success) {
    instance->stats.request_success++;
  } else {
    instance->stats.request_failure++;
  }
  instance->stats.last_request_ns[0] = exec_start_ns;
  instance->stats.last_request_ns[1] = compute_start_ns;
  instance->stats.last_request_ns[2] = compute_end_ns;
  instance->stats.last_request_ns[3] = exec_end_ns;
  pthread_mutex_unlock(&instance->stats_lock);
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceReportBatchStatistics(
    TRITONBACKEND_ModelInstance* instance, const uint64_t batch_size,
    const uint64_t exec_start_ns, const uint64_t compute_start_ns, const uint64_t compute_end_ns,
    const uint64_t exec_end_ns) {
  if (!host_check_magic(instance, HOST_MAGIC_INSTANCE, "model instance")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid instance handle");
  }
  if (!host_timestamps_ordered(exec_start_ns, compute_start_ns, compute_end_ns, exec_end_ns)) {
    host_violation_record(HOST_VIOLATION_STATS_TIMESTAMPS_OUT_OF_ORDER,
                          "batch statistics on %s", instance->name);
  }
  pthread_mutex_lock(&instance->stats_lock);
  instance->stats.batch_reports++;
  instance->stats.batch_size_total += batch_size;
  instance->stats.last_batch_size = batch_size;
  instance->stats.last_batch_ns[0] = exec_start_ns;
  instance->stats.last_batch_ns[1] = compute_start_ns;
  instance->stats.last_batch_ns[2] = compute_end_ns;
  instance->stats.last_batch_ns[3] = exec_end_ns;
  pthread_mutex_unlock(&instance->stats_lock);
  if (instance->model->runtime != NULL) {
    host_model_stats_batch(&instance->model->runtime->stats, batch_size, exec_start_ns,
                           compute_start_ns, compute_end_ns, exec_end_ns);
  }
  return NULL;
}

uint64_t host_instance_stats_json(TRITONBACKEND_ModelInstance* instance, char* out,
                                  uint64_t cap) {
  if (!host_check_magic(instance, HOST_MAGIC_INSTANCE, "model instance")) return 0;
  pthread_mutex_lock(&instance->stats_lock);
  host_instance_stats stats = instance->stats;
  pthread_mutex_unlock(&instance->stats_lock);
  host_text text = {0};
  host_text_append(&text, "{\"name\":", 8);
  host_text_json_string(&text, instance->name);
  host_text_printf(&text,
                   ",\"index\":%u,\"execute_calls\":%llu,\"request_success\":%llu,"
                   "\"request_failure\":%llu,\"batch_reports\":%llu,\"batch_size_total\":%llu,"
                   "\"last_batch_size\":%llu,\"last_request_ns\":[%llu,%llu,%llu,%llu],"
                   "\"last_batch_ns\":[%llu,%llu,%llu,%llu]}",
                   instance->index, (unsigned long long)stats.execute_calls,
                   (unsigned long long)stats.request_success,
                   (unsigned long long)stats.request_failure,
                   (unsigned long long)stats.batch_reports,
                   (unsigned long long)stats.batch_size_total,
                   (unsigned long long)stats.last_batch_size,
                   (unsigned long long)stats.last_request_ns[0],
                   (unsigned long long)stats.last_request_ns[1],
                   (unsigned long long)stats.last_request_ns[2],
                   (unsigned long long)stats.last_request_ns[3],
                   (unsigned long long)stats.last_batch_ns[0],
                   (unsigned long long)stats.last_batch_ns[1],
                   (unsigned long long)stats.last_batch_ns[2],
                   (unsigned long long)stats.last_batch_ns[3]);
  uint64_t length = host_text_export(&text, out, cap);
  host_text_free(&text);
  return length;
}

int32_t host_instance_ready(TRITONBACKEND_ModelInstance* instance, char* error_text,
                            uint32_t error_cap) {
  if (error_cap > 0) error_text[0] = '\0';
  if (!host_check_magic(instance, HOST_MAGIC_INSTANCE, "model instance")) {
    host_write_text(error_text, error_cap, "invalid instance handle");
    return -1;
  }
  host_instance_fn ready = instance->model->backend->instance_ready;
  if (ready == NULL) return 1;
  TRITONSERVER_Error* error = ready(instance);
  if (error == NULL) return 1;
  host_error_take(error, error_text, error_cap);
  return 0;
}
