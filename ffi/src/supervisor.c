/*
 * supervisor.c: see supervisor.h. A batch, top to bottom
 * (tdn_supervisor_run_batch):
 *
 *   tdn_supervisor_ensure_running  a live stub, restarted if needed
 *   tdn_supervisor_encode_batch    descriptions -> EXECUTE payload in the
 *                                  parent's half (batch_codec.c's encoder)
 *   execute                        EXECUTE -> RESULT | ERROR
 *   tdn_result_decode              the RESULT payload, validated (batch_codec.c)
 *
 * All waiting happens in await_record(): it spins for a batch's answer as
 * long as the stub's recent answers suggest (tdn_channel_spin_budget), then
 * sleeps on the channel and the stub's pidfd, so that its death ends the
 * sleep, and between sleeps checks the process and the deadline. While a
 * batch's cancellations need forwarding (Triton has no event for them),
 * and where there is no pidfd, it sleeps in slices of at most 10 ms, so a
 * dead or stuck stub is noticed within a slice.
 *
 * On the other side of the rings sits the model's Worker in the stub
 * (runtime/worker/serve.ts): it takes EXECUTE, runs
 * runtime/worker/run_batch.ts (the model's execute) and answers; the stub's
 * main thread (runtime/stub/futex_service.ts) only makes futex calls for it.
 */
#include "supervisor.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "client_text.h"
#include "errors.h"
#include "log.h"
#include "metrics_batch.h"
#include "record_check.h"
#include "stub_stderr.h"
#include "trace.h"
#include "utf8.h"

/* What the stub answered to a batch (execute). */
typedef struct reply {
  uint16_t kind;            /* TDN_MSG_RESULT or TDN_MSG_ERROR */
  uint64_t offset, length;  /* RESULT: the tdn_result_header's place (unchecked) */
  TRITONSERVER_Error_Code code; /* ERROR */
  char* message;            /* ERROR: sanitized copy, the caller's */
} reply;

#define SLICE_NS (10 * TDN_NS_PER_MS)    /* longest sleep between liveness checks */
/* The longest sleep when the stub's exit ends a sleep by itself (pidfd):
 * only a safety net. */
#define WATCHED_SLICE_NS (1000 * TDN_NS_PER_MS)
/* How long a waiter woken by a call's last answer spins for what the
 * resumed model sends next: its RESULT, or its next call, usually follows
 * within tens of microseconds, and the early wake-up (20-40 us on a VM)
 * overlaps the model's resumption instead of following it. */
#define RESUMED_SPIN_NS (100 * 1000ull)
#define FINALIZE_GRACE_NS (5 * TDN_NS_PER_SECOND)
#define BACKOFF_FIRST_MS 100ull
#define BACKOFF_MAX_MS 5000ull
/* Batches whose payload (inputs included) is this large wake a sleeping stub
 * before their inputs are copied (tdn_channel_announce), so that the stub's
 * wake-up, 25-50 us on a VM, overlaps the copy. Below the minimum the copy
 * takes a few microseconds and the early byte gains less than it costs;
 * above the maximum the copy takes far longer than the wake-up (and longer
 * than the stub spins for an announced record: runtime/wire/ring.ts). */
#define ANNOUNCE_MIN_BYTES ((uint64_t)64 << 10)
#define ANNOUNCE_MAX_BYTES ((uint64_t)4 << 20)

typedef tdn_wait_outcome wait_outcome;

void tdn_supervisor_init(tdn_supervisor* supervisor, const tdn_supervisor_config* config)
{
  memset(supervisor, 0, sizeof(*supervisor));
  supervisor->config = *config;
  supervisor->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  supervisor->region = (tdn_region)TDN_REGION_INIT;
  supervisor->doorbells = (tdn_doorbells)TDN_DOORBELLS_CLOSED;
  supervisor->pid = 0;
  tdn_stub_log_init(&supervisor->log);
}

/* Kills and reaps the stub (if any) and drops the region, unless calls
 * the stub made still use it (on_teardown takes it over then). */
static void teardown(tdn_supervisor* supervisor, tdn_diag* how)
{
  if (supervisor->pid > 0) {
    tdn_stub_kill_and_reap(supervisor->pid, how);
  }
  /* Its last words (a panic, the main thread's reason) are in the pipe still. */
  tdn_stub_stderr_close(supervisor->standard_error);
  supervisor->standard_error = NULL;
  /* BLS answers read both from Triton's threads (send_answer). */
  pthread_mutex_lock(&supervisor->lock);
  supervisor->pid = 0;
  tdn_channel_set_doorbells(&supervisor->channel, -1, -1, -1);
  tdn_doorbells_close(&supervisor->doorbells);
  pthread_mutex_unlock(&supervisor->lock);
  if (supervisor->config.on_teardown != NULL && supervisor->region.base != NULL &&
      supervisor->config.on_teardown(supervisor->config.side_context, &supervisor->region)) {
    supervisor->region = (tdn_region)TDN_REGION_INIT;
    return;
  }
  tdn_region_destroy(&supervisor->region);
}

/* Marks a record that went on to_stub at `at` (trace.h). */
static void trace_sent(const tdn_supervisor* supervisor, uint64_t at, const tdn_record* record)
{
  tdn_trace_mark_at(
      at, TDN_TRACE_P_SENT, supervisor->config.instance_name, record->id,
      record->kind | (uint32_t)record->flags << 16);
}

static bool send_whole(tdn_supervisor* supervisor, const tdn_record* record, tdn_diag* why)
{
  pthread_mutex_lock(&supervisor->lock);
  /* Stamped before: the wake-up may hand the core to the stub at once. */
  const uint64_t at = tdn_trace_now();
  const bool sent = tdn_channel_send(&supervisor->channel, record, why);
  pthread_mutex_unlock(&supervisor->lock);
  if (sent) {
    trace_sent(supervisor, at, record);
  }
  return sent;
}

static bool send_record(
    tdn_supervisor* supervisor, uint16_t kind, uint32_t aux, uint64_t id, uint64_t offset,
    uint64_t length, tdn_diag* why)
{
  tdn_record record;
  memset(&record, 0, sizeof(record));
  record.kind = kind;
  record.aux = aux;
  record.id = id;
  record.offset = offset;
  record.length = length;
  return send_whole(supervisor, &record, why);
}

/* Tells the stub about requests of the batch in flight that Triton has
 * cancelled since we last looked (once each). The model sees it through
 * isCancelled() without asking us. */
