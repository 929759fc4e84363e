/*
 * instance.c: the per-instance entry points, including Execute, where
 * requests arrive. The path of a batch, top to bottom:
 *
 *   TRITONBACKEND_ModelInstanceExecute
 *     tdn_batch_collect        (batch_collect.c)   Triton requests -> descriptions
 *     tdn_supervisor_ensure_running (supervisor.c) a live stub, restarted if needed
 *     tdn_batch_encode         (batch_writer.c)    descriptions -> EXECUTE payload in the arena
 *     tdn_supervisor_execute   (supervisor.c)      EXECUTE -> (GROW)* -> RESULT | ERROR
 *     tdn_result_decode        (result_codec.c)    RESULT payload, validated
 *     tdn_respond_result       (response_sender.c) outputs -> Triton responses
 *   then statistics, RequestRelease, and a restart if the stub failed.
 *
 * METRICS records arrive wherever the parent waits for its stub (the batch
 * above, the decoupled pump, finalize) and are applied at once
 * (on_metrics, metrics.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "batch_collect.h"
#include "batch_writer.h"
#include "auto_complete.h"
#include "clock.h"
#include "decoupled.h"
#include "errors.h"
#include "init_args.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "metrics_batch.h"
#include "response_sender.h"
#include "result_codec.h"
#include "stub_command.h"
#include "trace.h"

static void instance_free(tdn_instance* instance)
{
  if (instance == NULL) {
    return;
  }
  tdn_decoupled_stop_pump(&instance->decoupled);
  tdn_supervisor_stop(&instance->supervisor);
  tdn_trace_flush();
  tdn_bls_detach(instance->bls);
  tdn_readiness_destroy(&instance->readiness);
  tdn_decoupled_fail_open(
      &instance->decoupled,
      "the instance was unloaded before the model closed this request's response sender");
  tdn_decoupled_destroy(&instance->decoupled);
  /* After the stop: finalize may still have delivered METRICS. */
  tdn_metrics_stub_free(instance->metrics);
  tdn_stub_command_free(&instance->command);
  free(instance->init_json);
  free(instance->name);
  pthread_mutex_destroy(&instance->life);
  free(instance);
}

static TRITONSERVER_Error* read_identity(
    TRITONBACKEND_ModelInstance* handle, tdn_instance* instance)
{
  const char* name = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelInstanceName(handle, &name), "cannot read the instance name");
  if ((instance->name = strdup(name)) == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelInstanceKind(handle, &instance->kind), "cannot read the instance kind");
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelInstanceDeviceId(handle, &instance->device_id),
      "cannot read the instance device id");
  TRITONBACKEND_Model* model_handle = NULL;
  void* model_state = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelInstanceModel(handle, &model_handle), "cannot reach the model");
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelState(model_handle, &model_state), "cannot read the model state");
  instance->model = model_state;
  return NULL;
}

/* Says which layers below Deno hold for this instance's stub, and warns
 * about the ones the kernel refused (sandbox_layers.h). */
static void report_layers(const tdn_instance* instance)
{
  const tdn_layers* layers = instance->command.layers;
  char applied[64];
  tdn_layers_describe(layers->applied, applied, sizeof(applied));
  const unsigned missing = layers->wanted & ~layers->applied;
  if (missing == 0) {
    TDN_LOG_VERBOSE("stub for instance '%s' runs with %s", instance->name, applied);
    return;
  }
  char absent[64];
  tdn_layers_describe(missing, absent, sizeof(absent));
  TDN_LOG_WARN(
      "stub for instance '%s' runs without %s (the kernel refused them; see the README's "
      "security section); it has %s",
      instance->name, absent, applied);
}

/* A METRICS record: its batch is copied out of the arena (the stub could
 * change it while it is read) and applied. */
static void on_metrics(void* context, const tdn_record* record)
{
  tdn_instance* instance = context;
  const tdn_supervisor* supervisor = &instance->supervisor;
  const uint64_t arena_size = tdn_supervisor_arena_size(supervisor);
  if (record->length > TDN_METRICS_MAX_BATCH_BYTES || record->offset > arena_size ||
      record->length > arena_size - record->offset) {
    tdn_metrics_warn(
        instance->metrics,
        "a METRICS record [%llu, +%llu) is not within the %llu-byte arena or is over %u bytes; "
        "its custom metric operations are dropped",
        (unsigned long long)record->offset, (unsigned long long)record->length,
        (unsigned long long)arena_size, TDN_METRICS_MAX_BATCH_BYTES);
    return;
  }
  uint8_t* batch = malloc(record->length > 0 ? record->length : 1);
  if (batch == NULL) {
    tdn_metrics_warn(
        instance->metrics, "out of memory for a METRICS record of %llu bytes; dropped",
        (unsigned long long)record->length);
    return;
  }
  memcpy(batch, tdn_supervisor_arena(supervisor) + record->offset, record->length);
  tdn_metrics_apply(instance->metrics, supervisor->pid, batch, record->length);
  free(batch);
}

