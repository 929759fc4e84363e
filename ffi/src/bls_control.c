/*
 * bls_control.c: CONTROL records, a model loading, unloading or checking
 * another model. Each runs on a short-lived thread of its own: a load takes
 * as long as the model's initialization, and the instance's thread must go
 * on reading the stub's records meanwhile (the stub may be waiting for
 * them). The answer is CONTROL_DONE with aux 0 and text ("true"/"false" for
 * IS_READY, empty otherwise), or aux = the error code (never 0: UNKNOWN is
 * sent as INTERNAL) and the error's text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bls_internal.h"
#include "client_text.h"
#include "clock.h"
#include "errors.h"
#include "json_reader.h"
#include "log.h"

typedef struct control_job {
  tdn_bls* bls;
  tdn_bls_call* call;
  uint32_t operation; /* TDN_CONTROL_* */
  tdn_control_spec spec;
} control_job;

static void job_free(control_job* job)
{
  if (job != NULL) {
    tdn_control_spec_free(&job->spec);
    free(job);
  }
}

/* What the model API accepts (docs/deno_models.md, which says why, and
 * what serve's stand-in core accepts instead): a Deno model (backend
 * "deno") with no platform. A configuration naming another backend or a
 * platform (python_backend runs any code it is given; an ensemble calls
 * models the caller may not) would hand the caller authority its own
 * configuration never declared. The refusal has the words of
 * runtime/model_config/deno_model.ts's refusedModelText. */
static const char MODEL_API_ACCEPTS[] =
    "the model API loads only Deno models (backend: \"deno\", no platform)";

static bool config_stays_in_sandbox(
    const char* name, const char* config, char* why, size_t why_size)
{
  tdn_diag problem;
  tdn_json_value* root = tdn_json_parse(config, strlen(config), 64, &problem);
  if (root == NULL) {
    snprintf(why, why_size, "the configuration is not JSON: %.1800s", problem.text);
    return false;
  }
  const bool object = root->kind == TDN_JSON_OBJECT;
  const tdn_json_value* backend = object ? tdn_json_member_value(root, "backend") : NULL;
  const tdn_json_value* platform = object ? tdn_json_member_value(root, "platform") : NULL;
  const bool deno = backend != NULL && backend->kind == TDN_JSON_STRING &&
                    strcmp(backend->string, "deno") == 0;
  const bool no_platform =
      platform == NULL || (platform->kind == TDN_JSON_STRING && platform->string[0] == 0);
  char named[256];
  if (backend != NULL && backend->kind == TDN_JSON_STRING && backend->string[0] != 0 && !deno) {
    snprintf(named, sizeof(named), "backend '%.200s'", backend->string);
  } else if (backend != NULL && backend->kind != TDN_JSON_STRING) {
    snprintf(named, sizeof(named), "a backend that is not a string");
  } else if (platform != NULL && platform->kind != TDN_JSON_STRING) {
    snprintf(named, sizeof(named), "a platform that is not a string");
  } else if (!no_platform) {
    snprintf(named, sizeof(named), "platform '%.200s'", platform->string);
  } else {
    snprintf(named, sizeof(named), "no backend");
  }
  bool ok = false;
  if (!object) {
    snprintf(why, why_size, "the configuration must be a JSON object");
  } else if (!deno || !no_platform) {
    snprintf(
        why, why_size, "model '%.200s' is refused: its configuration names %s; %s", name, named,
        MODEL_API_ACCEPTS);
  } else {
    ok = true;
  }
  tdn_json_free(root);
  return ok;
}

