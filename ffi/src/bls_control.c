/*
 * bls_control.c: CONTROL records, a model loading, unloading or checking
 * another model. Each runs on a short-lived thread of its own: a load takes
 * as long as the model's initialization, and the instance's thread must go
 * on reading the stub's records meanwhile (the stub may be waiting for
 * them). The answer is CONTROL_DONE with aux 0 and text ("true"/"false" for
 * IS_READY, empty otherwise), or aux = the error code (never 0: UNKNOWN is
 * sent as INTERNAL) and the error's text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bls_internal.h"
#include "errors.h"
#include "log.h"

typedef struct control_job {
  tdn_bls* bls;
  tdn_bls_call* call;
  uint32_t operation; /* TDN_CONTROL_* */
  char* model_name;
  int64_t model_version;
} control_job;

static const char* operation_verb(uint32_t operation)
{
  switch (operation) {
    case TDN_CONTROL_LOAD:
      return "load";
    case TDN_CONTROL_UNLOAD:
      return "unload";
    default:
      return "check";
  }
}

/* Runs the operation; *text gets the answer's text (caller frees). */
static uint32_t run_operation(const control_job* job, char** text)
{
  TRITONSERVER_Server* server = job->bls->server;
  TRITONSERVER_Error* error = NULL;
  bool ready = false;
  switch (job->operation) {
    case TDN_CONTROL_LOAD:
      error = TRITONSERVER_ServerLoadModel(server, job->model_name);
      break;
    case TDN_CONTROL_UNLOAD:
      error = TRITONSERVER_ServerUnloadModel(server, job->model_name);
      break;
    default:
      error = TRITONSERVER_ServerModelIsReady(server, job->model_name, job->model_version, &ready);
      break;
  }
  if (error == NULL) {
    *text = strdup(job->operation == TDN_CONTROL_IS_READY ? (ready ? "true" : "false") : "");
    return 0;
  }
  TRITONSERVER_Error_Code code = TRITONSERVER_ErrorCode(error);
  /* Triton refuses loads and unloads with UNAVAILABLE unless it runs with
   * explicit model control; say so, since the model cannot know. */
  const bool refused =
      code == TRITONSERVER_ERROR_UNAVAILABLE && job->operation != TDN_CONTROL_IS_READY;
  const char* hint = refused ? " (a model can load and unload models only when Triton runs "
                               "with --model-control-mode=explicit)"
                             : "";
  if (asprintf(
          text, "cannot %s model '%s': %s%s", operation_verb(job->operation), job->model_name,
          TRITONSERVER_ErrorMessage(error), hint) < 0) {
    *text = NULL;
  }
  TRITONSERVER_ErrorDelete(error);
  return code == TRITONSERVER_ERROR_UNKNOWN ? (uint32_t)TRITONSERVER_ERROR_INTERNAL
                                            : (uint32_t)code;
}

/* With the lock held: answers the call, if its stub is still there. */
static void answer(tdn_bls* bls, tdn_bls_call* call, uint32_t code, const char* text)
{
  if (bls->supervisor == NULL || call->epoch != bls->epoch) {
    return;
  }
  tdn_record record;
  memset(&record, 0, sizeof(record));
  record.kind = TDN_MSG_CONTROL_DONE;
  record.aux = code;
  record.id = call->id;
  tdn_bls_written written;
  memset(&written, 0, sizeof(written));
  TRITONSERVER_Error* error = tdn_bls_write_text(
      bls->supervisor, text != NULL ? text : "out of memory", &written);
  if (error != NULL) {
    TDN_LOG_WARN(
        "instance '%s': the answer to model-control call %llu does not fit: %s",
        bls->instance_name, (unsigned long long)call->id, TRITONSERVER_ErrorMessage(error));
    TRITONSERVER_ErrorDelete(error);
    if (record.aux == 0) {
      record.aux = TRITONSERVER_ERROR_INTERNAL;
    }
  } else {
    record.offset = written.offset;
    record.length = written.length;
  }
  tdn_bls_enqueue(bls, &record, &written);
}

static void* control_main(void* argument)
{
  control_job* job = argument;
  tdn_bls* bls = job->bls;
  char* text = NULL;
  const uint32_t code = run_operation(job, &text);
  pthread_mutex_lock(&bls->lock);
  answer(bls, job->call, code, text);
  const bool free_state = tdn_bls_call_remove(bls, job->call);
  pthread_mutex_unlock(&bls->lock);
  if (free_state) {
    tdn_bls_free(bls);
  }
  free(text);
  free(job->model_name);
  free(job);
  return NULL;
}

bool tdn_bls_control(tdn_bls* bls, const tdn_record* record, tdn_diag* why)
{
  if (record->aux < TDN_CONTROL_LOAD || record->aux > TDN_CONTROL_IS_READY) {
    return tdn_diag_set(why, "sent CONTROL with operation %u, expected 1 to 3", record->aux);
  }
  tdn_supervisor* supervisor = bls->supervisor;
  control_job* job = calloc(1, sizeof(*job));
  tdn_diag problem;
  const char* refusal = NULL;
  TRITONSERVER_Error_Code code = TRITONSERVER_ERROR_INTERNAL;
  if (job == NULL) {
    refusal = "out of memory";
  } else if (!tdn_control_spec_decode(
                 tdn_supervisor_arena(supervisor), tdn_supervisor_arena_size(supervisor),
                 record->offset, record->length, &job->model_name, &job->model_version,
                 &problem)) {
    refusal = problem.text;
    code = TRITONSERVER_ERROR_INVALID_ARG;
  } else if (!tdn_bls_may_reach(bls, record->aux, job->model_name)) {
    tdn_bls_denial_text(bls, record->aux, job->model_name, problem.text, sizeof(problem.text));
    refusal = problem.text;
    code = TRITONSERVER_ERROR_UNAVAILABLE;
  }
  pthread_mutex_lock(&bls->lock);
  tdn_bls_call* call = NULL;
  if (refusal == NULL) {
    if (bls->call_count >= TDN_BLS_MAX_CALLS) {
      refusal = "too many calls to other models are in flight";
      code = TRITONSERVER_ERROR_UNAVAILABLE;
    } else if ((call = tdn_bls_call_add(bls, record->id, true)) == NULL) {
      refusal = "out of memory";
    }
  }
  if (call != NULL) {
    job->bls = bls;
    job->call = call;
    job->operation = record->aux;
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (pthread_create(&thread, &attributes, control_main, job) != 0) {
      tdn_bls_call_remove(bls, call);
      call = NULL;
      refusal = "cannot start a thread";
    }
    pthread_attr_destroy(&attributes);
  }
  if (call == NULL) {
    tdn_bls_call stand_in = {.bls = bls, .id = record->id, .epoch = bls->epoch};
    answer(bls, &stand_in, (uint32_t)code, refusal);
  }
  pthread_mutex_unlock(&bls->lock);
  if (call == NULL && job != NULL) {
    free(job->model_name);
    free(job);
  }
  return true;
}