/* A READINESS record, wherever it was read (readiness.h). */
static void on_readiness(
    void* context, uint64_t probe, bool ready, const char* reason, size_t length)
{
  tdn_instance* instance = context;
  tdn_readiness_record(&instance->readiness, probe, ready, reason, length);
}

/* Records of a decoupled model during finalize (decoupled.h). */
static bool on_record(void* context, const tdn_record* record)
{
  tdn_instance* instance = context;
  return tdn_decoupled_on_record(&instance->decoupled, record);
}

/* Restarts the stub if it is gone. The metrics of a stub that is gone go
 * with it: its successor numbers its own from 1. */
static TRITONSERVER_Error* ensure_stub(tdn_instance* instance)
{
  const pid_t before = instance->supervisor.pid;
  TRITONSERVER_Error* error = tdn_supervisor_ensure_running(&instance->supervisor);
  if (before <= 0 || instance->supervisor.pid != before) {
    tdn_metrics_stub_reset(instance->metrics);
    tdn_readiness_forget(&instance->readiness);
  }
  return error;
}

/* How often a busy instance's stub memory is looked at, and what the stub
 * may use beyond its model's heap and memory budget (Deno itself and the
 * Worker's runtime: about 80 MiB at rest). */
#define MEMORY_CHECK_INTERVAL_NS (50 * TDN_NS_PER_MS)
#define STUB_RUNTIME_RESERVE_MB 256ull

/* Enforces the memory budget: a stub whose resident memory exceeds
 * deno.max_heap_mb + deno.max_memory_mb + the runtime's reserve is killed,
 * to be restarted (RLIMIT_DATA alone bounds address space, not memory).
 * Looked at no more than every MEMORY_CHECK_INTERVAL_NS unless `now`. */
static void check_memory(tdn_instance* instance, bool now)
{
  tdn_supervisor* supervisor = &instance->supervisor;
  if (supervisor->pid <= 0) {
    return;
  }
  const uint64_t at = tdn_now_ns();
  if (!now && at - instance->memory_checked_ns < MEMORY_CHECK_INTERVAL_NS) {
    return;
  }
  instance->memory_checked_ns = at;
  const tdn_sandbox* sandbox = &instance->model->sandbox;
  const uint64_t budget_mb = sandbox->heap_mb + sandbox->memory_mb + STUB_RUNTIME_RESERVE_MB;
  const uint64_t resident = tdn_stub_resident_bytes(supervisor->pid);
  if (resident <= budget_mb * 1024 * 1024) {
    return;
  }
  TDN_LOG_WARN(
      "stub for instance '%s' (pid %d) uses %llu MiB, over its memory budget of %llu MiB "
      "(deno.max_heap_mb %llu + deno.max_memory_mb %llu + %llu for the runtime); it was killed "
      "and is restarting",
      instance->name, (int)supervisor->pid, (unsigned long long)(resident >> 20),
      (unsigned long long)budget_mb, (unsigned long long)sandbox->heap_mb,
      (unsigned long long)sandbox->memory_mb, STUB_RUNTIME_RESERVE_MB);
  tdn_supervisor_kill(supervisor, NULL);
}

