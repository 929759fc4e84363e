/*
 * fake_add_sub.h: the arithmetic both C test backends answer with
 * (fake_backend.c for the host's own tests, fake_bls_backend.c's "add_sub"
 * role): FP32 OUTPUT0 = INPUT0 + INPUT1 and OUTPUT1 = INPUT0 - INPUT1, for
 * the outputs the request asks for, shaped like INPUT0.
 */
#ifndef FAKE_ADD_SUB_H
#define FAKE_ADD_SUB_H

#include "triton_api.h"

/* Adds the requested outputs to 'response'; the first error, if any (the
 * response is still the caller's to send). */
TRITONSERVER_Error* fake_add_sub(TRITONBACKEND_Request* request, TRITONBACKEND_Response* response);

#endif /* FAKE_ADD_SUB_H */
