/*
 * bench.c: the benchmark's client loop. Each of `concurrency` threads
 * builds a request from the template call's inputs (by reference), submits
 * it with TRITONSERVER_ServerInferAsync, sleeps until Triton has sent the
 * final response and released the request, records the latency, and goes
 * on with the next, until request_total requests were made. This is how a
 * client in the same process as Triton sees it; no event loop sits between
 * the measurement and the core.
 *
 * A request that gets no final response and release within
 * TDC_BENCH_STALL_SECONDS stops the run with an error naming the model
 * (python_backend's streaming BLS has been seen to stop answering): the
 * benchmark reports it instead of waiting forever. The stalled request's
 * completion record is left allocated, since Triton may still call back
 * into it.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

#define TDC_BENCH_STALL_SECONDS 60

typedef struct completion {
  pthread_mutex_t lock;
  pthread_cond_t done;
  bool final;
  bool released;
  bool failed;
  const tdc_core* core;
} completion;

typedef struct bench {
  tdc_call* template_call;
  uint32_t total;
  _Atomic uint32_t next;   /* requests handed out */
  _Atomic uint32_t stored; /* latencies written */
  _Atomic int64_t failed;
  uint64_t* latencies_ns;
  _Atomic bool setup_failed; /* error says why; also set when a request stalled */
  char error[512];
} bench;

static void bench_release(TRITONSERVER_InferenceRequest* request, const uint32_t flags, void* userp)
{
  (void)request, (void)flags;
  completion* c = userp;
  pthread_mutex_lock(&c->lock);
  c->released = true;
  pthread_cond_signal(&c->done);
  pthread_mutex_unlock(&c->lock);
}

static void bench_response(TRITONSERVER_InferenceResponse* response, const uint32_t flags,
                           void* userp)
{
  completion* c = userp;
  bool failed = false;
  if (response != NULL) {
    TRITONSERVER_Error* error = c->core->TRITONSERVER_InferenceResponseError(response);
    failed = error != NULL;
    TRITONSERVER_Error* bad = c->core->TRITONSERVER_InferenceResponseDelete(response);
    if (bad != NULL) c->core->TRITONSERVER_ErrorDelete(bad);
  }
  pthread_mutex_lock(&c->lock);
  c->failed = c->failed || failed;
  if ((flags & TRITONSERVER_RESPONSE_COMPLETE_FINAL) != 0) {
    c->final = true;
    pthread_cond_signal(&c->done);
  }
  pthread_mutex_unlock(&c->lock);
}

static completion* completion_new(const tdc_core* core)
{
  completion* c = calloc(1, sizeof(*c));
  if (c == NULL) return NULL;
  c->core = core;
  pthread_condattr_t attributes;
  pthread_condattr_init(&attributes);
  pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->done, &attributes);
  pthread_condattr_destroy(&attributes);
  return c;
}

