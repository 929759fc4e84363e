/*
 * bls.c: see bls.h. The life of one inference call:
 *
 *   BLS_REQUEST (instance's thread, in the supervisor's wait)
 *     tdn_bls_spec_decode          checked copy of the request
 *     build_request                TRITONSERVER_InferenceRequest, inputs in place
 *     TRITONSERVER_ServerInferAsync
 *   alloc_fn (Triton's threads)    outputs into blocks of the parent's half
 *   on_response (Triton's threads) payload -> queued BLS_RESPONSE
 *   on_release                     the request is ours again: the FINAL may go
 *   finish                         request deleted, call freed
 *
 * Calls are matched to the stub that made them by epoch: when a stub is
 * torn down the epoch moves on, and from then on the old calls neither
 * allocate, nor answer, nor touch the supervisor.
 */
#include "bls.h"

#include <stdlib.h>
#include <string.h>

#include "bls_internal.h"
#include "errors.h"
#include "log.h"
#include "trace.h"

/* What a response allocator's buffer_userp points at. */
typedef struct bls_buffer {
  tdn_bls_call* call;
  uint64_t handle; /* block of the parent's half */
  uint64_t epoch;
  bool handed_over; /* went to the stub with a BLS_RESPONSE: freed by its done */
} bls_buffer;

/* ---- Calls ---------------------------------------------------------- */

tdn_bls_call* tdn_bls_call_add(tdn_bls* bls, uint64_t id, bool control)
{
  tdn_bls_call* call = calloc(1, sizeof(*call));
  if (call == NULL) {
    return NULL;
  }
  call->bls = bls;
  call->id = id;
  call->epoch = bls->epoch;
  call->control = control;
  call->next = bls->calls;
  bls->calls = call;
  bls->call_count++;
  return call;
}

static tdn_bls_call* find_call(tdn_bls* bls, uint64_t id)
{
  for (tdn_bls_call* call = bls->calls; call != NULL; call = call->next) {
    if (call->id == id && call->epoch == bls->epoch) {
      return call;
    }
  }
  return NULL;
}

bool tdn_bls_call_remove(tdn_bls* bls, tdn_bls_call* call)
{
  for (tdn_bls_call** link = &bls->calls; *link != NULL; link = &(*link)->next) {
    if (*link == call) {
      *link = call->next;
      bls->call_count--;
      break;
    }
  }
  if (call->has_held_final) {
    tdn_bls_written_forget(&call->held_written);
  }
  free(call);
  return bls->detached && bls->calls == NULL;
}

/* True while the call's stub is the one running: it may allocate and
 * answer. */
static bool is_current(const tdn_bls* bls, const tdn_bls_call* call)
{
  return bls->supervisor != NULL && call->epoch == bls->epoch;
}

/* With the lock held: the call is over once Triton sent FINAL, released
 * the request and nobody is using it. Returns what must happen after the
 * lock is released (the request deleted, the old region unmapped, the
 * state freed). */
typedef struct finish_work {
  TRITONSERVER_InferenceRequest* request;
  tdn_bls_spec spec;
  tdn_bls_mapping* unmap;
  bool free_state;
} finish_work;

static void maybe_finish(tdn_bls* bls, tdn_bls_call* call, finish_work* work)
{
  memset(work, 0, sizeof(*work));
  if (!call->final_seen || !call->released || call->pins > 0) {
    return;
  }
  work->request = call->request;
  work->spec = call->spec;
  if (call->mapping != NULL && --call->mapping->refs == 0) {
    work->unmap = call->mapping;
  }
  work->free_state = tdn_bls_call_remove(bls, call);
}

static void finish_outside_lock(tdn_bls* bls, finish_work* work)
{
  if (work->request != NULL) {
    TDN_LOG_IF_ERROR(
        TRITONSERVER_InferenceRequestDelete(work->request), "cannot delete a BLS request");
  }
  tdn_bls_spec_free(&work->spec);
  if (work->unmap != NULL) {
    tdn_region_destroy(&work->unmap->region);
    free(work->unmap);
  }
  if (work->free_state) {
    tdn_bls_free(bls);
  }
}