static bool forward_cancellations(tdn_supervisor* supervisor, tdn_diag* why)
{
  tdn_cancel_watch* watch = supervisor->watch;
  for (uint32_t i = 0; i < watch->count; ++i) {
    if (watch->sent[i]) {
      continue;
    }
    bool cancelled = false;
    TRITONSERVER_Error* error = TRITONBACKEND_RequestIsCancelled(watch->requests[i], &cancelled);
    if (error != NULL) {
      TRITONSERVER_ErrorDelete(error);
      continue;
    }
    if (cancelled) {
      watch->sent[i] = true;
      if (!send_record(supervisor, TDN_MSG_CANCEL, i, watch->batch_id, 0, 0, why)) {
        return false;
      }
    }
  }
  return true;
}

/* A READINESS record: checked, its reason copied out of the arena (the
 * stub may rewrite it), recorded in config.readiness (readiness.h). */
static bool take_readiness(tdn_supervisor* supervisor, const tdn_record* record, tdn_diag* why)
{
  if (!tdn_check_readiness(record, why)) {
    return false;
  }
  const uint64_t arena_size = supervisor->region.arena_size;
  if (record->length > 0 &&
      (record->offset > arena_size || record->length > arena_size - record->offset)) {
    return tdn_diag_set(
        why, "sent READINESS whose reason [%llu, +%llu) is not within the %llu-byte arena",
        (unsigned long long)record->offset, (unsigned long long)record->length,
        (unsigned long long)arena_size);
  }
  if (supervisor->config.readiness != NULL) {
    char reason[TDN_MAX_LOG_LENGTH];
    const size_t length = (size_t)record->length;
    if (length > 0) {
      memcpy(reason, tdn_supervisor_arena(supervisor) + record->offset, length);
    }
    tdn_readiness_record(
        supervisor->config.readiness, record->id, record->aux == 0, reason, length);
  }
  return true;
}

/* A METRICS record: its batch is copied out of the arena (the stub could
 * change it while it is read) and applied (metrics.h). */
static void take_metrics(tdn_supervisor* supervisor, const tdn_record* record)
{
  tdn_metrics_stub* metrics = supervisor->config.metrics;
  if (metrics == NULL) {
    return;
  }
  const uint64_t arena_size = supervisor->region.arena_size;
  if (record->length > TDN_METRICS_MAX_BATCH_BYTES || record->offset > arena_size ||
      record->length > arena_size - record->offset) {
    tdn_metrics_warn(
        metrics,
        "a METRICS record [%llu, +%llu) is not within the %llu-byte arena or is over %u bytes; "
        "its custom metric operations are dropped",
        (unsigned long long)record->offset, (unsigned long long)record->length,
        (unsigned long long)arena_size, TDN_METRICS_MAX_BATCH_BYTES);
    return;
  }
  uint8_t* batch = malloc(record->length > 0 ? record->length : 1);
  if (batch == NULL) {
    tdn_metrics_warn(
        metrics, "out of memory for a METRICS record of %llu bytes; dropped",
        (unsigned long long)record->length);
    return;
  }
  memcpy(batch, tdn_supervisor_arena(supervisor) + record->offset, record->length);
  tdn_metrics_apply(metrics, supervisor->pid, batch, record->length);
  free(batch);
}

/* Waits for the next record that is not LOG, spinning spin_ns first.
 * deadline_ns 0: none. Publishes `done` for every record taken so far
 * before it sleeps: the stub may then reuse their payloads' space.
 * `wakeable`: tdn_supervisor_wake_waiter ends it (WAIT_DEADLINE); only the
 * waits of tdn_supervisor_await are, whose callers take an early end as a
 * slice's. */
static wait_outcome await_record(
    tdn_supervisor* supervisor, uint64_t deadline_ns, uint64_t spin_ns, bool wakeable,
    tdn_record* record, tdn_diag* why)
{
  uint64_t spin_now = spin_ns;
  for (;;) {
    /* A batch's cancellations are Triton's to poll: only then, or without
     * a pidfd, does the sleep come in short slices. */
    uint64_t slice = supervisor->watch == NULL && supervisor->channel.stub_exit_fd >= 0
                         ? WATCHED_SLICE_NS
                         : SLICE_NS;
    if (deadline_ns != 0) {
      const uint64_t now = tdn_now_ns();
      if (now >= deadline_ns) {
        return WAIT_DEADLINE;
      }
      if (deadline_ns - now < slice) {
        slice = deadline_ns - now;
      }
    }
    const tdn_receive_status status =
        tdn_channel_receive(&supervisor->channel, record, spin_now, slice, why);
    spin_now = 0;
    if (status == TDN_BROKEN) {
      return WAIT_BROKEN;
    }
    if (status == TDN_RECEIVED) {
      if (record->kind == TDN_MSG_PROGRESS) {
        /* Only a starting stub's timeout cares; anywhere else it is news of no consequence. */
        supervisor->heard_ns = tdn_now_ns();
        supervisor->progress_phase = record->aux;
        continue;
      }
      if (record->kind == TDN_MSG_TRACE) {
        /* The Worker's own marks (trace.h); nothing else reads them. */
        tdn_trace_mark_at(
            record->id, record->aux, supervisor->config.instance_name, record->offset, 0);
        continue;
      }
      TDN_TRACE(TDN_TRACE_P_TAKEN, supervisor->config.instance_name, record->id, record->kind);
      if (record->kind == TDN_MSG_LOG) {
        supervisor->heard_ns = tdn_now_ns();
        tdn_stub_log_relay(
            &supervisor->log, tdn_supervisor_arena(supervisor), supervisor->region.arena_size,
            record, supervisor->config.model_name, supervisor->config.instance_name,
            tdn_now_ns());
        continue;
      }
      if (record->kind == TDN_MSG_METRICS) {
        supervisor->heard_ns = tdn_now_ns();
        take_metrics(supervisor, record);
        continue;
      }
      if (record->kind == TDN_MSG_READINESS) {
        if (!take_readiness(supervisor, record, why)) {
          return WAIT_BROKEN;
        }
        continue;
      }
      if ((record->kind == TDN_MSG_BLS_REQUEST || record->kind == TDN_MSG_BLS_CANCEL ||
           record->kind == TDN_MSG_CONTROL) &&
          supervisor->config.on_side_record != NULL) {
        if (!supervisor->config.on_side_record(supervisor->config.side_context, record, why)) {
          return WAIT_BROKEN;
        }
        continue;
      }
      return WAIT_RECORD;
    }
    tdn_channel_mark_done(&supervisor->channel);
    if (wakeable && __atomic_exchange_n(&supervisor->wake_asked, false, __ATOMIC_ACQ_REL)) {
      return WAIT_DEADLINE;
    }
    if (__atomic_exchange_n(&supervisor->spin_asked, false, __ATOMIC_ACQ_REL)) {
      spin_now = RESUMED_SPIN_NS; /* woken early for a model about to resume */
    }
    if (supervisor->watch != NULL && !forward_cancellations(supervisor, why)) {
      return WAIT_BROKEN;
    }
    /* Records first, death second: a stub may answer and then exit. */
    if (tdn_stub_has_exited(supervisor->pid, why)) {
      return WAIT_DIED;
    }
  }
}