static TRITONSERVER_Error* instance_create(
    TRITONBACKEND_ModelInstance* handle, tdn_instance** created)
{
  tdn_instance* instance = calloc(1, sizeof(*instance));
  if (instance == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  /* Stopping a supervisor that never started is a no-op, so instance_free
   * is safe from here on. */
  const tdn_supervisor_config empty = {0};
  tdn_supervisor_init(&instance->supervisor, &empty);
  tdn_decoupled_init(&instance->decoupled, instance);
  pthread_mutex_init(&instance->life, NULL);
  tdn_readiness_init(&instance->readiness);

  TRITONSERVER_Error* error = read_identity(handle, instance);
  if (error == NULL &&
      (instance->metrics = tdn_metrics_stub_new(instance->model->metrics, instance->name)) ==
          NULL) {
    error = tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  if (error == NULL) {
    error = tdn_stub_command_build(instance->model, instance->name, &instance->command);
  }
  if (error == NULL) {
    error = tdn_init_args_build(
        instance->model, instance->name, instance->kind, instance->device_id, false,
        &instance->init_json, &instance->init_json_length);
  }
  if (error == NULL) {
    const tdn_bls_access access = {
        .model_name = instance->model->name,
        .models = instance->model->sandbox.models,
        .model_control = instance->model->sandbox.model_control,
    };
    error = tdn_bls_create(
        handle, &instance->supervisor, instance->name, &access, &instance->bls);
  }
  if (error == NULL) {
    const tdn_options* options = &instance->model->backend->options;
    const tdn_supervisor_config config = {
        .model_name = instance->model->name,
        .model_directory = instance->model->repository,
        .instance_name = instance->name,
        .init_json = instance->init_json,
        .init_json_length = instance->init_json_length,
        .command = &instance->command,
        .region_prefix = options->shm_region_prefix_name,
        .window_size = options->shm_max_byte_size,
        .initial_arena = options->shm_default_byte_size,
        .growth = options->shm_growth_byte_size,
        .start_timeout_ms = options->stub_timeout_seconds * 1000,
        .execute_timeout_ms = instance->model->sandbox.execute_timeout_ms,
        .on_metrics = on_metrics,
        .on_readiness = on_readiness,
        .on_record = instance->model->sandbox.decoupled ? on_record : NULL,
        .handler_context = instance,
        .on_side_record = tdn_bls_on_record,
        .on_teardown = tdn_bls_on_teardown,
        .side_context = instance->bls,
    };
    tdn_supervisor_init(&instance->supervisor, &config);
    /* The first instance takes over the stub that auto-completed the
     * configuration (auto_complete.h): it only needs to learn who it is. */
    unsigned adopted_layers = 0;
    if (tdn_auto_complete_adopt(
            (tdn_model*)instance->model, &instance->supervisor, &adopted_layers)) {
      instance->supervisor.config = config;
      if (instance->command.layers != NULL) {
        instance->command.layers->applied = adopted_layers;
      }
      char* json = NULL;
      size_t length = 0;
      error = tdn_instance_args_build(
          instance->model, instance->name, instance->kind, instance->device_id, &json, &length);
      if (error == NULL) {
        error = tdn_supervisor_send_instance(&instance->supervisor, json, length);
      }
      free(json);
      if (error == NULL) {
        TDN_LOG_INFO(
            "stub for instance '%s' is ready (pid %d, the one that auto-completed the "
            "configuration)",
            instance->name, (int)instance->supervisor.pid);
      }
    } else {
      error = tdn_supervisor_start(&instance->supervisor);
    }
  }
  if (error == NULL) {
    report_layers(instance);
  }
  if (error != NULL) {
    instance_free(instance);
    return error;
  }
  *created = instance;
  return NULL;
}

/* "model 'm', instance 'i'" for load errors, from Triton's handles alone
 * (the tdn_instance may not exist). */
static void describe_instance(TRITONBACKEND_ModelInstance* handle, char* text, size_t capacity)
{
  const char* instance_name = NULL;
  const char* model_name = NULL;
  TRITONBACKEND_Model* model = NULL;
  TRITONSERVER_Error* error = TRITONBACKEND_ModelInstanceName(handle, &instance_name);
  if (error == NULL) {
    error = TRITONBACKEND_ModelInstanceModel(handle, &model);
  }
  if (error == NULL) {
    error = TRITONBACKEND_ModelName(model, &model_name);
  }
  if (error != NULL) {
    TRITONSERVER_ErrorDelete(error);
  }
  snprintf(
      text, capacity, "model '%s', instance '%s'", model_name != NULL ? model_name : "?",
      instance_name != NULL ? instance_name : "?");
}

/* Triton calls this for each instance of a model (instance_group count),
 * after TRITONBACKEND_ModelInitialize, possibly on several threads at once
 * for different instances. It starts the instance's stub and waits until
 * the model's initialize() has run (READY) or failed (ERROR, whose text
 * becomes the load error). The tdn_instance is owned by the instance handle
 * until TRITONBACKEND_ModelInstanceFinalize. */
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceInitialize(TRITONBACKEND_ModelInstance* handle)
{
  tdn_instance* instance = NULL;
  TRITONSERVER_Error* error = instance_create(handle, &instance);
  if (error != NULL) {
    char context[512];
    describe_instance(handle, context, sizeof(context));
    /* Clients see the load error: no server path in it; the log has them. */
    TRITONBACKEND_Model* model = NULL;
    TRITONSERVER_Error* model_error = TRITONBACKEND_ModelInstanceModel(handle, &model);
    if (model_error != NULL) {
      TRITONSERVER_ErrorDelete(model_error);
      model = NULL;
    }
    return tdn_error_for_client(
        tdn_error_context(error, "%s", context),
        model != NULL ? tdn_model_directory_of(model) : NULL,
        "the instance failed to load (the full error)");
  }
  error = TRITONBACKEND_ModelInstanceSetState(handle, instance);
  if (error != NULL) {
    error = tdn_error_context(error, "instance '%s': cannot store its state", instance->name);
    instance_free(instance);
    return error;
  }
  TDN_LOG_INFO(
      "TRITONBACKEND_ModelInstanceInitialize: %s (%s device %d)", instance->name,
      tdn_instance_kind_name(instance->kind), (int)instance->device_id);
  return NULL;
}

/* Triton calls this when it unloads the instance; no Execute is running or
 * will run. The stub is asked to finalize, given 5 s, then killed; the
 * region and the tdn_instance are freed. */
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceFinalize(TRITONBACKEND_ModelInstance* handle)
{
  void* state = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelInstanceState(handle, &state), "cannot read the instance state");
  tdn_instance* instance = state;
  if (instance != NULL) {
    TDN_LOG_INFO("TRITONBACKEND_ModelInstanceFinalize: %s", instance->name);
  }
  instance_free(instance);
  return NULL;
}

/* Timestamps Triton's statistics want, per batch. */
typedef struct batch_times {
  uint64_t exec_start;
  uint64_t compute_start;
  uint64_t compute_end;
  uint64_t exec_end;
} batch_times;

/* Answers every request that was sent to the stub with the same error. */
static void fail_sent(tdn_collected_batch* batch, bool* succeeded, TRITONSERVER_Error* error)
{
  for (uint32_t i = 0; i < batch->sendable_count; ++i) {
    const uint32_t r = batch->sendable_index[i];
    TRITONSERVER_Error* copy =
        tdn_error(TRITONSERVER_ErrorCode(error), "%s", TRITONSERVER_ErrorMessage(error));
    tdn_respond_error(batch->requests[r].request, copy);
    succeeded[r] = false;
  }
  TRITONSERVER_ErrorDelete(error);
}

/* Tensor bytes of every well-formed response (the model's output volume). */
static uint64_t total_output_bytes(const tdn_result_view* result)
{
  uint64_t total = 0;
  for (uint32_t r = 0; r < result->response_count; ++r) {
    const tdn_response_view* response = &result->responses[r];
    if (response->problem != NULL) {
      continue;
    }
    for (uint32_t o = 0; o < response->output_count; ++o) {
      /* Each size lies inside the arena, so the sum cannot overflow 64 bits
       * for any realistic count; saturate anyway. */
      if (__builtin_add_overflow(total, response->outputs[o].data_size, &total)) {
        return UINT64_MAX;
      }
    }
  }
  return total;
}

/* What became of each request of a batch, by batch index. */
typedef struct batch_outcome {
  bool* succeeded;   /* [count] */
  bool* rescheduled; /* [count]: released with RESCHEDULE, no response sent */
} batch_outcome;

static void run_reply(
    tdn_instance* instance, tdn_collected_batch* batch, batch_outcome* outcome,
    tdn_reply* replied);

/* Sends the sendable requests to the stub and answers them. */
static void run_batch(
    tdn_instance* instance, tdn_collected_batch* batch, batch_outcome* outcome,
    batch_times* times)
{
  tdn_supervisor* supervisor = &instance->supervisor;
  bool* succeeded = outcome->succeeded;
  TRITONSERVER_Error* error = ensure_stub(instance);
  if (error != NULL) {
    fail_sent(batch, succeeded, error);
    return;
  }
  uint64_t needed = 0;
  tdn_diag why;
  if (!tdn_batch_measure(batch->sendable, batch->sendable_count, &needed, &why)) {
    fail_sent(
        batch, succeeded,
        tdn_error(TRITONSERVER_ERROR_INVALID_ARG, "instance '%s': %s", instance->name, why.text));
    return;
  }
  tdn_arena_grant block;
  error = tdn_supervisor_take(supervisor, needed, &block);
  if (error != NULL) {
    fail_sent(batch, succeeded, error);
    return;
  }
  uint64_t payload_end = 0;
  if (!tdn_batch_encode(
          tdn_supervisor_arena(supervisor), block.offset, needed, batch->sendable,
          batch->sendable_count, &payload_end, &why)) {
    tdn_supervisor_give_back(supervisor, block.handle);
    fail_sent(
        batch, succeeded,
        tdn_error(TRITONSERVER_ERROR_INTERNAL, "instance '%s': %s", instance->name, why.text));
    return;
  }

  tdn_reply reply;
  tdn_cancel_watch watch = {
      .requests = batch->sendable_requests,
      .sent = batch->cancel_sent,
      .count = batch->sendable_count,
  };
  times->compute_start = tdn_now_ns();
  error = tdn_supervisor_execute(
      supervisor, block.offset, payload_end - block.offset, &watch, &reply);
  times->compute_end = tdn_now_ns();
  /* Sync batches: one at a time, so the block is free once answered (its
   * inputs may be referenced by the result, which is read below first). */
  if (error != NULL) {
    tdn_supervisor_give_back(supervisor, block.handle);
    fail_sent(batch, succeeded, error);
    return;
  }
  run_reply(instance, batch, outcome, &reply);
  tdn_supervisor_give_back(supervisor, block.handle);
  tdn_supervisor_batch_done(supervisor);
}

/* Answers the batch's requests from the stub's reply. */
static void run_reply(
    tdn_instance* instance, tdn_collected_batch* batch, batch_outcome* outcome,
    tdn_reply* replied)
{
  tdn_supervisor* supervisor = &instance->supervisor;
  bool* succeeded = outcome->succeeded;
  tdn_reply reply = *replied;
  tdn_diag why;
  if (reply.kind == TDN_MSG_ERROR) {
    /* The model failed the whole batch (an exception in execute). */
    fail_sent(batch, succeeded, tdn_error(reply.code, "%s", reply.message));
    tdn_reply_free(&reply);
    return;
  }
  tdn_result_view result;
  if (!tdn_result_decode(
          tdn_supervisor_arena(supervisor), tdn_supervisor_arena_size(supervisor), reply.offset,
          reply.length, batch->sendable_count, &result, &why)) {
    /* A stub only writes an unusable RESULT when its model tampered with
     * the runtime or the shared memory: worth a line in the log. */
    TDN_LOG_WARN("stub for instance '%s' sent an unusable RESULT: %s", instance->name, why.text);
    fail_sent(
        batch, succeeded,
        tdn_error(
            TRITONSERVER_ERROR_INTERNAL, "stub for instance '%s' %s", instance->name, why.text));
    return;
  }
  const uint64_t output_bytes = total_output_bytes(&result);
  const uint64_t output_limit = instance->model->sandbox.max_output_bytes;
  if (output_bytes > output_limit) {
    tdn_result_view_free(&result);
    TDN_LOG_WARN(
        "model '%s', instance '%s': outputs of %llu bytes refused (deno.max_output_bytes is %llu)",
        instance->model->name, instance->name, (unsigned long long)output_bytes,
        (unsigned long long)output_limit);
    fail_sent(
        batch, succeeded,
        tdn_error(
            TRITONSERVER_ERROR_INTERNAL,
            "instance '%s': the model's outputs for this batch are %llu bytes, above its limit of "
            "%llu bytes (deno.max_output_bytes)",
            instance->name, (unsigned long long)output_bytes, (unsigned long long)output_limit));
    return;
  }
  for (uint32_t i = 0; i < batch->sendable_count; ++i) {
    const uint32_t r = batch->sendable_index[i];
    if (result.responses[i].problem == NULL && result.responses[i].reschedule) {
      /* No response this time: released with RESCHEDULE below. */
      outcome->rescheduled[r] = true;
      succeeded[r] = true;
      continue;
    }
    succeeded[r] = tdn_respond_result(
        batch->requests[r].request, &batch->sendable[i], &result.responses[i],
        tdn_supervisor_arena(supervisor), instance->name);
  }
  tdn_result_view_free(&result);
}

/* Statistics first: a request must not be touched once released. */
static void report_and_release(
    TRITONBACKEND_ModelInstance* handle, const tdn_instance* instance,
    tdn_collected_batch* batch, const batch_outcome* outcome, const batch_times* times)
{
  for (uint32_t r = 0; r < batch->count; ++r) {
    TRITONBACKEND_Request* request = batch->requests[r].request;
    TDN_LOG_IF_ERROR(
        TRITONBACKEND_ModelInstanceReportStatistics(
            handle, request, outcome->succeeded[r], times->exec_start, times->compute_start,
            times->compute_end, times->exec_end),
        "cannot report request statistics");
    tdn_release_request(
        request,
        outcome->rescheduled[r] ? TRITONSERVER_REQUEST_RELEASE_RESCHEDULE
                                : TRITONSERVER_REQUEST_RELEASE_ALL,
        instance->name);
  }
  if (batch->sendable_count > 0) {
    TDN_LOG_IF_ERROR(
        TRITONBACKEND_ModelInstanceReportBatchStatistics(
            handle, batch->batch_size, times->exec_start, times->compute_start,
            times->compute_end, times->exec_end),
        "cannot report batch statistics");
  }
}

/* Triton calls this with a batch of requests for this instance, one call
 * at a time per instance. We answer every request with exactly one final
 * response and release it, then return NULL: from then on the requests
 * are ours, not Triton's, whatever happened to them. */
static TRITONSERVER_Error* execute(
    tdn_instance* instance, TRITONBACKEND_ModelInstance* handle, TRITONBACKEND_Request** requests,
    const uint32_t request_count)
{
  batch_times times = {.exec_start = tdn_now_ns()};

  /* Out of memory here leaves the requests with Triton (we return the
   * error before owning them), which then fails them for us. */
  tdn_collected_batch batch;
  TDN_RETURN_IF_ERROR_CTX(
      tdn_batch_collect(
          requests, request_count, instance->model->sandbox.max_batch_size, &batch),
      "instance '%s'", instance->name);
  bool* succeeded = calloc(request_count > 0 ? 2 * (size_t)request_count : 1, sizeof(bool));
  if (succeeded == NULL) {
    tdn_collected_batch_free(&batch);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "instance '%s': out of memory", instance->name);
  }

  for (uint32_t r = 0; r < batch.count; ++r) {
    if (batch.requests[r].error != NULL) {
      tdn_respond_error(batch.requests[r].request, batch.requests[r].error);
      batch.requests[r].error = NULL;
    }
  }
  times.compute_start = times.compute_end = tdn_now_ns();
  if (instance->model->sandbox.decoupled) {
    /* Requests that could not be sent (already answered with their error
     * above) are done now; the others belong to the decoupled path until
     * their FINAL (decoupled.h). sendable_index is ascending, so walking it
     * beside the batch finds them without allocating: no out-of-memory path
     * may leave a request unreleased. */
    times.exec_end = tdn_now_ns();
    uint32_t next_sendable = 0;
    for (uint32_t r = 0; r < batch.count; ++r) {
      if (next_sendable < batch.sendable_count && batch.sendable_index[next_sendable] == r) {
        next_sendable++;
        continue;
      }
      TDN_LOG_IF_ERROR(
          TRITONBACKEND_ModelInstanceReportStatistics(
              handle, batch.requests[r].request, false, times.exec_start, times.compute_start,
              times.compute_end, times.exec_end),
          "cannot report request statistics");
      TDN_LOG_IF_ERROR(
          TRITONBACKEND_RequestRelease(batch.requests[r].request, TRITONSERVER_REQUEST_RELEASE_ALL),
          "cannot release a request");
    }
    free(succeeded);
    if (batch.sendable_count > 0) {
      tdn_decoupled_execute(&instance->decoupled, handle, &batch, times.exec_start);
    } else {
      tdn_collected_batch_free(&batch);
    }
    return NULL;
  }
  batch_outcome outcome = {.succeeded = succeeded, .rescheduled = succeeded + request_count};
  if (batch.sendable_count > 0) {
    run_batch(instance, &batch, &outcome, &times);
  }
  times.exec_end = tdn_now_ns();
  report_and_release(handle, instance, &batch, &outcome, &times);
  bool any_failed = false;
  for (uint32_t i = 0; i < batch.sendable_count; ++i) {
    any_failed = any_failed || !succeeded[batch.sendable_index[i]];
  }
  tdn_collected_batch_free(&batch);
  free(succeeded);

  /* A failed batch may be a model that ran out of memory: look at once. */
  check_memory(instance, any_failed);
  /* A stub that failed during the batch (or was over its memory budget) is
   * replaced now, with the batch already answered, so the next batch finds
   * it ready. */
  if (instance->supervisor.pid <= 0) {
    TRITONSERVER_Error* error = ensure_stub(instance);
    if (error != NULL) {
      TRITONSERVER_ErrorDelete(error); /* logged by the supervisor */
    }
  }
  return NULL;
}

