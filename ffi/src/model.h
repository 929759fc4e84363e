/*
 * model.h: state of one loaded model (one version). Created in
 * TRITONBACKEND_ModelInitialize, hung on the model handle, freed in
 * TRITONBACKEND_ModelFinalize after all its instances are gone. Instances
 * read it; nothing writes it after initialization except the custom metrics
 * registry and the instances' sibling list, which have their own locks
 * (metrics.h, siblings.h).
 */
#ifndef TDN_MODEL_H
#define TDN_MODEL_H

#include <stdint.h>

#include <stddef.h>

#include "backend.h"
#include "metrics.h"
#include "policy_eval.h"
#include "siblings.h"

typedef struct tdn_parked_stub tdn_parked_stub;

typedef struct tdn_model {
  const tdn_backend* backend; /* owned by the backend handle; outlives the model */
  char* name;
  uint64_t version;
  char* repository;  /* the model's directory, as TRITONBACKEND_ModelRepository gives it */
  char* config_json; /* Triton's model configuration, serialized */
  tdn_sandbox sandbox; /* what its stubs may do (policy_eval.h) */
  char** env_pairs;    /* "NAME=value" for the granted variables Triton's environment has */
  size_t env_count;
  tdn_metrics_model* metrics; /* the families its instances declared */
  tdn_parked_stub* parked;    /* auto-completion's stub, until an instance adopts it */
  tdn_siblings* siblings;     /* its instances, as candidates for the next batch (own lock) */
} tdn_model;

/* Reads (again) Triton's configuration of the model into config_json. */
TRITONSERVER_Error* tdn_model_read_config(TRITONBACKEND_Model* handle, tdn_model* model);

/* The model's directory as Triton names it (for load errors, before or
 * without a tdn_model), or NULL when Triton does not say. */
const char* tdn_model_directory_of(TRITONBACKEND_Model* handle);

#endif /* TDN_MODEL_H */