/* Copies the text of an ERROR record out of the arena, checked and made
 * printable. */
static bool read_error_text(
    const tdn_supervisor* supervisor, const tdn_record* record, char** text, tdn_diag* why)
{
  const uint64_t arena_size = supervisor->region.arena_size;
  if (record->length > TDN_MAX_ERROR_LENGTH || record->offset > arena_size ||
      record->length > arena_size - record->offset) {
    return tdn_diag_set(
        why, "sent an ERROR whose text [%llu, +%llu) is not within the %llu-byte arena (at most %u "
        "bytes)",
        (unsigned long long)record->offset, (unsigned long long)record->length,
        (unsigned long long)arena_size, TDN_MAX_ERROR_LENGTH);
  }
  *text = malloc(record->length + 1);
  if (*text == NULL) {
    return tdn_diag_set(why, "sent an ERROR the parent could not copy: out of memory");
  }
  memcpy(*text, tdn_supervisor_arena(supervisor) + record->offset, record->length);
  (*text)[record->length] = '\0';
  tdn_utf8_sanitize(*text, record->length);
  return true;
}

/* A record kind as the wire format names it, for messages. */
static const char* kind_name(uint16_t kind)
{
  switch (kind) {
    case TDN_MSG_INIT:
      return "INIT";
    case TDN_MSG_EXECUTE:
      return "EXECUTE";
    case TDN_MSG_CANCEL:
      return "CANCEL";
    case TDN_MSG_INSTANCE:
      return "INSTANCE";
    case TDN_MSG_CONFIG:
      return "CONFIG";
    case TDN_MSG_PROGRESS:
      return "PROGRESS";
    case TDN_MSG_TRACE:
      return "TRACE";
    case TDN_MSG_FINALIZE:
      return "FINALIZE";
    case TDN_MSG_READY:
      return "READY";
    case TDN_MSG_ERROR:
      return "ERROR";
    case TDN_MSG_RESULT:
      return "RESULT";
    case TDN_MSG_RESPONSE:
      return "RESPONSE";
    case TDN_MSG_EXECUTE_DONE:
      return "EXECUTE_DONE";
    case TDN_MSG_METRICS:
      return "METRICS";
    case TDN_MSG_FINALIZED:
      return "FINALIZED";
    case TDN_MSG_LOG:
      return "LOG";
    case TDN_MSG_BLS_REQUEST:
      return "BLS_REQUEST";
    case TDN_MSG_BLS_CANCEL:
      return "BLS_CANCEL";
    case TDN_MSG_CONTROL:
      return "CONTROL";
    case TDN_MSG_IS_READY:
      return "IS_READY";
    case TDN_MSG_READINESS:
      return "READINESS";
    default:
      return "an unknown kind";
  }
}

static TRITONSERVER_Error_Code error_code_from(uint32_t aux)
{
  return aux <= TRITONSERVER_ERROR_CANCELLED ? (TRITONSERVER_Error_Code)aux
                                             : TRITONSERVER_ERROR_INTERNAL;
}

/* The first commitment of the parent's half: the configured default, or
 * more when the INIT arguments alone need it. */
static TRITONSERVER_Error* initial_commit(const tdn_supervisor_config* config, uint64_t* size)
{
  const uint64_t half = tdn_region_half_for(config->window_size);
  if (config->init_json_length > half) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "the INIT arguments (%zu bytes, mostly the model configuration) do not fit the parent's "
        "half of the shared memory window (%llu bytes); raise shm-max-byte-size",
        config->init_json_length, (unsigned long long)half);
  }
  uint64_t commit = config->initial_arena < half ? config->initial_arena : half;
  if (commit < config->init_json_length) {
    commit = config->init_json_length;
  }
  *size = commit;
  return NULL;
}

static TRITONSERVER_Error* await_handshake(
    tdn_supervisor* supervisor, uint64_t block_handle, uint16_t wanted, const char* asked);

/* Region, INIT, spawn, handshake. On failure everything is torn down. */
static TRITONSERVER_Error* start_stub(tdn_supervisor* supervisor)
{
  const tdn_supervisor_config* config = &supervisor->config;
  uint64_t commit = 0;
  TDN_RETURN_IF_ERROR(initial_commit(config, &commit));
  tdn_diag why;
  if (!tdn_region_create(
          &supervisor->region, config->region_prefix, config->window_size, commit, &why)) {
    return tdn_error(TRITONSERVER_ERROR_UNAVAILABLE, "%s", why.text);
  }
  tdn_arena_alloc_init(&supervisor->parent_half, supervisor->region.stub_base);
  /* INIT is the first block of the parent's half, at offset 0; it is free
   * again once the stub has answered. */
  tdn_arena_grant init_block;
  int stderr_fd = -1;
  if (!tdn_arena_alloc_take(&supervisor->parent_half, config->init_json_length, &init_block)) {
    teardown(supervisor, NULL);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "the INIT arguments do not fit the arena");
  }
  memcpy(
      tdn_supervisor_arena(supervisor) + init_block.offset, config->init_json,
      config->init_json_length);
  tdn_channel_init(&supervisor->channel, tdn_region_control(&supervisor->region));
  supervisor->progress_phase = 0;
  /* Queued before the stub exists: it finds INIT as soon as it looks. */
  if (!send_record(
          supervisor, TDN_MSG_INIT, 0, 0, init_block.offset, config->init_json_length, &why) ||
      !tdn_stub_spawn(
          config->command, supervisor->region.fd, &supervisor->doorbells, &stderr_fd,
          &supervisor->pid, &why)) {
    teardown(supervisor, NULL);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "cannot start the stub: %s", why.text);
  }
  supervisor->standard_error =
      tdn_stub_stderr_watch(stderr_fd, config->model_name, config->instance_name);
  pthread_mutex_lock(&supervisor->lock);
  tdn_channel_set_doorbells(
      &supervisor->channel, supervisor->doorbells.ring_stub, supervisor->doorbells.from_stub,
      supervisor->doorbells.stub_exit);
  pthread_mutex_unlock(&supervisor->lock);
  /* A stub started for auto-completion answers INIT with CONFIG and waits
   * for INSTANCE before it initializes the model. */
  return await_handshake(
      supervisor, init_block.handle, config->auto_complete ? TDN_MSG_CONFIG : TDN_MSG_READY,
      "INIT");
}

