/*
 * fake_bls.h: a small C backend for the host's tests of in-process
 * inference (BLS), model control and custom metrics
 * (tests/host_bls_test.ts, tests/host_metrics_test.ts). Each model picks a
 * role with the config parameter "role":
 *
 *   "add_sub"  FP32 OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 (the
 *              requested ones), and response parameters describing what it
 *              saw (id, correlation id, flags, timeout, parameters).
 *              Request id "fail": an error response; "execute_error":
 *              Execute fails.
 *   "stream"   decoupled: INT32 INPUT0[0] = n responses with INT32 OUT = i,
 *              then FINAL alone, from another thread; parameter "delay_ms"
 *              between responses (default 5); "release_early" releases the
 *              request in Execute; otherwise cancellation is checked before
 *              each response and answered with a CANCELLED FINAL error;
 *              "no_final" never sends FINAL (a broken backend).
 *   "caller"   runs a scenario named by the request id with the TRITONSERVER
 *              API (fake_bls_caller.c) and answers with what it observed.
 *   "metrics"  runs a metrics scenario named by the request id
 *              (fake_bls_metrics.c).
 */
#ifndef FAKE_BLS_H
#define FAKE_BLS_H

#include <stdbool.h>
#include <stdint.h>

#include "triton_api.h"

/* Deletes an error (if any) and returns whether there was one. */
bool fake_failed(TRITONSERVER_Error* error);
/* Response parameters from an error: <prefix>_code (Triton's code name)
 * and <prefix>_message, or <prefix>_code "none". Deletes the error. */
void fake_report_error(TRITONBACKEND_Response* response, const char* prefix,
                       TRITONSERVER_Error* error);
/* A string request parameter, or 'fallback'. */
const char* fake_string_parameter(TRITONBACKEND_Request* request, const char* key,
                                  const char* fallback);
int64_t fake_int_parameter(TRITONBACKEND_Request* request, const char* key, int64_t fallback);
/* The server handle of a model instance. */
TRITONSERVER_Server* fake_server(TRITONBACKEND_ModelInstance* instance);

/* Role "caller": fills the response to one request (the caller sends it). */
void fake_caller_execute(TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request,
                         TRITONBACKEND_Response* response);
/* Role "metrics": the same; state lives in the instance. */
void fake_metrics_execute(TRITONBACKEND_ModelInstance* instance, TRITONBACKEND_Request* request,
                          TRITONBACKEND_Response* response);
void fake_metrics_finalize(TRITONBACKEND_ModelInstance* instance);

#endif /* FAKE_BLS_H */
