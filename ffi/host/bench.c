/*
 * bench.c: a closed-loop load generator playing Triton's scheduler for one
 * model: `concurrency` client threads each submit a request, wait for its
 * final response and submit the next. Every execute carries one request
 * and goes to the lowest-numbered free instance (as Triton's rate limiter
 * hands a payload to an idle instance); a client that finds none free
 * waits, and that queueing is part of its latency.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_internal.h"

/* A response that takes longer than this ends the run as a failure. */
#define HOST_BENCH_RESPONSE_TIMEOUT_MS 120000u

typedef struct host_bench {
  TRITONBACKEND_Model* model;
  TRITONBACKEND_Request* template_request;
  uint32_t total;
  uint64_t* latencies;
  atomic_uint next_request;
  atomic_uint next_latency;
  atomic_llong failures;
  atomic_bool aborted;
  pthread_mutex_t pool_lock;
  pthread_cond_t pool_changed;
  bool* busy;
  pthread_mutex_t error_lock;
  char error[512];
} host_bench;

static TRITONBACKEND_ModelInstance* host_bench_acquire(host_bench* bench, uint32_t* index) {
  pthread_mutex_lock(&bench->pool_lock);
  for (;;) {
    for (uint32_t i = 0; i < bench->model->instance_count; i++) {
      if (!bench->busy[i]) {
        bench->busy[i] = true;
        pthread_mutex_unlock(&bench->pool_lock);
        *index = i;
        return bench->model->instances[i];
      }
    }
    pthread_cond_wait(&bench->pool_changed, &bench->pool_lock);
  }
}

static void host_bench_release(host_bench* bench, uint32_t index) {
  pthread_mutex_lock(&bench->pool_lock);
  bench->busy[index] = false;
  pthread_cond_signal(&bench->pool_changed);
  pthread_mutex_unlock(&bench->pool_lock);
}

static void host_bench_abort(host_bench* bench, const char* reason) {
  pthread_mutex_lock(&bench->error_lock);
  if (!atomic_load(&bench->aborted)) {
    host_write_text(bench->error, sizeof bench->error, "%s", reason);
    atomic_store(&bench->aborted, true);
  }
  pthread_mutex_unlock(&bench->error_lock);
}

/* A request failed unless its final response arrived without an error. */
static bool host_bench_succeeded(TRITONBACKEND_Request* request) {
  pthread_mutex_lock(&request->lock);
  bool ok = request->final_sent && request->response_count > 0;
  for (uint32_t r = 0; ok && r < request->response_count; r++) {
    if (request->responses[r].has_error) ok = false;
  }
  pthread_mutex_unlock(&request->lock);
  return ok;
}

static void* host_bench_client(void* argument) {
  host_bench* bench = argument;
  char error_text[512];
  while (!atomic_load(&bench->aborted) && atomic_fetch_add(&bench->next_request, 1) < bench->total) {
    TRITONBACKEND_Request* request = host_request_clone_shared(bench->template_request);
    request->submit_ns = host_now_ns();
    uint32_t index = 0;
    TRITONBACKEND_ModelInstance* instance = host_bench_acquire(bench, &index);
    int32_t status = host_execute(instance, &request, 1, error_text, sizeof error_text);
    host_bench_release(bench, index);
    if (status < 0) {
      host_bench_abort(bench, error_text);
      host_request_free(request);
      break;
    }
    if (!host_request_wait_done(request, HOST_BENCH_RESPONSE_TIMEOUT_MS)) {
      host_bench_abort(bench, "a request got no final response or was never released");
      host_request_free(request); /* leaked on purpose by the free: still held */
      break;
    }
    if (!host_bench_succeeded(request)) atomic_fetch_add(&bench->failures, 1);
    uint32_t slot = atomic_fetch_add(&bench->next_latency, 1);
    if (slot < bench->total) bench->latencies[slot] = request->final_ns - request->submit_ns;
    host_request_free(request);
  }
  return NULL;
}

int64_t host_bench_run(TRITONBACKEND_Model* model, TRITONBACKEND_Request* template_request,
                       uint32_t request_total, uint32_t concurrency, uint64_t* latencies_ns,
                       uint64_t* elapsed_ns, char* error_text, uint32_t error_cap) {
  if (!host_check_magic(model, HOST_MAGIC_MODEL, "model") ||
      !host_check_magic(template_request, HOST_MAGIC_REQUEST, "request")) {
    host_write_text(error_text, error_cap, "invalid model or template request");
    return -1;
  }
  if (request_total == 0 || concurrency == 0 || latencies_ns == NULL || elapsed_ns == NULL ||
      model->instance_count == 0) {
    host_write_text(error_text, error_cap,
                    "need requests, concurrency, output arrays and at least one instance");
    return -1;
  }
  host_bench bench;
  memset(&bench, 0, sizeof bench);
  bench.model = model;
  bench.template_request = template_request;
  bench.total = request_total;
  bench.latencies = latencies_ns;
  pthread_mutex_init(&bench.pool_lock, NULL);
  pthread_cond_init(&bench.pool_changed, NULL);
  pthread_mutex_init(&bench.error_lock, NULL);
  bench.busy = host_alloc(sizeof *bench.busy * model->instance_count);
  pthread_t* clients = host_alloc(sizeof *clients * concurrency);

  uint64_t start = host_now_ns();
  uint32_t started = 0;
  for (; started < concurrency; started++) {
    if (pthread_create(&clients[started], NULL, host_bench_client, &bench) != 0) {
      host_bench_abort(&bench, "cannot start a client thread");
      break;
    }
  }
  for (uint32_t i = 0; i < started; i++) pthread_join(clients[i], NULL);
  *elapsed_ns = host_now_ns() - start;

  int64_t result = atomic_load(&bench.failures);
  if (atomic_load(&bench.aborted)) {
    host_write_text(error_text, error_cap, "%s", bench.error);
    result = -1;
  }
  free(clients);
  free(bench.busy);
  pthread_mutex_destroy(&bench.pool_lock);
  pthread_cond_destroy(&bench.pool_changed);
  pthread_mutex_destroy(&bench.error_lock);
  return result;
}