/* What a starting stub said it was doing last, for the timeout's message. */
static const char* phase_name(uint32_t phase)
{
  switch (phase) {
    case TDN_PROGRESS_STARTED:
      return "its main thread had started";
    case TDN_PROGRESS_CHECKING:
      return "it was type-checking the model";
    case TDN_PROGRESS_LOADING:
      return "it was importing the model";
    case TDN_PROGRESS_INITIALIZING:
      return "the model's initialize was running";
    default:
      return "it had not said anything yet";
  }
}

/* Waits for the stub's answer to INIT or INSTANCE (`asked`): `wanted`
 * (READY, or CONFIG whose payload is kept in supervisor->proposed_config)
 * or ERROR. Frees the question's block on success; tears everything down
 * on failure.
 *
 * The timeout measures silence, not the whole start: a stub reports
 * PROGRESS while it starts (every second while it type-checks), and every
 * PROGRESS, LOG or METRICS record starts the stub-timeout-seconds window
 * again. A slow start on a busy machine goes on; a stub that says nothing
 * for that long (hung, or a model whose import or initialize neither
 * returns nor logs) is killed. */
static TRITONSERVER_Error* await_handshake(
    tdn_supervisor* supervisor, uint64_t block_handle, uint16_t wanted, const char* asked)
{
  const tdn_supervisor_config* config = &supervisor->config;
  const pid_t pid = supervisor->pid;
  const uint64_t window_ns = config->start_timeout_ms * TDN_NS_PER_MS;
  supervisor->heard_ns = tdn_now_ns();
  /* What the stub was doing, in the model author's terms. */
  const char* doing = wanted == TDN_MSG_CONFIG
                          ? "loading and type-checking the model (and running autoCompleteConfig)"
                      : strcmp(asked, "INSTANCE") == 0
                          ? "initializing the model"
                          : "loading, type-checking and initializing the model";
  tdn_record record;
  tdn_diag why;
  TRITONSERVER_Error* error = NULL;
  wait_outcome outcome;
  for (;;) {
    const uint64_t deadline = supervisor->heard_ns + window_ns;
    outcome = await_record(supervisor, deadline, 0, false, &record, &why);
    /* Heard from meanwhile: the window starts again from then. */
    if (outcome != WAIT_DEADLINE || supervisor->heard_ns + window_ns <= tdn_now_ns()) {
      break;
    }
  }
  switch (outcome) {
    case WAIT_RECORD:
      if (record.kind == wanted && wanted == TDN_MSG_CONFIG) {
        const uint64_t arena_size = supervisor->region.arena_size;
        if (record.length > (1u << 20) || record.offset > arena_size ||
            record.length > arena_size - record.offset) {
          tdn_diag_set(
              &why, "sent a CONFIG of %llu bytes at %llu, outside the arena or over 1 MiB",
              (unsigned long long)record.length, (unsigned long long)record.offset);
        } else if ((supervisor->proposed_config = malloc(record.length + 1)) != NULL) {
          memcpy(
              supervisor->proposed_config, tdn_supervisor_arena(supervisor) + record.offset,
              record.length);
          supervisor->proposed_config[record.length] = '\0';
          supervisor->proposed_config_length = record.length;
          tdn_supervisor_give_back(supervisor, block_handle);
          tdn_channel_mark_done(&supervisor->channel);
          return NULL;
        } else {
          tdn_diag_set(&why, "sent a CONFIG the parent could not copy: out of memory");
        }
      } else if (record.kind == wanted && tdn_check_ready(&record, &why)) {
        supervisor->model_has_is_ready = (record.aux & TDN_READY_HAS_IS_READY) != 0;
        tdn_supervisor_give_back(supervisor, block_handle);
        tdn_channel_mark_done(&supervisor->channel);
        return NULL;
      } else if (record.kind == wanted) {
        /* READY with aux bits this parent does not know: `why` says which. */
      } else if (record.kind == TDN_MSG_ERROR) {
        char* text = NULL;
        if (read_error_text(supervisor, &record, &text, &why)) {
          error = tdn_error(error_code_from(record.aux), "%s", text);
          free(text);
          break;
        }
      } else {
        tdn_diag_set(
            &why, "sent %s (kind %u) instead of %s or ERROR", kind_name(record.kind), record.kind,
            kind_name(wanted));
      }
      error = tdn_error(
          TRITONSERVER_ERROR_INTERNAL, "the stub (pid %d) broke the protocol during start: %s",
          (int)pid, why.text);
      break;
    case WAIT_DIED:
      error = tdn_error(
          TRITONSERVER_ERROR_INTERNAL,
          "the stub (pid %d) %s while %s (its output is in Triton's log)", (int)pid, why.text,
          doing);
      break;
    case WAIT_DEADLINE:
      error = tdn_error(
          TRITONSERVER_ERROR_UNAVAILABLE,
          "%s: the stub (pid %d) said nothing for %llu s (stub-timeout-seconds) and was killed; "
          "last, %s",
          doing, (int)pid, (unsigned long long)(config->start_timeout_ms / 1000),
          phase_name(supervisor->progress_phase));
      break;
    case WAIT_BROKEN:
      error = tdn_error(
          TRITONSERVER_ERROR_INTERNAL, "the stub (pid %d) broke the protocol during start: %s",
          (int)pid, why.text);
      break;
  }
  teardown(supervisor, NULL);
  return error;
}

