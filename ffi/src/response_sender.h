/*
 * response_sender.h: the last step of a batch: one final Triton response per
 * request, built from a decoded RESULT (result_codec.h) or from an error;
 * for decoupled models, any number of responses per request through its
 * response factory.
 */
#ifndef TDN_RESPONSE_SENDER_H
#define TDN_RESPONSE_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "batch_writer.h"
#include "result_codec.h"
#include "triton_api.h"

/* Sends `error` as the request's final response and deletes it. */
void tdn_respond_error(TRITONBACKEND_Request* request, TRITONSERVER_Error* error);

/* Releases the request with `release_flags` (TRITONSERVER_REQUEST_RELEASE_ALL
 * or _RESCHEDULE). A RESCHEDULE Triton refuses (a model without iterative
 * sequence batching) is answered with Triton's reason, naming the instance,
 * and released for good. Returns false in that case. */
bool tdn_release_request(
    TRITONBACKEND_Request* request, uint32_t release_flags, const char* instance_name);

/* Sends the stub's response for one request: its error, or its outputs
 * (only those requested, if the request named any) copied from the arena
 * into Triton's buffers. Returns true if the request succeeded. */
bool tdn_respond_result(
    TRITONBACKEND_Request* request, const tdn_request_desc* desc,
    const tdn_response_view* response, const uint8_t* arena, const char* instance_name);

/* Decoupled: one response through the request's factory, with `flags`
 * (TRITONSERVER_RESPONSE_COMPLETE_FINAL or 0). A NULL view sends only the
 * flags (a FINAL with no response). Returns true if it went out whole. */
bool tdn_respond_streamed(
    TRITONBACKEND_ResponseFactory* factory, const tdn_request_desc* desc,
    const tdn_response_view* view, uint32_t flags, const uint8_t* arena,
    const char* instance_name);

/* Decoupled: sends `error` through the factory with `flags`, and deletes it. */
void tdn_respond_streamed_error(
    TRITONBACKEND_ResponseFactory* factory, TRITONSERVER_Error* error, uint32_t flags);

#endif /* TDN_RESPONSE_SENDER_H */
