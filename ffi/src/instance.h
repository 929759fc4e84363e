/*
 * instance.h: state of one model instance: its identity, the prepared stub
 * command and INIT arguments, and the supervisor that owns the stub.
 * Created in TRITONBACKEND_ModelInstanceInitialize, hung on the instance
 * handle, freed in TRITONBACKEND_ModelInstanceFinalize. Triton runs at most
 * one Execute per instance at a time; the one other caller that may touch
 * the stub, the readiness check, takes `life` too (the metrics registry,
 * shared with the model's other instances, has its own lock).
 */
#ifndef TDN_INSTANCE_H
#define TDN_INSTANCE_H

#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include "bls.h"
#include "decoupled.h"
#include "metrics.h"
#include "model.h"
#include "readiness.h"
#include "stub_process.h"
#include "supervisor.h"
#include "triton_api.h"

typedef struct tdn_instance {
  const tdn_model* model; /* owned by the model handle; outlives the instance */
  char* name;
  TRITONSERVER_InstanceGroupKind kind;
  int32_t device_id;
  tdn_stub_command command; /* reused by every (re)start */
  char* init_json;
  size_t init_json_length;
  tdn_supervisor supervisor; /* owns the stub, its region and its channel */
  tdn_decoupled decoupled;   /* batches in flight of a decoupled model */
  tdn_metrics_stub* metrics; /* the stub's custom metrics (METRICS records) */
  tdn_bls* bls;              /* calls the model makes to other models (bls.h) */
  /* Held by Execute for its whole call and by a readiness check that
   * restarts a dead stub (TRITONBACKEND_ModelInstanceReady): Triton calls
   * the two from different threads. */
  pthread_mutex_t life;
  tdn_readiness readiness;    /* the model's isReady() answers (readiness.h) */
} tdn_instance;

#endif /* TDN_INSTANCE_H */