TRITONSERVER_Error* tdn_supervisor_send_instance(
    tdn_supervisor* supervisor, const char* instance_json, size_t length)
{
  if (supervisor->pid <= 0) {
    return tdn_error(TRITONSERVER_ERROR_UNAVAILABLE, "the auto-completion stub is not running");
  }
  tdn_arena_grant block;
  TRITONSERVER_Error* error = tdn_supervisor_take(supervisor, length, &block);
  if (error != NULL) {
    teardown(supervisor, NULL);
    return error;
  }
  memcpy(tdn_supervisor_arena(supervisor) + block.offset, instance_json, length);
  tdn_diag why;
  if (!send_record(supervisor, TDN_MSG_INSTANCE, 0, 0, block.offset, length, &why)) {
    teardown(supervisor, NULL);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "cannot send INSTANCE: %s", why.text);
  }
  return await_handshake(supervisor, block.handle, TDN_MSG_READY, "INSTANCE");
}

TRITONSERVER_Error* tdn_supervisor_start(tdn_supervisor* supervisor)
{
  TRITONSERVER_Error* error = start_stub(supervisor);
  if (error == NULL) {
    TDN_LOG_INFO(
        "stub for instance '%s' is ready (pid %d)", supervisor->config.instance_name,
        (int)supervisor->pid);
  }
  return error;
}

static uint64_t backoff_ms(uint32_t failed_starts)
{
  uint64_t delay = BACKOFF_FIRST_MS;
  for (uint32_t i = 1; i < failed_starts && delay < BACKOFF_MAX_MS; ++i) {
    delay *= 2;
  }
  return delay < BACKOFF_MAX_MS ? delay : BACKOFF_MAX_MS;
}

bool tdn_supervisor_alive(tdn_supervisor* supervisor, tdn_diag* why)
{
  pthread_mutex_lock(&supervisor->lock);
  const pid_t pid = supervisor->pid;
  pthread_mutex_unlock(&supervisor->lock);
  tdn_diag how;
  if (pid <= 0) {
    if (why != NULL) {
      tdn_diag_set(
          why, "is not running%s%s", supervisor->last_start_error != NULL ? ": " : "",
          supervisor->last_start_error != NULL ? supervisor->last_start_error : "");
    }
    return false;
  }
  if (tdn_stub_has_exited(pid, &how)) {
    if (why != NULL) {
      tdn_diag_set(why, "(pid %d) %s", (int)pid, how.text);
    }
    return false;
  }
  return true;
}

TRITONSERVER_Error* tdn_supervisor_ensure_running(tdn_supervisor* supervisor)
{
  const char* name = supervisor->config.instance_name;
  if (supervisor->pid > 0) {
    tdn_diag how;
    if (!tdn_stub_has_exited(supervisor->pid, &how)) {
      return NULL;
    }
    TDN_LOG_WARN("stub for instance '%s' %s while idle; restarting", name, how.text);
    teardown(supervisor, NULL);
  }
  if (supervisor->config.metrics != NULL) {
    tdn_metrics_stub_reset(supervisor->config.metrics);
  }
  if (supervisor->config.readiness != NULL) {
    tdn_readiness_forget(supervisor->config.readiness);
  }
  const uint64_t now = tdn_now_ns();
  if (supervisor->failed_starts > 0 && now < supervisor->retry_at_ns) {
    return tdn_error(
        TRITONSERVER_ERROR_UNAVAILABLE,
        "stub for instance '%s' is unavailable: %u restart(s) failed, the last with: %s; next "
        "attempt in %llu ms",
        name, supervisor->failed_starts,
        supervisor->last_start_error != NULL ? supervisor->last_start_error : "?",
        (unsigned long long)((supervisor->retry_at_ns - now + TDN_NS_PER_MS - 1) / TDN_NS_PER_MS));
  }
  TRITONSERVER_Error* error = start_stub(supervisor);
  if (error == NULL) {
    TDN_LOG_INFO("stub for instance '%s' restarted (pid %d)", name, (int)supervisor->pid);
    supervisor->failed_starts = 0;
    free(supervisor->last_start_error);
    supervisor->last_start_error = NULL;
    return NULL;
  }
  supervisor->failed_starts++;
  const uint64_t delay = backoff_ms(supervisor->failed_starts);
  supervisor->retry_at_ns = tdn_now_ns() + delay * TDN_NS_PER_MS;
  TDN_LOG_WARN(
      "stub for instance '%s' failed to restart (attempt %u): %s; next attempt in %llu ms", name,
      supervisor->failed_starts, TRITONSERVER_ErrorMessage(error), (unsigned long long)delay);
  /* Requests (and readiness) repeat the error to clients: its client form
   * (the log line above has the whole text). */
  char* client = tdn_client_text(TRITONSERVER_ErrorMessage(error), supervisor->config.model_directory);
  if (client != NULL) {
    TRITONSERVER_Error* replaced = tdn_error(TRITONSERVER_ErrorCode(error), "%s", client);
    TRITONSERVER_ErrorDelete(error);
    error = replaced;
  }
  free(supervisor->last_start_error);
  supervisor->last_start_error = client;
  return tdn_error_context(
      error, "stub for instance '%s' is unavailable: restart failed (next attempt in %llu ms)",
      name, (unsigned long long)delay);
}

TRITONSERVER_Error* tdn_supervisor_take(
    tdn_supervisor* supervisor, uint64_t bytes, tdn_arena_grant* grant)
{
  const char* name = supervisor->config.instance_name;
  const uint64_t half = supervisor->region.stub_base;
  if (bytes > half) {
    return tdn_error(
        TRITONSERVER_ERROR_INVALID_ARG,
        "the batch needs %llu bytes of shared memory on instance '%s' but the parent's half of "
        "shm-max-byte-size is %llu; raise shm-max-byte-size or send smaller requests",
        (unsigned long long)bytes, name, (unsigned long long)half);
  }
  pthread_mutex_lock(&supervisor->lock);
  if (supervisor->pid > 0) {
    tdn_arena_alloc_reclaim(
        &supervisor->parent_half, tdn_channel_stub_done(&supervisor->channel),
        supervisor->channel.published);
  }
  if (!tdn_arena_alloc_take(&supervisor->parent_half, bytes, grant)) {
    const uint64_t held = tdn_arena_alloc_held(&supervisor->parent_half);
    pthread_mutex_unlock(&supervisor->lock);
    return tdn_error(
        TRITONSERVER_ERROR_UNAVAILABLE,
        "the batch needs %llu bytes of shared memory on instance '%s' and %llu of %llu are held "
        "by work still in flight; retry later",
        (unsigned long long)bytes, name, (unsigned long long)held, (unsigned long long)half);
  }
  tdn_diag why;
  const bool committed = tdn_region_commit(
      &supervisor->region, supervisor->parent_half.high_water, supervisor->config.growth, &why);
  if (!committed) {
    tdn_arena_alloc_give_back(&supervisor->parent_half, grant->handle);
  }
  pthread_mutex_unlock(&supervisor->lock);
  if (!committed) {
    return tdn_error(TRITONSERVER_ERROR_UNAVAILABLE, "instance '%s': %s", name, why.text);
  }
  return NULL;
}