TRITONSERVER_Error* TRITONBACKEND_ModelInstanceExecute(
    TRITONBACKEND_ModelInstance* handle, TRITONBACKEND_Request** requests,
    const uint32_t request_count)
{
  void* state = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelInstanceState(handle, &state), "cannot read the instance state");
  tdn_instance* instance = state;
  TDN_TRACE(TDN_TRACE_P_EXECUTE_ENTER, instance->name, 0, request_count);
  pthread_mutex_lock(&instance->life);
  TRITONSERVER_Error* error = execute(instance, handle, requests, request_count);
  pthread_mutex_unlock(&instance->life);
  TDN_TRACE(TDN_TRACE_P_EXECUTE_LEAVE, instance->name, 0, request_count);
  return error;
}

/* How often a readiness wait looks whether the answer came (it is taken
 * wherever the parent reads the ring). */
#define READY_POLL_NS (2 * TDN_NS_PER_MS)

/* The last answer, as the readiness check's outcome. */
static bool last_answer(const tdn_readiness* readiness, tdn_diag* why)
{
  if (!readiness->ready) {
    /* The Worker's reasons start with "isReady() ...". */
    tdn_diag_set(
        why, "its model's %s",
        readiness->reason[0] != '\0' ? readiness->reason : "isReady() returned false");
  }
  return readiness->ready;
}

