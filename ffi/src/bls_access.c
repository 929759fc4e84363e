/*
 * bls_access.c: the check of which models a model may reach (calls and
 * IS_READY: the sandbox record's `models`; loads and unloads:
 * `model_control`), made before the target is looked up, so that a refusal
 * is the same whether the target exists or not. Refusals are logged as
 * denials, the first 20 of an instance and then every 1000th, so that a
 * model cannot flood Triton's log with them.
 */
#include <stdio.h>

#include "bls_internal.h"
#include "log.h"
#include "model_access.h"

#define DENIALS_LOGGED_FIRST 20u
#define DENIALS_LOGGED_EVERY 1000u

static bool is_control(uint32_t operation)
{
  return operation == TDN_CONTROL_LOAD || operation == TDN_CONTROL_UNLOAD;
}

static const char* parameter_of(uint32_t operation)
{
  return is_control(operation) ? "deno.allow_model_control" : "deno.allow_models";
}

static const char* action_of(uint32_t operation)
{
  switch (operation) {
    case TDN_CONTROL_LOAD:
      return "load";
    case TDN_CONTROL_UNLOAD:
      return "unload";
    case TDN_CONTROL_IS_READY:
      return "ask about";
    default:
      return "call";
  }
}

bool tdn_bls_may_reach(tdn_bls* bls, uint32_t operation, const char* target)
{
  const char* patterns = is_control(operation) ? bls->model_control : bls->models;
  if (target != NULL && tdn_model_allowed(patterns, target)) {
    return true;
  }
  pthread_mutex_lock(&bls->lock);
  const uint32_t count = ++bls->denials;
  pthread_mutex_unlock(&bls->lock);
  if (count <= DENIALS_LOGGED_FIRST || count % DENIALS_LOGGED_EVERY == 0) {
    TDN_LOG_WARN(
        "model '%s', instance '%s': denied: %s model '%.256s' (not in %s)%s", bls->model_name,
        bls->instance_name, action_of(operation), target != NULL ? target : "?",
        parameter_of(operation),
        count == DENIALS_LOGGED_FIRST ? "; further denials of this instance are logged 1 in 1000"
                                      : "");
  }
  return false;
}

void tdn_bls_denial_text(
    const tdn_bls* bls, uint32_t operation, const char* target, char* text, size_t capacity)
{
  snprintf(
      text, capacity,
      "permission denied: model '%s' may not %s model '%.256s': declare it in the %s parameter "
      "of its config.pbtxt (within the operator's policy)",
      bls->model_name, action_of(operation), target != NULL ? target : "?",
      parameter_of(operation));
}