void tdn_supervisor_give_back(tdn_supervisor* supervisor, uint64_t handle)
{
  pthread_mutex_lock(&supervisor->lock);
  tdn_arena_alloc_give_back(&supervisor->parent_half, handle);
  pthread_mutex_unlock(&supervisor->lock);
}

/* With the lock held (teardown closes the writer under it): one byte on
 * the parent's doorbell from the parent's own writer, which ends the
 * waiter's sleep there; nothing without a writer. A full pipe (EAGAIN)
 * holds a wake-up already. */
static void ring_own_doorbell(tdn_supervisor* supervisor)
{
  const int writer = supervisor->doorbells.wake_parent;
  if (writer < 0) {
    return;
  }
  const char bell = 0;
  ssize_t wrote;
  do {
    wrote = write(writer, &bell, 1);
  } while (wrote < 0 && errno == EINTR);
  if (wrote == 1) {
    tdn_channel_count_own_ring(&supervisor->channel);
  }
}

/* With the lock held, after a call's last answer went to the model: a
 * waiter asleep on the parent's doorbell (the model's execute, or the
 * response thread) is woken now, to spin for what the model sends once it
 * resumes (RESUMED_SPIN_NS). */
static void wake_to_spin(tdn_supervisor* supervisor)
{
  if (supervisor->doorbells.wake_parent >= 0 &&
      __atomic_load_n(&supervisor->channel.to_parent->consumer_sleeping, __ATOMIC_SEQ_CST) ==
          TDN_SLEEP_DOORBELL) {
    __atomic_store_n(&supervisor->spin_asked, true, __ATOMIC_RELEASE);
    ring_own_doorbell(supervisor);
  }
}

/* Wakes a running stub ahead of a likely batch (`soon`), or calls that
 * off. Never waits: a stub being started or torn down holds the lock, an
 * early wake-up is only worth what it saves, and a spin that is not called
 * off ends by itself. */
static void prewake(void* member, bool soon)
{
  tdn_supervisor* supervisor = member;
  if (pthread_mutex_trylock(&supervisor->lock) != 0) {
    return;
  }
  if (supervisor->pid > 0 && soon) {
    tdn_channel_wake_soon(&supervisor->channel);
  } else if (supervisor->pid > 0) {
    tdn_channel_call_off_soon(&supervisor->channel);
  }
  pthread_mutex_unlock(&supervisor->lock);
}

void tdn_supervisor_prewake(void* member)
{
  prewake(member, true);
}

void tdn_supervisor_call_off_prewake(void* member)
{
  prewake(member, false);
}

tdn_send_status tdn_supervisor_send_answer(
    tdn_supervisor* supervisor, const tdn_record* record, const uint64_t* blocks,
    uint32_t block_count, tdn_diag* why)
{
  pthread_mutex_lock(&supervisor->lock);
  tdn_send_status status = TDN_SEND_OK;
  const uint64_t at = tdn_trace_now();
  if (supervisor->pid <= 0) {
    tdn_diag_set(why, "the stub is not running");
    status = TDN_SEND_FAILED;
  } else if (
      tdn_channel_unread(&supervisor->channel) >= TDN_RING_CAPACITY - TDN_ANSWER_RING_RESERVE) {
    status = TDN_SEND_FULL;
  } else if (!tdn_channel_send(&supervisor->channel, record, why)) {
    status = TDN_SEND_FAILED;
  } else {
    for (uint32_t i = 0; i < block_count; ++i) {
      tdn_arena_alloc_defer(&supervisor->parent_half, blocks[i], supervisor->channel.published);
    }
    if (record->kind == TDN_MSG_BLS_RESPONSE && (record->flags & TDN_FLAG_FINAL) != 0) {
      wake_to_spin(supervisor);
    }
  }
  pthread_mutex_unlock(&supervisor->lock);
  if (status == TDN_SEND_OK) {
    trace_sent(supervisor, at, record);
  }
  return status;
}

/* Turns a failed wait during execute into the batch's error, stopping the
 * stub. */
static TRITONSERVER_Error* execute_failed(
    tdn_supervisor* supervisor, wait_outcome outcome, const tdn_diag* why)
{
  const char* name = supervisor->config.instance_name;
  const pid_t pid = supervisor->pid;
  tdn_diag how;
  teardown(supervisor, &how);
  TRITONSERVER_Error* error = NULL;
  switch (outcome) {
    case WAIT_DIED:
      /* `how` from the reap is the authoritative exit description. */
      error = tdn_error(
          TRITONSERVER_ERROR_INTERNAL, "stub for instance '%s' %s during execute; restarting",
          name, how.text);
      break;
    case WAIT_DEADLINE:
      error = tdn_error(
          TRITONSERVER_ERROR_INTERNAL,
          "execute exceeded the %llu ms deadline on instance '%s'; the stub was killed and is "
          "restarting",
          (unsigned long long)supervisor->config.execute_timeout_ms, name);
      break;
    case WAIT_BROKEN:
    case WAIT_RECORD:
      error = tdn_error(
          TRITONSERVER_ERROR_INTERNAL,
          "stub for instance '%s' broke the protocol during execute: %s; it was killed and is "
          "restarting",
          name, why->text);
      break;
  }
  TDN_LOG_WARN("%s (pid %d)", TRITONSERVER_ErrorMessage(error), (int)pid);
  return error;
}

/* Sends the batch encoded at arena [offset, offset + length) and waits for
 * its RESULT or ERROR, forwarding cancellations of `watch`'s requests. An
 * error return means the stub failed (died, missed the deadline, broke the
 * protocol): it has been stopped and the message says so, naming the
 * instance. */