/* Waits for the answer to `probe` until `deadline`, reading the ring itself
 * (`may_read`: the instance is idle and nobody else reads) or letting the
 * decoupled response thread read it. False with `why` when the stub failed
 * meanwhile (it is then killed, to be restarted). */
static bool await_answer(
    tdn_instance* instance, uint64_t probe, uint64_t deadline, bool may_read, tdn_diag* why)
{
  tdn_readiness* readiness = &instance->readiness;
  for (;;) {
    pthread_mutex_lock(&readiness->lock);
    const bool answered = readiness->last_answer >= probe;
    pthread_mutex_unlock(&readiness->lock);
    const uint64_t now = tdn_now_ns();
    if (answered || now >= deadline) {
      return true;
    }
    const uint64_t until = deadline - now < READY_POLL_NS ? deadline : now + READY_POLL_NS;
    if (!may_read) {
      struct timespec at;
      clock_gettime(CLOCK_REALTIME, &at);
      const uint64_t wake = (uint64_t)at.tv_nsec + (until - now);
      at.tv_sec += (time_t)(wake / TDN_NS_PER_SECOND);
      at.tv_nsec = (long)(wake % TDN_NS_PER_SECOND);
      pthread_mutex_lock(&readiness->lock);
      if (readiness->last_answer < probe) {
        pthread_cond_timedwait(&readiness->answered, &readiness->lock, &at);
      }
      pthread_mutex_unlock(&readiness->lock);
      continue;
    }
    tdn_record record;
    tdn_diag failure;
    switch (tdn_supervisor_await(&instance->supervisor, until, &record, &failure)) {
      case WAIT_DEADLINE:
        continue;
      case WAIT_RECORD:
        tdn_diag_set(
            &failure, "sent record kind %u while idle, asked whether it is ready", record.kind);
        /* fall through */
      case WAIT_DIED:
      case WAIT_BROKEN:
        TDN_LOG_WARN(
            "stub for instance '%s' %s; it was killed and is restarting", instance->name,
            failure.text);
        tdn_supervisor_kill(&instance->supervisor, NULL);
        tdn_diag_set(why, "its stub %s", failure.text);
        return false;
    }
  }
}

