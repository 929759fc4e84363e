/*
 * response_sender.h: the last step of a batch: one final Triton response per
 * request, built from a decoded RESULT (result_reader.h) or from an error.
 */
#ifndef TDN_RESPONSE_SENDER_H
#define TDN_RESPONSE_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "batch_writer.h"
#include "result_reader.h"
#include "triton_api.h"

/* Sends `error` as the request's final response and deletes it. */
void tdn_respond_error(TRITONBACKEND_Request* request, TRITONSERVER_Error* error);

/* Sends the stub's response for one request: its error, or its outputs
 * (only those requested, if the request named any) copied from the arena
 * into Triton's buffers. Returns true if the request succeeded. */
bool tdn_respond_result(
    TRITONBACKEND_Request* request, const tdn_request_desc* desc,
    const tdn_response_view* response, const uint8_t* arena, const char* instance_name);

#endif /* TDN_RESPONSE_SENDER_H */