static void completion_free(completion* c)
{
  pthread_cond_destroy(&c->done);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

/* Records the first failure of the run; later ones are dropped. */
static void bench_fail(bench* b, const char* message)
{
  if (!atomic_exchange(&b->setup_failed, true)) {
    snprintf(b->error, sizeof(b->error), "%s", message);
  }
}

/* Waits for the final response and the release; false if the request stalled. */
static bool await_completion(completion* c, uint64_t start_ns)
{
  const uint64_t deadline_ns = start_ns + (uint64_t)TDC_BENCH_STALL_SECONDS * 1000000000ull;
  const struct timespec deadline = {
      .tv_sec = (time_t)(deadline_ns / 1000000000ull),
      .tv_nsec = (long)(deadline_ns % 1000000000ull),
  };
  bool complete = true;
  pthread_mutex_lock(&c->lock);
  while (!(c->final && c->released)) {
    if (pthread_cond_timedwait(&c->done, &c->lock, &deadline) == ETIMEDOUT &&
        !(c->final && c->released)) {
      complete = false;
      break;
    }
  }
  pthread_mutex_unlock(&c->lock);
  return complete;
}

static void* bench_thread(void* arg)
{
  bench* b = arg;
  tdc_call* template_call = b->template_call;
  tdc_client* client = template_call->client;
  const tdc_core* core = &client->core;
  completion* c = completion_new(core);
  if (c == NULL) {
    bench_fail(b, "INTERNAL: the client is out of memory");
    return NULL;
  }
  for (;;) {
    const uint32_t index = atomic_fetch_add(&b->next, 1);
    if (index >= b->total || atomic_load(&b->setup_failed)) break;
    TRITONSERVER_InferenceRequest* request = NULL;
    TRITONSERVER_Error* failed = core->TRITONSERVER_InferenceRequestNew(
        &request, client->server, template_call->model, template_call->version);
    if (failed == NULL) failed = tdc_call_fill_request(template_call, request);
    if (failed == NULL) {
      failed = core->TRITONSERVER_InferenceRequestSetReleaseCallback(request, bench_release, c);
    }
    if (failed == NULL) {
      failed = core->TRITONSERVER_InferenceRequestSetResponseCallback(
          request, client->allocator, client, bench_response, c);
    }
    c->final = c->released = c->failed = false;
    const uint64_t start = tdc_now_ns();
    if (failed == NULL) {
      failed = core->TRITONSERVER_ServerInferAsync(client->server, request, NULL);
    }
    if (failed != NULL) {
      if (!atomic_exchange(&b->setup_failed, true)) {
        tdc_core_take_error(core, failed, b->error, sizeof(b->error));
      } else {
        core->TRITONSERVER_ErrorDelete(failed);
      }
      if (request != NULL) core->TRITONSERVER_InferenceRequestDelete(request);
      break;
    }
    if (!await_completion(c, start)) {
      /* Triton still holds the request and may call back into c: both stay. */
      char message[512];
      snprintf(message, sizeof(message),
               "UNAVAILABLE: model '%s' did not complete request %u within %d s (the model "
               "stopped answering); the run stopped",
               template_call->model, index, TDC_BENCH_STALL_SECONDS);
      bench_fail(b, message);
      return NULL;
    }
    const uint64_t latency = tdc_now_ns() - start;
    b->latencies_ns[atomic_fetch_add(&b->stored, 1)] = latency;
    if (c->failed) atomic_fetch_add(&b->failed, 1);
    TRITONSERVER_Error* bad = core->TRITONSERVER_InferenceRequestDelete(request);
    if (bad != NULL) core->TRITONSERVER_ErrorDelete(bad);
  }
  completion_free(c);
  return NULL;
}

int64_t tdc_bench_run(tdc_call* template_call, uint32_t request_total, uint32_t concurrency,
                      uint64_t* latencies_ns, uint64_t* elapsed_ns, char* error, uint32_t cap)
{
  if (template_call == NULL || template_call->started || concurrency == 0 ||
      latencies_ns == NULL || elapsed_ns == NULL) {
    snprintf(error, cap, "INVALID_ARG: bad benchmark arguments");
    return -1;
  }
  bench b = {.template_call = template_call, .total = request_total, .latencies_ns = latencies_ns};
  pthread_t* threads = calloc(concurrency, sizeof(*threads));
  if (threads == NULL) {
    snprintf(error, cap, "INTERNAL: out of memory");
    return -1;
  }
  const uint64_t start = tdc_now_ns();
  uint32_t started = 0;
  for (; started < concurrency; ++started) {
    if (pthread_create(&threads[started], NULL, bench_thread, &b) != 0) break;
  }
  for (uint32_t i = 0; i < started; ++i) pthread_join(threads[i], NULL);
  *elapsed_ns = tdc_now_ns() - start;
  free(threads);
  if (started == 0) {
    snprintf(error, cap, "INTERNAL: no benchmark thread could start");
    return -1;
  }
  if (atomic_load(&b.setup_failed)) {
    snprintf(error, cap, "%s", b.error);
    return -1;
  }
  return atomic_load(&b.failed);
}
