/*
 * bls.h: a model calling other models (BLS) and controlling them, for one
 * instance. The stub asks with BLS_REQUEST, BLS_CANCEL and CONTROL
 * (ffi/WIRE_FORMAT.md, "BLS and model control"); the parent answers with
 * BLS_RESPONSE and CONTROL_DONE.
 *
 * A BLS_REQUEST becomes a TRITONSERVER_InferenceRequest sent with
 * TRITONSERVER_ServerInferAsync. Its inputs are read by Triton in place in
 * the stub's half of the arena (BYTES excepted: a checked copy); its
 * outputs are placed by a response allocator that takes blocks of the
 * parent's half, so Triton (or the target backend) writes them straight
 * into shared memory. Each response becomes a one-response RESULT payload
 * beside them and a BLS_RESPONSE; the last carries FINAL and goes out only
 * once Triton has also released the request, since the stub then frees
 * the inputs. The blocks are freed when the stub's to_stub.done passes the
 * record. BLS_CANCEL is TRITONSERVER_InferenceRequestCancel. CONTROL runs
 * TRITONSERVER_ServerLoadModel, UnloadModel or ModelIsReady on a thread of
 * its own (a load takes seconds) and answers CONTROL_DONE with text.
 *
 * Answers are produced on Triton's threads, which put them on to_stub
 * themselves when the ring has room and none is queued; otherwise they are
 * queued, and one sender thread per instance puts them on to_stub as room
 * allows, so neither Triton's threads nor the instance's own wait for a
 * busy stub.
 *
 * Everything the stub writes is checked (bls_request.h). A stub that dies
 * or is restarted leaves its calls behind: they are cancelled, finish into
 * nowhere, and keep its old region mapped until Triton is done with it. An
 * instance that is unloaded with calls still in flight leaves this state
 * to the last of them to free.
 */
#ifndef TDN_BLS_H
#define TDN_BLS_H

#include <stdbool.h>

#include "supervisor.h"
#include "triton_api.h"

/* Calls (inferences and model-control operations) one instance may have
 * in flight at once; more are answered with UNAVAILABLE. */
#define TDN_BLS_MAX_CALLS 64u

typedef struct tdn_bls tdn_bls;

/* Who may be reached: the model's sandbox record lists (model_access.h). */
typedef struct tdn_bls_access {
  const char* model_name; /* the calling model, for messages */
  const char* models;     /* models it may call and ask about */
  const char* model_control; /* models it may load and unload */
} tdn_bls_access;

/* Creates the BLS state of an instance whose stub `supervisor` runs (not
 * started yet: the state is the supervisor's side_context). `access` is
 * copied. */
TRITONSERVER_Error* tdn_bls_create(
    TRITONBACKEND_ModelInstance* handle, tdn_supervisor* supervisor, const char* instance_name,
    const tdn_bls_access* access, tdn_bls** created);

/* The supervisor's on_side_record: BLS_REQUEST, BLS_CANCEL, CONTROL. */
bool tdn_bls_on_record(void* context, const tdn_record* record, tdn_diag* why);

/* The supervisor's on_teardown: cancels the stub's calls and keeps the
 * region mapped while Triton still holds pointers into it. */
bool tdn_bls_on_teardown(void* context, tdn_region* region);

/* The instance is going away (its stub already stopped): the state no
 * longer touches the supervisor and is freed now, or by the last call. */
void tdn_bls_detach(tdn_bls* bls);

#endif /* TDN_BLS_H */
