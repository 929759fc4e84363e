/*
 * instance.c: the per-instance entry points, including Execute, where
 * requests arrive. The path of a batch, top to bottom:
 *
 *   TRITONBACKEND_ModelInstanceExecute
 *     tdn_batch_collect        (batch_codec.c)  Triton requests -> descriptions
 *     tdn_supervisor_run_batch (supervisor.c)   descriptions -> EXECUTE -> RESULT, decoded
 *     tdn_respond_result       (batch_codec.c)  outputs -> Triton responses
 *   then statistics and RequestRelease, and tdn_supervisor_end_batch
 *   (memory budget, a restart if the stub failed).
 *
 * The records that arrive while the parent waits for its stub (METRICS,
 * READINESS, LOG, BLS) go from the supervisor straight to their modules;
 * nothing calls back into this file for a batch's sake.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auto_complete.h"
#include "batch_codec.h"
#include "clock.h"
#include "decoupled.h"
#include "errors.h"
#include "init_args.h"
#include "instance.h"
#include "log.h"
#include "stub_command.h"
#include "trace.h"

static void instance_free(tdn_instance* instance)
{
  if (instance == NULL) {
    return;
  }
  if (instance->model != NULL) {
    tdn_siblings_leave(instance->model->siblings, &instance->supervisor);
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
        .heap_mb = instance->model->sandbox.heap_mb,
        .memory_mb = instance->model->sandbox.memory_mb,
        .metrics = instance->metrics,
        .readiness = &instance->readiness,
        .on_record = tdn_sandbox_overlaps(&instance->model->sandbox) ? tdn_decoupled_on_record
                                                                      : NULL,
        .record_context = &instance->decoupled,
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
    /* A model whose batches overlap answers from its response thread and
     * seldom sleeps between batches: only the others wake a sibling. */
    if (!tdn_sandbox_overlaps(&instance->model->sandbox)) {
      tdn_siblings_join(instance->model->siblings, &instance->supervisor);
    }
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

/* What became of each request of a batch, by batch index. */
typedef struct batch_outcome {
  bool* succeeded;   /* [count] */
  bool* rescheduled; /* [count]: released with RESCHEDULE, no response sent */
} batch_outcome;

/* Answers the batch's requests from the supervisor's answer. */
static void answer_batch(
    tdn_instance* instance, tdn_collected_batch* batch, batch_outcome* outcome,
    tdn_batch_answer* answer)
{
  bool* succeeded = outcome->succeeded;
  if (answer->error != NULL) {
    fail_sent(batch, succeeded, answer->error);
    answer->error = NULL; /* fail_sent took it */
    return;
  }
  const tdn_result_view* result = &answer->result;
  TRITONSERVER_Error* too_large = tdn_result_check_volume(
      result, instance->model->sandbox.max_output_bytes, instance->model->name, instance->name);
  if (too_large != NULL) {
    fail_sent(batch, succeeded, too_large);
    return;
  }
  for (uint32_t i = 0; i < batch->sendable_count; ++i) {
    const uint32_t r = batch->sendable_index[i];
    if (result->responses[i].problem == NULL && result->responses[i].reschedule) {
      /* No response this time: released with RESCHEDULE below. */
      outcome->rescheduled[r] = true;
      succeeded[r] = true;
      continue;
    }
    succeeded[r] = tdn_respond_result(
        batch->requests[r].request, &batch->sendable[i], &result->responses[i], answer->arena,
        instance->name);
  }
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
  if (tdn_sandbox_overlaps(&instance->model->sandbox)) {
    /* Requests that could not be sent (already answered with their error
     * above) are done now; the others belong to the pump until their FINAL
     * (decoupled.h). sendable_index is ascending, so walking it
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
  tdn_batch_answer answer;
  memset(&answer, 0, sizeof(answer));
  tdn_siblings* siblings = instance->model->siblings;
  tdn_siblings_begin(siblings, &instance->supervisor, times.exec_start);
  if (batch.sendable_count > 0) {
    tdn_supervisor_run_batch(&instance->supervisor, &batch, &answer);
    tdn_siblings_answered(siblings, &instance->supervisor, tdn_now_ns());
    if (answer.compute_start_ns != 0) {
      times.compute_start = answer.compute_start_ns;
      times.compute_end = answer.compute_end_ns;
    }
    answer_batch(instance, &batch, &outcome, &answer);
  }
  times.exec_end = tdn_now_ns();
  report_and_release(handle, instance, &batch, &outcome, &times);
  bool any_failed = false;
  for (uint32_t i = 0; i < batch.sendable_count; ++i) {
    any_failed = any_failed || !succeeded[batch.sendable_index[i]];
  }
  tdn_collected_batch_free(&batch);
  free(succeeded);
  tdn_supervisor_end_batch(&instance->supervisor, &answer, any_failed);
  tdn_siblings_end(siblings, &instance->supervisor, tdn_now_ns());
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
    /* The response thread of a model whose batches overlap watches its
     * stub while it runs and gives it up when it dies; only then is the
     * stub ours to restart. */
    const bool ours = !tdn_sandbox_overlaps(&instance->model->sandbox) ||
                      !tdn_decoupled_pump_running(&instance->decoupled);
    if (ours) {
      tdn_supervisor_check_memory(&instance->supervisor, false);
    }
    if (ours && !tdn_supervisor_alive(&instance->supervisor, NULL)) {
      TRITONSERVER_Error* error = tdn_supervisor_ensure_running(&instance->supervisor);
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
