/*
 * decoupled.h: batches that outlive Execute: those of a decoupled model
 * (model_transaction_policy { decoupled: true }), and those of any model
 * with deno.max_batches_in_flight above 1 (tdn_sandbox_overlaps). Execute
 * sends EXECUTE and returns as soon as fewer than max_batches_in_flight of
 * the instance's batches have an execute() still running in the stub; a
 * pump thread takes the stub's records from then on: RESPONSE (sent
 * through the request's response factory, FINAL closing it), EXECUTE_DONE,
 * RESULT (a model that is not decoupled: every request's one response,
 * FINAL), ERROR; forwards Triton's cancellations as
 * CANCEL; and fails every open request, naming the instance, when the stub
 * dies, misses the execute deadline or breaks the protocol. A request is
 * released, and its statistics reported, when its FINAL has gone out; a
 * batch's block of the arena is freed when all its requests are.
 */
#ifndef TDN_DECOUPLED_H
#define TDN_DECOUPLED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "batch_codec.h"
#include "tdn_wire.h"
#include "triton_api.h"

/* The response thread's name (at most 15 characters). */
#define TDN_RESPONSE_THREAD_NAME "tdn-responses"

struct tdn_instance;
typedef struct tdn_flight tdn_flight;

typedef struct tdn_decoupled {
  struct tdn_instance* instance;
  TRITONBACKEND_ModelInstance* handle; /* for statistics */
  pthread_mutex_t lock;  /* guards everything below and the supervisor's sends */
  pthread_cond_t changed; /* a batch's execute settled, or the stub stopped */
  pthread_t pump;
  bool pump_started;
  bool pump_exited;
  bool stopping;
  bool pump_resting; /* nothing in flight for a while: the pump sleeps long */
  tdn_flight* flights; /* batches with open requests or a running execute */
  uint32_t executing;  /* batches whose execute() has not settled */
} tdn_decoupled;

void tdn_decoupled_init(tdn_decoupled* decoupled, struct tdn_instance* instance);

/* Execute for a decoupled model: takes ownership of the collected batch
 * (its requests are answered and released later, by the pump). */
void tdn_decoupled_execute(
    tdn_decoupled* decoupled, TRITONBACKEND_ModelInstance* handle, tdn_collected_batch* batch,
    uint64_t exec_start_ns);

/* Stops the pump (before the supervisor's FINALIZE) and, after it, fails
 * whatever the model left open. */
void tdn_decoupled_stop_pump(tdn_decoupled* decoupled);
void tdn_decoupled_fail_open(tdn_decoupled* decoupled, const char* why);

/* The supervisor's on_record hook during finalize. */
bool tdn_decoupled_on_record(void* context, const tdn_record* record);

void tdn_decoupled_destroy(tdn_decoupled* decoupled);

/* Whether the response thread runs (it owns the stub while it does). */
bool tdn_decoupled_pump_running(tdn_decoupled* decoupled);

#endif /* TDN_DECOUPLED_H */