/* ---- Triton's callbacks ------------------------------------------- */

static TRITONSERVER_Error* alloc_fn(
    TRITONSERVER_ResponseAllocator* allocator, const char* tensor_name, size_t byte_size,
    TRITONSERVER_MemoryType memory_type, int64_t memory_type_id, void* userp, void** buffer,
    void** buffer_userp, TRITONSERVER_MemoryType* actual_memory_type,
    int64_t* actual_memory_type_id)
{
  (void)allocator;
  (void)memory_type;
  (void)memory_type_id;
  tdn_bls_call* call = userp;
  tdn_bls* bls = call->bls;
  TDN_TRACE(TDN_TRACE_P_BLS_ALLOC, bls->instance_name, call->id, 0);
  *buffer = NULL;
  *buffer_userp = NULL;
  *actual_memory_type = TRITONSERVER_MEMORY_CPU;
  *actual_memory_type_id = 0;
  if (byte_size == 0) {
    return NULL;
  }
  bls_buffer* placed = calloc(1, sizeof(*placed));
  if (placed == NULL) {
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  pthread_mutex_lock(&bls->lock);
  TRITONSERVER_Error* error = NULL;
  if (!is_current(bls, call)) {
    error = tdn_error(
        TRITONSERVER_ERROR_UNAVAILABLE,
        "output '%s' has nowhere to go: the stub of instance '%s' that asked for it is gone",
        tensor_name, bls->instance_name);
  } else {
    tdn_arena_grant grant;
    error = tdn_supervisor_take(bls->supervisor, byte_size, &grant);
    if (error == NULL) {
      placed->call = call;
      placed->handle = grant.handle;
      placed->epoch = call->epoch;
      *buffer = tdn_supervisor_arena(bls->supervisor) + grant.offset;
      *buffer_userp = placed;
    }
  }
  pthread_mutex_unlock(&bls->lock);
  if (error != NULL) {
    free(placed);
    return tdn_error_context(error, "output '%s' of a BLS call", tensor_name);
  }
  return NULL;
}

static TRITONSERVER_Error* release_fn(
    TRITONSERVER_ResponseAllocator* allocator, void* buffer, void* buffer_userp,
    size_t byte_size, TRITONSERVER_MemoryType memory_type, int64_t memory_type_id)
{
  (void)allocator;
  (void)buffer;
  (void)byte_size;
  (void)memory_type;
  (void)memory_type_id;
  bls_buffer* placed = buffer_userp;
  if (placed == NULL) {
    return NULL;
  }
  tdn_bls* bls = placed->call->bls;
  pthread_mutex_lock(&bls->lock);
  /* A block handed to the stub is freed by its done counter; one of a stub
   * that is gone belonged to an allocator that was reset. */
  if (!placed->handed_over && bls->supervisor != NULL && placed->epoch == bls->epoch) {
    tdn_supervisor_give_back(bls->supervisor, placed->handle);
  }
  pthread_mutex_unlock(&bls->lock);
  free(placed);
  return NULL;
}

static TRITONSERVER_Error* query_fn(
    TRITONSERVER_ResponseAllocator* allocator, void* userp, const char* tensor_name,
    size_t* byte_size, TRITONSERVER_MemoryType* memory_type, int64_t* memory_type_id)
{
  (void)allocator;
  (void)userp;
  (void)tensor_name;
  (void)byte_size;
  *memory_type = TRITONSERVER_MEMORY_CPU;
  *memory_type_id = 0;
  return NULL;
}

/* With the lock held: hands the output blocks of `response` to `written`,
 * so that they go to the stub with the record. */
static void hand_over_outputs(TRITONSERVER_InferenceResponse* response, tdn_bls_written* written)
{
  uint32_t count = 0;
  if (TRITONSERVER_InferenceResponseOutputCount(response, &count) != NULL) {
    return; /* cannot happen for a response the payload was written from */
  }
  uint64_t* grown = realloc(written->blocks, (written->block_count + count + 1) * sizeof(uint64_t));
  if (grown == NULL) {
    return; /* the blocks come back when the response is deleted instead */
  }
  written->blocks = grown;
  for (uint32_t i = 0; i < count; ++i) {
    const char* name = NULL;
    TRITONSERVER_DataType datatype;
    const int64_t* shape = NULL;
    uint64_t rank = 0;
    const void* base = NULL;
    size_t size = 0;
    TRITONSERVER_MemoryType memory_type;
    int64_t memory_type_id = 0;
    void* userp = NULL;
    TRITONSERVER_Error* error = TRITONSERVER_InferenceResponseOutput(
        response, i, &name, &datatype, &shape, &rank, &base, &size, &memory_type,
        &memory_type_id, &userp);
    if (error != NULL) {
      TRITONSERVER_ErrorDelete(error);
      continue;
    }
    bls_buffer* placed = userp;
    if (placed != NULL && !placed->handed_over) {
      placed->handed_over = true;
      written->blocks[written->block_count++] = placed->handle;
    }
  }
}

static void on_response(TRITONSERVER_InferenceResponse* response, const uint32_t flags, void* userp)
{
  tdn_bls_call* call = userp;
  tdn_bls* bls = call->bls;
  TDN_TRACE(TDN_TRACE_P_BLS_RESPONSE, bls->instance_name, call->id, flags);
  const bool final = (flags & TRITONSERVER_RESPONSE_COMPLETE_FINAL) != 0;
  pthread_mutex_lock(&bls->lock);
  if (is_current(bls, call) && !call->final_seen) {
    tdn_record record;
    memset(&record, 0, sizeof(record));
    record.kind = TDN_MSG_BLS_RESPONSE;
    record.flags = final ? TDN_FLAG_FINAL : 0;
    record.id = call->id;
    tdn_bls_written written;
    memset(&written, 0, sizeof(written));
    bool answer = true;
    if (response != NULL) {
      TRITONSERVER_Error* error = tdn_bls_write_response(bls->supervisor, response, &written);
      if (error == NULL) {
        hand_over_outputs(response, &written);
      } else {
        TRITONSERVER_Error* second = tdn_bls_write_error(
            bls->supervisor, TRITONSERVER_ErrorCode(error), TRITONSERVER_ErrorMessage(error),
            &written);
        if (second != NULL) {
          TDN_LOG_WARN(
              "instance '%s': a response to BLS call %llu was lost: %s", bls->instance_name,
              (unsigned long long)call->id, TRITONSERVER_ErrorMessage(error));
          TRITONSERVER_ErrorDelete(second);
          answer = final; /* FINAL alone still ends the call */
        }
        TRITONSERVER_ErrorDelete(error);
      }
      record.offset = written.offset;
      record.length = written.length;
    }
    if (final && !call->released) {
      call->has_held_final = true;
      call->held_final = record;
      call->held_written = written;
    } else if (answer) {
      tdn_bls_enqueue(bls, &record, &written);
    }
  }
  if (final) {
    call->final_seen = true;
  }
  pthread_mutex_unlock(&bls->lock);
  if (response != NULL) {
    TDN_LOG_IF_ERROR(
        TRITONSERVER_InferenceResponseDelete(response), "cannot delete a BLS response");
  }
  finish_work work;
  pthread_mutex_lock(&bls->lock);
  maybe_finish(bls, call, &work);
  pthread_mutex_unlock(&bls->lock);
  finish_outside_lock(bls, &work);
}

static void on_release(TRITONSERVER_InferenceRequest* request, const uint32_t flags, void* userp)
{
  (void)request;
  (void)flags;
  tdn_bls_call* call = userp;
  tdn_bls* bls = call->bls;
  TDN_TRACE(TDN_TRACE_P_BLS_RELEASED, bls->instance_name, call->id, 0);
  finish_work work;
  pthread_mutex_lock(&bls->lock);
  call->released = true;
  if (call->has_held_final) {
    call->has_held_final = false;
    if (is_current(bls, call)) {
      tdn_bls_enqueue(bls, &call->held_final, &call->held_written);
    } else {
      tdn_bls_written_forget(&call->held_written);
    }
  }
  maybe_finish(bls, call, &work);
  pthread_mutex_unlock(&bls->lock);
  finish_outside_lock(bls, &work);
}

/* ---- BLS_REQUEST ---------------------------------------------------- */

static TRITONSERVER_Error* set_parameters(
    TRITONSERVER_InferenceRequest* request, const tdn_parameter_list* list)
{
  for (uint32_t i = 0; i < list->count; ++i) {
    const tdn_parameter* p = &list->items[i];
    switch (p->type) {
      case TRITONSERVER_PARAMETER_STRING:
        TDN_RETURN_IF_ERROR(
            TRITONSERVER_InferenceRequestSetStringParameter(request, p->key, p->string_value));
        break;
      case TRITONSERVER_PARAMETER_INT:
        TDN_RETURN_IF_ERROR(
            TRITONSERVER_InferenceRequestSetIntParameter(request, p->key, p->int_value));
        break;
      case TRITONSERVER_PARAMETER_BOOL:
        TDN_RETURN_IF_ERROR(
            TRITONSERVER_InferenceRequestSetBoolParameter(request, p->key, p->bool_value));
        break;
      default:
        TDN_RETURN_IF_ERROR(
            TRITONSERVER_InferenceRequestSetDoubleParameter(request, p->key, p->double_value));
        break;
    }
  }
  return NULL;
}

/* Everything but the submission: metadata, inputs (in place in the arena,
 * or the checked BYTES copy), requested outputs, parameters, callbacks. */
static TRITONSERVER_Error* build_request(
    tdn_bls* bls, tdn_bls_call* call, const uint8_t* arena)
{
  const tdn_bls_spec* spec = &call->spec;
  TRITONSERVER_InferenceRequest* request = call->request;
  TDN_RETURN_IF_ERROR(TRITONSERVER_InferenceRequestSetId(request, spec->id));
  if (spec->correlation_id_string != NULL) {
    TDN_RETURN_IF_ERROR(TRITONSERVER_InferenceRequestSetCorrelationIdString(
        request, spec->correlation_id_string));
  } else {
    TDN_RETURN_IF_ERROR(
        TRITONSERVER_InferenceRequestSetCorrelationId(request, spec->correlation_id));
  }
  TDN_RETURN_IF_ERROR(TRITONSERVER_InferenceRequestSetFlags(request, spec->flags));
  TDN_RETURN_IF_ERROR(
      TRITONSERVER_InferenceRequestSetTimeoutMicroseconds(request, spec->timeout_us));
  for (uint32_t i = 0; i < spec->input_count; ++i) {
    const tdn_tensor_view* input = &spec->inputs[i].tensor;
    const uint8_t* owned = spec->inputs[i].owned;
    TDN_RETURN_IF_ERROR(TRITONSERVER_InferenceRequestAddInput(
        request, input->name, (TRITONSERVER_DataType)input->datatype, input->shape, input->rank));
    const void* data =
        owned != NULL ? (const void*)owned : (const void*)(arena + input->data_offset);
    TDN_RETURN_IF_ERROR(TRITONSERVER_InferenceRequestAppendInputData(
        request, input->name, data, input->data_size, TRITONSERVER_MEMORY_CPU, 0));
  }
  for (uint32_t i = 0; i < spec->output_count; ++i) {
    TDN_RETURN_IF_ERROR(TRITONSERVER_InferenceRequestAddRequestedOutput(request, spec->outputs[i]));
  }
  TDN_RETURN_IF_ERROR(set_parameters(request, &spec->parameters));
  TDN_RETURN_IF_ERROR(TRITONSERVER_InferenceRequestSetReleaseCallback(request, on_release, call));
  return TRITONSERVER_InferenceRequestSetResponseCallback(
      request, bls->allocator, call, on_response, call);
}

/* A call that ends before it starts: its error goes back as FINAL. */
static void refuse(tdn_bls* bls, uint64_t id, TRITONSERVER_Error* error, const char* context)
{
  pthread_mutex_lock(&bls->lock);
  char* message = NULL;
  if (asprintf(&message, "%s: %s", context, TRITONSERVER_ErrorMessage(error)) < 0) {
    message = NULL;
  }
  tdn_bls_enqueue_error(
      bls, id, TRITONSERVER_ErrorCode(error),
      message != NULL ? message : TRITONSERVER_ErrorMessage(error));
  pthread_mutex_unlock(&bls->lock);
  free(message);
  TRITONSERVER_ErrorDelete(error);
}

static bool on_bls_request(tdn_bls* bls, const tdn_record* record, tdn_diag* why)
{
  tdn_supervisor* supervisor = bls->supervisor;
  pthread_mutex_lock(&bls->lock);
  if (find_call(bls, record->id) != NULL) {
    pthread_mutex_unlock(&bls->lock);
    return tdn_diag_set(
        why, "sent BLS_REQUEST %llu while a call with that id is in flight",
        (unsigned long long)record->id);
  }
  const bool full = bls->call_count >= TDN_BLS_MAX_CALLS;
  tdn_bls_call* call = full ? NULL : tdn_bls_call_add(bls, record->id, false);
  pthread_mutex_unlock(&bls->lock);
  if (call == NULL) {
    refuse(
        bls, record->id,
        full ? tdn_error(
                   TRITONSERVER_ERROR_UNAVAILABLE,
                   "%u calls to other models are in flight already (the most one instance may "
                   "have); await some first",
                   TDN_BLS_MAX_CALLS)
             : tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory"),
        "BLS request refused");
    return true;
  }
  const uint8_t* arena = tdn_supervisor_arena(supervisor);
  tdn_diag problem;
  TRITONSERVER_Error* error = NULL;
  if (!tdn_bls_spec_decode(
          arena, tdn_supervisor_arena_size(supervisor), supervisor->region.stub_base,
          record->offset, record->length, &call->spec, &problem)) {
    error = tdn_error(TRITONSERVER_ERROR_INVALID_ARG, "%s", problem.text);
  } else if (!tdn_bls_may_reach(bls, 0, call->spec.model_name)) {
    char text[1400];
    tdn_bls_denial_text(bls, 0, call->spec.model_name, text, sizeof(text));
    error = tdn_error(TRITONSERVER_ERROR_UNAVAILABLE, "%s", text);
  }
  if (error == NULL) {
    error = TRITONSERVER_InferenceRequestNew(
        &call->request, bls->server, call->spec.model_name, call->spec.model_version);
  }
  if (error == NULL) {
    error = build_request(bls, call, arena);
  }
  if (error == NULL) {
    /* From here on the callbacks may run, on any thread. */
    error = TRITONSERVER_ServerInferAsync(bls->server, call->request, NULL);
  }
  if (error == NULL) {
    TDN_TRACE(TDN_TRACE_P_BLS_SUBMITTED, bls->instance_name, record->id, 0);
    return true;
  }
  char context[1200];
  snprintf(
      context, sizeof(context), "BLS request to model '%.1024s' failed",
      call->spec.model_name != NULL ? call->spec.model_name : "?");
  finish_work work;
  pthread_mutex_lock(&bls->lock);
  call->final_seen = call->released = true; /* Triton never had it */
  maybe_finish(bls, call, &work);
  pthread_mutex_unlock(&bls->lock);
  finish_outside_lock(bls, &work);
  refuse(bls, record->id, error, context);
  return true;
}

/* ---- BLS_CANCEL ----------------------------------------------------- */

static void on_bls_cancel(tdn_bls* bls, uint64_t id)
{
  pthread_mutex_lock(&bls->lock);
  tdn_bls_call* call = find_call(bls, id);
  /* A cancel may cross the call's end; then there is nothing to do. */
  if (call == NULL || call->control || call->final_seen || call->request == NULL) {
    pthread_mutex_unlock(&bls->lock);
    return;
  }
  call->pins++;
  TRITONSERVER_InferenceRequest* request = call->request;
  pthread_mutex_unlock(&bls->lock);
  TDN_LOG_IF_ERROR(TRITONSERVER_InferenceRequestCancel(request), "cannot cancel a BLS request");
  finish_work work;
  pthread_mutex_lock(&bls->lock);
  call->pins--;
  maybe_finish(bls, call, &work);
  pthread_mutex_unlock(&bls->lock);
  finish_outside_lock(bls, &work);
}

bool tdn_bls_on_record(void* context, const tdn_record* record, tdn_diag* why)
{
  tdn_bls* bls = context;
  if (record->id == 0) {
    return tdn_diag_set(why, "sent a BLS or model-control record with call id 0");
  }
  switch (record->kind) {
    case TDN_MSG_BLS_REQUEST:
      return on_bls_request(bls, record, why);
    case TDN_MSG_BLS_CANCEL:
      on_bls_cancel(bls, record->id);
      return true;
    default:
      return tdn_bls_control(bls, record, why);
  }
}

/* ---- The stub's end, the instance's end ----------------------------- */

bool tdn_bls_on_teardown(void* context, tdn_region* region)
{
  tdn_bls* bls = context;
  pthread_mutex_lock(&bls->lock);
  const uint64_t gone = bls->epoch++;
  tdn_bls_drop_answers(bls);
  uint32_t live = 0;
  for (tdn_bls_call* call = bls->calls; call != NULL; call = call->next) {
    if (call->epoch == gone && !call->control) {
      live++;
    }
  }
  tdn_bls_mapping* mapping = live > 0 ? calloc(1, sizeof(*mapping)) : NULL;
  if (live > 0 && mapping == NULL) {
    /* Unmapping under Triton's feet is not an option: keep it for good. */
    TDN_LOG_ERROR(
        "instance '%s': out of memory; the shared memory of a stub that died with BLS calls in "
        "flight is kept mapped", bls->instance_name);
  }
  TRITONSERVER_InferenceRequest** cancel = live > 0 ? calloc(live, sizeof(*cancel)) : NULL;
  tdn_bls_call** pinned = live > 0 ? calloc(live, sizeof(*pinned)) : NULL;
  uint32_t pins = 0;
  if (mapping != NULL) {
    mapping->region = *region;
    mapping->refs = live;
  }
  for (tdn_bls_call* call = bls->calls; call != NULL; call = call->next) {
    if (call->epoch != gone || call->control) {
      continue;
    }
    call->mapping = mapping;
    if (call->has_held_final) {
      call->has_held_final = false;
      tdn_bls_written_forget(&call->held_written);
    }
    if (!call->final_seen && call->request != NULL && cancel != NULL && pinned != NULL) {
      call->pins++;
      pinned[pins] = call;
      cancel[pins++] = call->request;
    }
  }
  pthread_mutex_unlock(&bls->lock);
  for (uint32_t i = 0; i < pins; ++i) {
    TDN_LOG_IF_ERROR(
        TRITONSERVER_InferenceRequestCancel(cancel[i]), "cannot cancel a BLS request");
  }
  for (uint32_t i = 0; i < pins; ++i) {
    finish_work work;
    pthread_mutex_lock(&bls->lock);
    pinned[i]->pins--;
    maybe_finish(bls, pinned[i], &work);
    pthread_mutex_unlock(&bls->lock);
    /* The last of them unmaps the region; the supervisor forgets it when
     * we return true. */
    finish_outside_lock(bls, &work);
  }
  free(cancel);
  free(pinned);
  if (live > 0 && mapping != NULL) {
    TDN_LOG_WARN(
        "instance '%s': the stub went away with %u BLS call(s) in flight; they were cancelled "
        "and finish without it", bls->instance_name, live);
  }
  return live > 0;
}

/* Frees the strings and the state itself (NULL-safe). */
static void free_names(tdn_bls* bls)
{
  if (bls == NULL) {
    return;
  }
  free(bls->instance_name);
  free(bls->model_name);
  free(bls->models);
  free(bls->model_control);
  free(bls);
}

TRITONSERVER_Error* tdn_bls_create(
    TRITONBACKEND_ModelInstance* handle, tdn_supervisor* supervisor, const char* instance_name,
    const tdn_bls_access* access, tdn_bls** created)
{
  *created = NULL;
  TRITONBACKEND_Model* model = NULL;
  TRITONSERVER_Server* server = NULL;
  TDN_RETURN_IF_ERROR_CTX(
      TRITONBACKEND_ModelInstanceModel(handle, &model), "cannot reach the model");
  TDN_RETURN_IF_ERROR_CTX(TRITONBACKEND_ModelServer(model, &server), "cannot reach the server");
  tdn_bls* bls = calloc(1, sizeof(*bls));
  if (bls == NULL || (bls->instance_name = strdup(instance_name)) == NULL ||
      (bls->model_name = strdup(access->model_name)) == NULL ||
      (bls->models = strdup(access->models != NULL ? access->models : "")) == NULL ||
      (bls->model_control = strdup(access->model_control != NULL ? access->model_control : "")) ==
          NULL) {
    free_names(bls);
    return tdn_error(TRITONSERVER_ERROR_INTERNAL, "out of memory");
  }
  TRITONSERVER_Error* error =
      TRITONSERVER_ResponseAllocatorNew(&bls->allocator, alloc_fn, release_fn, NULL);
  if (error == NULL) {
    error = TRITONSERVER_ResponseAllocatorSetQueryFunction(bls->allocator, query_fn);
  }
  if (error != NULL) {
    if (bls->allocator != NULL) {
      TRITONSERVER_ResponseAllocatorDelete(bls->allocator);
    }
    free_names(bls);
    return tdn_error_context(error, "cannot create the BLS response allocator");
  }
  pthread_mutex_init(&bls->lock, NULL);
  pthread_condattr_t attributes;
  pthread_condattr_init(&attributes);
  pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
  pthread_cond_init(&bls->changed, &attributes);
  pthread_condattr_destroy(&attributes);
  bls->supervisor = supervisor;
  bls->server = server;
  bls->answers_tail = &bls->answers;
  bls->epoch = 1;
  *created = bls;
  return NULL;
}

void tdn_bls_detach(tdn_bls* bls)
{
  if (bls == NULL) {
    return;
  }
  pthread_mutex_lock(&bls->lock);
  bls->supervisor = NULL;
  bls->stopping = true;
  tdn_bls_drop_answers(bls);
  pthread_mutex_unlock(&bls->lock);
  tdn_bls_join_sender(bls);
  pthread_mutex_lock(&bls->lock);
  bls->detached = true;
  const bool free_now = bls->calls == NULL;
  if (!free_now) {
    TDN_LOG_WARN(
        "instance '%s' unloaded with %u call(s) to other models still in flight; they finish "
        "without it", bls->instance_name, bls->call_count);
  }
  pthread_mutex_unlock(&bls->lock);
  if (free_now) {
    tdn_bls_free(bls);
  }
}

void tdn_bls_free(tdn_bls* bls)
{
  TDN_LOG_IF_ERROR(
      TRITONSERVER_ResponseAllocatorDelete(bls->allocator),
      "cannot delete the BLS response allocator");
  pthread_mutex_destroy(&bls->lock);
  pthread_cond_destroy(&bls->changed);
  free_names(bls);
}
