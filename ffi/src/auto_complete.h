/*
 * auto_complete.h: a model's static autoCompleteConfig, run in the stub
 * that then serves its first instance (python_backend starts and tears down
 * a separate stub for it).
 *
 * When Triton allows auto-completion (TRITONBACKEND_ModelAutoCompleteConfig;
 * off with --disable-auto-complete-config), ModelInitialize starts a stub
 * whose INIT says auto_complete: it loads the model module, runs the static
 * method on the configuration and answers CONFIG with the result (or an
 * empty CONFIG when the model has no such method). The trusted evaluator
 * checks that only the fields the API can change differ
 * (sandbox/policy/auto_complete_check.ts), the parent hands the result to Triton
 * (TRITONBACKEND_ModelSetConfig) and re-reads the configuration and the
 * sandbox. The stub stays parked; the first instance adopts it, sending
 * INSTANCE (its identity and the final configuration), after which the
 * model's initialize runs and the stub answers READY.
 */
#ifndef TDN_AUTO_COMPLETE_H
#define TDN_AUTO_COMPLETE_H

#include "model.h"
#include "supervisor.h"
#include "triton_api.h"

/* Runs auto-completion if Triton asks for it; leaves the parked stub in
 * model->parked. An error fails the model load (it names the cause). */
TRITONSERVER_Error* tdn_auto_complete(TRITONBACKEND_Model* handle, tdn_model* model);

/* Hands the parked stub's supervisor to an instance (once; false when
 * there is none). The instance then sends INSTANCE with
 * tdn_supervisor_send_instance. */
bool tdn_auto_complete_adopt(tdn_model* model, tdn_supervisor* into, unsigned* applied_layers);

/* Stops a stub no instance adopted, and frees it. */
void tdn_auto_complete_discard(tdn_model* model);

#endif /* TDN_AUTO_COMPLETE_H */