static TRITONSERVER_Error* execute(
    tdn_supervisor* supervisor, uint64_t offset, uint64_t length, tdn_cancel_watch* watch,
    reply* reply)
{
  memset(reply, 0, sizeof(*reply));
  tdn_diag why;
  if (supervisor->pid <= 0) {
    return tdn_error(
        TRITONSERVER_ERROR_UNAVAILABLE, "stub for instance '%s' is not running",
        supervisor->config.instance_name);
  }
  const uint64_t batch_id = ++supervisor->last_batch_id;
  const uint64_t sent_at = tdn_now_ns();
  if (!send_record(supervisor, TDN_MSG_EXECUTE, 0, batch_id, offset, length, &why)) {
    return execute_failed(supervisor, WAIT_BROKEN, &why);
  }
  if (watch != NULL) {
    watch->batch_id = batch_id;
  }
  supervisor->watch = watch;
  /* A request Triton cancelled before this Execute: its CANCEL follows the
   * EXECUTE at once, so the model's first isCancelled() (which reads the
   * ring first) already sees it, instead of after our next look. */
  if (watch != NULL && !forward_cancellations(supervisor, &why)) {
    supervisor->watch = NULL;
    return execute_failed(supervisor, WAIT_BROKEN, &why);
  }
  const uint64_t timeout_ms = supervisor->config.execute_timeout_ms;
  const uint64_t deadline = timeout_ms == 0 ? 0 : sent_at + timeout_ms * TDN_NS_PER_MS;
  tdn_channel* channel = &supervisor->channel;
  tdn_record record;
  const wait_outcome outcome =
      await_record(supervisor, deadline, tdn_channel_spin_budget(channel), false, &record, &why);
  supervisor->watch = NULL;
  if (outcome != WAIT_RECORD) {
    return execute_failed(supervisor, outcome, &why);
  }
  tdn_channel_note_answer(channel, tdn_now_ns() - sent_at);
  if (record.kind == TDN_MSG_RESULT && record.id == batch_id) {
    reply->kind = TDN_MSG_RESULT;
    reply->offset = record.offset;
    reply->length = record.length;
    return NULL;
  }
  if (record.kind == TDN_MSG_ERROR && (record.id == batch_id || record.id == 0)) {
    if (!read_error_text(supervisor, &record, &reply->message, &why)) {
      return execute_failed(supervisor, WAIT_BROKEN, &why);
    }
    reply->kind = TDN_MSG_ERROR;
    reply->code = error_code_from(record.aux);
    if (record.id == 0) {
      /* Batch id 0: the stub failed all its work and is ending (its Worker
       * died, or the model's work was stuck on a denial). Stopped now, the
       * next batch starts a new stub instead of finding this one gone. */
      teardown(supervisor, NULL);
    }
    return NULL;
  }
  tdn_diag_set(
      &why, "sent %s (kind %u) with id %llu while batch %llu was in flight", kind_name(record.kind),
      record.kind, (unsigned long long)record.id, (unsigned long long)batch_id);
  return execute_failed(supervisor, WAIT_BROKEN, &why);
}

TRITONSERVER_Error* tdn_supervisor_encode_batch(
    tdn_supervisor* supervisor, const tdn_request_desc* requests, uint32_t count,
    tdn_arena_grant* block, uint64_t* length)
{
  const char* name = supervisor->config.instance_name;
  uint64_t needed = 0;
  tdn_diag why;
  if (!tdn_batch_measure(requests, count, &needed, &why)) {
    return tdn_error(TRITONSERVER_ERROR_INVALID_ARG, "instance '%s': %s", name, why.text);
  }
  TDN_RETURN_IF_ERROR(tdn_supervisor_take(supervisor, needed, block));
  if (needed >= ANNOUNCE_MIN_BYTES && needed <= ANNOUNCE_MAX_BYTES) {
    tdn_channel_announce(&supervisor->channel);
  }
  uint64_t payload_end = 0;
  if (!tdn_batch_encode(
          tdn_supervisor_arena(supervisor), block->offset, needed, requests, count, &payload_end,
          &why)) {
    tdn_supervisor_give_back(supervisor, block->handle);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "instance '%s': %s", name, why.text);
  }
  *length = payload_end - block->offset;
  return NULL;
}

void tdn_supervisor_run_batch(
    tdn_supervisor* supervisor, tdn_collected_batch* batch, tdn_batch_answer* answer)
{
  memset(answer, 0, sizeof(*answer));
  const char* name = supervisor->config.instance_name;
  answer->error = tdn_supervisor_ensure_running(supervisor);
  if (answer->error != NULL) {
    return;
  }
  tdn_arena_grant block;
  uint64_t length = 0;
  answer->error = tdn_supervisor_encode_batch(
      supervisor, batch->sendable, batch->sendable_count, &block, &length);
  if (answer->error != NULL) {
    return;
  }
  /* Sync batches: one at a time, so the block is free once answered (its
   * inputs may be referenced by the result, which is read first). */
  answer->block = block.handle;
  answer->holds_block = true;
  tdn_cancel_watch watch = {
      .requests = batch->sendable_requests,
      .sent = batch->cancel_sent,
      .count = batch->sendable_count,
  };
  reply reply;
  answer->compute_start_ns = tdn_now_ns();
  answer->error = execute(supervisor, block.offset, length, &watch, &reply);
  answer->compute_end_ns = tdn_now_ns();
  if (answer->error != NULL) {
    return;
  }
  answer->replied = true;
  tdn_diag why;
  if (reply.kind == TDN_MSG_ERROR) {
    /* The model failed the whole batch (an exception in execute). */
    answer->error = tdn_error(reply.code, "%s", reply.message);
    free(reply.message);
    return;
  }
  if (!tdn_result_decode(
          tdn_supervisor_arena(supervisor), tdn_supervisor_arena_size(supervisor), reply.offset,
          reply.length, batch->sendable_count, &answer->result, &why)) {
    /* A stub only writes an unusable RESULT when its model tampered with
     * the runtime or the shared memory: worth a line in the log. */
    TDN_LOG_WARN("stub for instance '%s' sent an unusable RESULT: %s", name, why.text);
    answer->error =
        tdn_error(TRITONSERVER_ERROR_INTERNAL, "stub for instance '%s' %s", name, why.text);
    return;
  }
  answer->arena = tdn_supervisor_arena(supervisor);
}

/* How often a busy instance's stub memory is looked at, and what the stub
 * may use beyond its model's heap and memory budget (Deno itself and the
 * Worker's runtime: about 80 MiB at rest). */