/* The model's own isReady() (readiness.h): asked at most once per
 * TDN_READY_INTERVAL_NS, answered within TDN_READY_TIMEOUT_NS. Without the
 * hook the model is ready. `idle`: the caller holds `life`, so it may ask
 * (and, with `may_read`, read the answer itself); otherwise a batch runs
 * and the last answer stands. */
static bool model_ready(tdn_instance* instance, bool idle, bool may_read, tdn_diag* why)
{
  tdn_supervisor* supervisor = &instance->supervisor;
  tdn_readiness* readiness = &instance->readiness;
  if (!supervisor->model_has_is_ready) {
    return true;
  }
  const uint64_t now = tdn_now_ns();
  pthread_mutex_lock(&readiness->lock);
  const bool fresh = readiness->answer_ns != 0 && readiness->last_answer == readiness->last_probe &&
                     now - readiness->answer_ns < TDN_READY_INTERVAL_NS;
  if (fresh || !idle) {
    const bool ready = last_answer(readiness, why);
    pthread_mutex_unlock(&readiness->lock);
    return ready;
  }
  /* A probe still within its time is waited for, not repeated. */
  const bool pending = readiness->last_probe > readiness->last_answer &&
                       now - readiness->probe_sent_ns < TDN_READY_TIMEOUT_NS;
  if (!pending) {
    readiness->last_probe++;
    readiness->probe_sent_ns = now;
  }
  const uint64_t probe = readiness->last_probe;
  const uint64_t deadline = readiness->probe_sent_ns + TDN_READY_TIMEOUT_NS;
  pthread_mutex_unlock(&readiness->lock);
  tdn_diag failure;
  if (!pending && !tdn_supervisor_send(supervisor, TDN_MSG_IS_READY, 0, probe, 0, 0, &failure)) {
    tdn_diag_set(why, "its stub cannot be asked whether it is ready: %s", failure.text);
    return false;
  }
  if (!await_answer(instance, probe, deadline, may_read, why)) {
    return false;
  }
  pthread_mutex_lock(&readiness->lock);
  bool ready;
  if (readiness->last_answer < probe) {
    ready = tdn_diag_set(
        why, "its model's isReady() did not answer within %llu ms",
        (unsigned long long)(TDN_READY_TIMEOUT_NS / TDN_NS_PER_MS));
  } else {
    ready = last_answer(readiness, why);
  }
  pthread_mutex_unlock(&readiness->lock);
  return ready;
}

