/*
 * batch_collect.h: reads what Execute was handed (TRITONBACKEND_Request
 * handles) into the plain descriptions batch_writer.h encodes. Names,
 * shapes and input buffers are Triton's and stay valid until the requests
 * are released, which happens after the batch is done; only an input
 * buffer in GPU memory is copied, to the host (cuda_copy.h).
 *
 * A request that cannot be sent (a GPU input without a CUDA runtime, an API
 * error) gets its own error and is left out of the batch; the others go
 * ahead.
 */
#ifndef TDN_BATCH_COLLECT_H
#define TDN_BATCH_COLLECT_H

#include <stdbool.h>
#include <stdint.h>

#include "batch_writer.h"
#include "triton_api.h"

typedef struct tdn_host_copy tdn_host_copy;

typedef struct tdn_collected_request {
  TRITONBACKEND_Request* request;
  TRITONSERVER_Error* error; /* non-NULL: answer with this, do not send */
  tdn_request_desc desc;     /* valid when error is NULL */
  tdn_host_copy* host_copies; /* host copies of its GPU input buffers */
} tdn_collected_request;

typedef struct tdn_collected_batch {
  uint32_t count;
  tdn_collected_request* requests; /* [count], in Triton's order */
  uint32_t sendable_count;
  tdn_request_desc* sendable;     /* descs of requests without error, in order */
  uint32_t* sendable_index;       /* sendable[i] is requests[sendable_index[i]] */
  TRITONBACKEND_Request** sendable_requests; /* their handles, in the same order */
  bool* cancel_sent;              /* [sendable_count]: CANCEL already sent */
  /* The batch size Triton's statistics want: for a model with
   * max_batch_size > 0 the sum of the sendable requests' batch dimensions
   * (the first dimension of their inputs), else the number of them. */
  uint64_t batch_size;
} tdn_collected_batch;

/* Fills `batch`; fails only when out of memory (then nothing needs freeing).
 * With max_batch_size > 0, a request whose inputs disagree on the batch
 * dimension, or whose batch dimension exceeds max_batch_size, gets its own
 * INVALID_ARG error. */
TRITONSERVER_Error* tdn_batch_collect(
    TRITONBACKEND_Request** requests, uint32_t count, uint64_t max_batch_size,
    tdn_collected_batch* batch);

/* Frees what collect allocated, including errors still attached. */
void tdn_collected_batch_free(tdn_collected_batch* batch);

#endif /* TDN_BATCH_COLLECT_H */
