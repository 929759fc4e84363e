/*
 * bls_payload.h: the payload of a BLS_RESPONSE, written by the parent in
 * its own half of the arena: a one-response RESULT (tdn_result_header,
 * tdn_response, tdn_tensor[], shapes, strings), the same shape a stub
 * writes for a RESPONSE. Output data is not copied when it already lies in
 * the arena (the response allocator of bls.c placed it there, so Triton
 * wrote it in place); anything else is copied into a block of its own.
 */
#ifndef TDN_BLS_PAYLOAD_H
#define TDN_BLS_PAYLOAD_H

#include <stdint.h>

#include "supervisor.h"
#include "triton_api.h"

/* A written payload and the blocks of the parent's half it took. */
typedef struct tdn_bls_written {
  uint64_t offset, length;
  uint64_t* blocks; /* handles: the payload's, then those of copied outputs */
  uint32_t block_count;
} tdn_bls_written;

/* Writes `response` (its error, outputs and parameters). Call with the
 * supervisor in a state where the arena may be used (bls.c checks). */
TRITONSERVER_Error* tdn_bls_write_response(
    tdn_supervisor* supervisor, TRITONSERVER_InferenceResponse* response,
    tdn_bls_written* written);

/* Writes a response that only carries an error. */
TRITONSERVER_Error* tdn_bls_write_error(
    tdn_supervisor* supervisor, TRITONSERVER_Error_Code code, const char* message,
    tdn_bls_written* written);

/* Writes UTF-8 text alone (a CONTROL_DONE payload). */
TRITONSERVER_Error* tdn_bls_write_text(
    tdn_supervisor* supervisor, const char* text, tdn_bls_written* written);

/* Gives the blocks back (the record was not sent) and forgets them. */
void tdn_bls_written_discard(tdn_supervisor* supervisor, tdn_bls_written* written);

/* Forgets the blocks (the stub has them now, or their half is gone). */
void tdn_bls_written_forget(tdn_bls_written* written);

#endif /* TDN_BLS_PAYLOAD_H */