/* Triton's load parameters for a LOAD with a configuration and files. */
static TRITONSERVER_Error* load_with_parameters(TRITONSERVER_Server* server, const tdn_control_spec* spec)
{
  const uint32_t count = 1 + spec->file_count;
  TRITONSERVER_Parameter** parameters = calloc(count, sizeof(*parameters));
  if (parameters == NULL) {
    return TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  TRITONSERVER_Error* error = NULL;
  parameters[0] = TRITONSERVER_ParameterNew("config", TRITONSERVER_PARAMETER_STRING, spec->config);
  for (uint32_t i = 0; i < spec->file_count && parameters[i] != NULL; ++i) {
    char* key = NULL;
    if (asprintf(&key, "file:%s", spec->files[i].path) < 0) {
      break;
    }
    parameters[1 + i] =
        TRITONSERVER_ParameterBytesNew(key, spec->files[i].data, spec->files[i].size);
    free(key);
  }
  bool complete = true;
  for (uint32_t i = 0; i < count; ++i) {
    complete = complete && parameters[i] != NULL;
  }
  if (complete) {
    error = TRITONSERVER_ServerLoadModelWithParameters(
        server, spec->model_name, (const TRITONSERVER_Parameter**)parameters, count);
  } else {
    error = TRITONSERVER_ErrorNew(TRITONSERVER_ERROR_INTERNAL, "cannot make the load's parameters");
  }
  for (uint32_t i = 0; i < count; ++i) {
    TRITONSERVER_ParameterDelete(parameters[i]);
  }
  free(parameters);
  return error;
}

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

/*
 * Triton's core (73aad7c) can crash when a model is unloaded right after a
 * load returned: the backend thread of a new instance wakes the loading
 * thread before it has taken the instance back into its own list, and an
 * unload that comes first stops that thread while the list is empty
 * (StopBackendThread). A model must not be able to do that to the server
 * by loading and unloading at once, so an unload made through the model
 * API starts no sooner than this long after the last load made through it
 * (the backend thread needs microseconds). runtime/core/server.ts does the
 * same for its own clients.
 */
#define UNLOAD_AFTER_LOAD_NS (25ull * TDN_NS_PER_MS)

/* When the last load made by any model of this backend returned, or 0. */
static _Atomic uint64_t last_load_end_ns;

static void settle_after_load(void)
{
  const uint64_t ready_at = last_load_end_ns + UNLOAD_AFTER_LOAD_NS;
  uint64_t now = tdn_now_ns();
  while (now < ready_at) {
    const uint64_t left = ready_at - now;
    struct timespec pause = {
        .tv_sec = (time_t)(left / TDN_NS_PER_SECOND),
        .tv_nsec = (long)(left % TDN_NS_PER_SECOND),
    };
    if (nanosleep(&pause, NULL) != 0 && errno != EINTR) {
      return;
    }
    now = tdn_now_ns();
  }
}

/* Runs the operation; *text gets the answer's text (caller frees). */
static uint32_t run_operation(const control_job* job, char** text)
{
  TRITONSERVER_Server* server = job->bls->server;
  const tdn_control_spec* spec = &job->spec;
  TRITONSERVER_Error* error = NULL;
  bool ready = false;
  switch (job->operation) {
    case TDN_CONTROL_LOAD:
      error = spec->config == NULL ? TRITONSERVER_ServerLoadModel(server, spec->model_name)
                                   : load_with_parameters(server, spec);
      last_load_end_ns = tdn_now_ns();
      break;
    case TDN_CONTROL_UNLOAD:
      settle_after_load();
      error = spec->unload_dependents
                  ? TRITONSERVER_ServerUnloadModelAndDependents(server, spec->model_name)
                  : TRITONSERVER_ServerUnloadModel(server, spec->model_name);
      break;
    default:
      error =
          TRITONSERVER_ServerModelIsReady(server, spec->model_name, spec->model_version, &ready);
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
  /* The calling model is a client: it sees no server path (the loaded
   * model's directory is not its own either); the log keeps the whole text. */
  char* client = tdn_client_text(TRITONSERVER_ErrorMessage(error), NULL);
  if (client != NULL && strcmp(client, TRITONSERVER_ErrorMessage(error)) != 0) {
    TDN_LOG_ERROR(
        "instance '%s': %s of model '%s' failed: %s", job->bls->instance_name,
        operation_verb(job->operation), spec->model_name, TRITONSERVER_ErrorMessage(error));
  }
  if (asprintf(
          text, "cannot %s model '%s': %s%s", operation_verb(job->operation), spec->model_name,
          client != NULL ? client : "(the message is in the server's log)", hint) < 0) {
    *text = NULL;
  }
  free(client);
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
  job_free(job);
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
                 supervisor->region.stub_base, record->offset, record->length, record->aux,
                 &job->spec, &problem)) {
    refusal = problem.text;
    code = TRITONSERVER_ERROR_INVALID_ARG;
  } else if (!tdn_bls_may_reach(bls, record->aux, job->spec.model_name)) {
    tdn_bls_denial_text(
        bls, record->aux, job->spec.model_name, problem.text, sizeof(problem.text));
    refusal = problem.text;
    code = TRITONSERVER_ERROR_UNAVAILABLE;
  } else if (job->spec.config != NULL &&
             !config_stays_in_sandbox(
                 job->spec.model_name, job->spec.config, problem.text, sizeof(problem.text))) {
    refusal = problem.text;
    code = TRITONSERVER_ERROR_INVALID_ARG;
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
  if (call == NULL) {
    job_free(job);
  }
  return true;
}