#define MEMORY_CHECK_INTERVAL_NS (50 * TDN_NS_PER_MS)
#define STUB_RUNTIME_RESERVE_MB 256ull

void tdn_supervisor_check_memory(tdn_supervisor* supervisor, bool now)
{
  const tdn_supervisor_config* config = &supervisor->config;
  if (supervisor->pid <= 0) {
    return;
  }
  const uint64_t at = tdn_now_ns();
  if (!now && at - supervisor->memory_checked_ns < MEMORY_CHECK_INTERVAL_NS) {
    return;
  }
  supervisor->memory_checked_ns = at;
  const uint64_t budget_mb = config->heap_mb + config->memory_mb + STUB_RUNTIME_RESERVE_MB;
  const uint64_t resident = tdn_stub_resident_bytes(supervisor->pid);
  if (resident <= budget_mb * 1024 * 1024) {
    return;
  }
  TDN_LOG_WARN(
      "stub for instance '%s' (pid %d) uses %llu MiB, over its memory budget of %llu MiB "
      "(deno.max_heap_mb %llu + deno.max_memory_mb %llu + %llu for the runtime); it was killed "
      "and is restarting",
      config->instance_name, (int)supervisor->pid, (unsigned long long)(resident >> 20),
      (unsigned long long)budget_mb, (unsigned long long)config->heap_mb,
      (unsigned long long)config->memory_mb, STUB_RUNTIME_RESERVE_MB);
  teardown(supervisor, NULL);
}

void tdn_supervisor_end_batch(tdn_supervisor* supervisor, tdn_batch_answer* answer, bool failed)
{
  if (answer->error != NULL) {
    TRITONSERVER_ErrorDelete(answer->error);
  }
  tdn_result_view_free(&answer->result);
  if (answer->holds_block) {
    tdn_supervisor_give_back(supervisor, answer->block);
  }
  /* The reply has been handled: its payload's space may be reused. */
  if (answer->replied && supervisor->pid > 0) {
    tdn_channel_mark_done(&supervisor->channel);
  }
  memset(answer, 0, sizeof(*answer));
  /* A failed batch may be a model that ran out of memory: look at once. */
  tdn_supervisor_check_memory(supervisor, failed);
  /* A stub that failed during the batch (or was over its memory budget) is
   * replaced now, with the batch already answered, so the next batch finds
   * it ready. */
  if (supervisor->pid <= 0) {
    TRITONSERVER_Error* error = tdn_supervisor_ensure_running(supervisor);
    if (error != NULL) {
      TRITONSERVER_ErrorDelete(error); /* logged above */
    }
  }
}

void tdn_supervisor_stop(tdn_supervisor* supervisor)
{
  const char* name = supervisor->config.instance_name;
  if (supervisor->pid > 0) {
    tdn_diag why;
    if (send_record(supervisor, TDN_MSG_FINALIZE, 0, 0, 0, 0, &why)) {
      const uint64_t deadline = tdn_now_ns() + FINALIZE_GRACE_NS;
      tdn_record record;
      for (;;) {
        const wait_outcome outcome = await_record(supervisor, deadline, 0, false, &record, &why);
        if (outcome == WAIT_RECORD && record.kind == TDN_MSG_FINALIZED) {
          if (record.aux != 0) {
            TDN_LOG_WARN("stub for instance '%s': the model's finalize() threw", name);
          }
          break;
        }
        if (outcome == WAIT_RECORD && supervisor->config.on_record != NULL &&
            supervisor->config.on_record(supervisor->config.record_context, &record)) {
          continue;
        }
        if (outcome == WAIT_RECORD && record.kind == TDN_MSG_ERROR) {
          char* text = NULL;
          if (read_error_text(supervisor, &record, &text, &why)) {
            TDN_LOG_WARN("stub for instance '%s' during finalize: %s", name, text);
            free(text);
          }
          continue;
        }
        if (outcome == WAIT_DEADLINE) {
          TDN_LOG_WARN(
              "stub for instance '%s' did not finish finalize within 5 s; killing it", name);
        } else if (outcome == WAIT_RECORD) {
          TDN_LOG_WARN(
              "stub for instance '%s' sent %s during finalize; killing it", name,
              kind_name(record.kind));
        } else if (outcome == WAIT_BROKEN) {
          TDN_LOG_WARN(
              "stub for instance '%s' broke the protocol during finalize (%s); killing it", name,
              why.text);
        }
        break;
      }
    } else {
      TDN_LOG_WARN("stub for instance '%s' cannot be asked to finalize: %s", name, why.text);
    }
  }
  /* SIGKILL regardless: a stub that answered is exiting anyway, and one
   * that did not (or a model that blocks SIGTERM) must not hold the unload. */
  teardown(supervisor, NULL);
  free(supervisor->last_start_error);
  supervisor->last_start_error = NULL;
  free(supervisor->proposed_config);
  supervisor->proposed_config = NULL;
}

void tdn_supervisor_wake_waiter(tdn_supervisor* supervisor)
{
  __atomic_store_n(&supervisor->wake_asked, true, __ATOMIC_RELEASE);
  pthread_mutex_lock(&supervisor->lock);
  ring_own_doorbell(supervisor);
  pthread_mutex_unlock(&supervisor->lock);
}

tdn_wait_outcome tdn_supervisor_await(
    tdn_supervisor* supervisor, uint64_t deadline_ns, tdn_record* record, tdn_diag* why)
{
  return await_record(supervisor, deadline_ns, 0, true, record, why);
}

bool tdn_supervisor_send(
    tdn_supervisor* supervisor, uint16_t kind, uint32_t aux, uint64_t id, uint64_t offset,
    uint64_t length, tdn_diag* why)
{
  return supervisor->pid > 0 && send_record(supervisor, kind, aux, id, offset, length, why);
}

bool tdn_supervisor_send_record(
    tdn_supervisor* supervisor, const tdn_record* record, tdn_diag* why)
{
  return supervisor->pid > 0 && send_whole(supervisor, record, why);
}

void tdn_supervisor_kill(tdn_supervisor* supervisor, tdn_diag* how)
{
  teardown(supervisor, how);
}

bool tdn_supervisor_error_text(
    const tdn_supervisor* supervisor, const tdn_record* record, char** text, tdn_diag* why)
{
  return read_error_text(supervisor, record, text, why);
}

uint64_t tdn_supervisor_next_batch_id(tdn_supervisor* supervisor)
{
  return ++supervisor->last_batch_id;
}