/*
 * TRITONBACKEND_ModelInstanceReady: Triton asks it for model readiness
 * (ServerModelIsReady, and ServerIsReady with strict readiness), from its
 * own threads. Ready means a live stub, and a model whose optional
 * isReady() says so (model_ready). A stub found dead is restarted here
 * (within the restart backoff), so that an idle model recovers without
 * waiting for a request to notice; while Execute runs it owns the stub, and
 * the answer is the stub's state, and the model's last answer, as they were.
 */
TRITONSERVER_Error* TRITONBACKEND_ModelInstanceReady(TRITONBACKEND_ModelInstance* handle)
{
  void* state = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelInstanceState(handle, &state), "cannot read the instance state");
  tdn_instance* instance = state;
  tdn_diag why;
  bool model_is_ready = true;
  if (pthread_mutex_trylock(&instance->life) == 0) {
    /* A decoupled model's response thread watches its stub while it runs
     * and gives it up when it dies; only then is the stub ours to restart. */
    const bool ours = !instance->model->sandbox.decoupled || !tdn_decoupled_pump_running(
                                                                  &instance->decoupled);
    if (ours) {
      check_memory(instance, false);
    }
    if (ours && !tdn_supervisor_alive(&instance->supervisor, NULL)) {
      TRITONSERVER_Error* error = ensure_stub(instance);
      if (error != NULL) {
        TRITONSERVER_ErrorDelete(error); /* logged by the supervisor */
      }
    }
    if (tdn_supervisor_alive(&instance->supervisor, NULL)) {
      model_is_ready = model_ready(instance, true, ours, &why);
    }
    pthread_mutex_unlock(&instance->life);
  } else {
    model_is_ready = model_ready(instance, false, false, &why);
  }
  if (!tdn_supervisor_alive(&instance->supervisor, &why)) {
    return tdn_error(
        TRITONSERVER_ERROR_UNAVAILABLE, "instance '%s' is not ready: its stub %s", instance->name,
        why.text);
  }
  if (!model_is_ready) {
    return tdn_error(
        TRITONSERVER_ERROR_UNAVAILABLE, "instance '%s' is not ready: %s", instance->name,
        why.text);
  }
  return NULL;
}
