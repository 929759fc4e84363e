/*
 * stream.c: reading a request's responses one at a time while the backend
 * is still producing them. A decoupled model answers a request with any
 * number of responses, sent from any thread, possibly after execute has
 * returned; a server streaming them to its client (Triton's generate_stream
 * endpoint) needs each one as it arrives rather than all at the end.
 *
 * The responses are the ones host_request_record_response keeps in the
 * request, so a response read here stays readable (output bytes included,
 * through host_request_output_data) until the request is freed.
 */
#include "host_api.h"
#include "host_internal.h"

/* Index of the first response the caller has not seen yet. */
typedef struct host_stream_cursor {
  uint32_t seen;
} host_stream_cursor;

/* Released, with neither a final response nor anything left that could send
 * one: no factory, no response under construction. Using the request after
 * its release is itself a violation, so nothing more can legitimately come. */
static bool host_request_abandoned_locked(const TRITONBACKEND_Request* request) {
  return request->release_count > 0 && !request->final_sent && request->live_factories == 0 &&
         request->live_responses == 0;
}

static bool host_request_has_news(TRITONBACKEND_Request* request, void* context) {
  const host_stream_cursor* cursor = context;
  pthread_mutex_lock(&request->lock);
  bool news = request->response_count > cursor->seen || host_request_abandoned_locked(request);
  pthread_mutex_unlock(&request->lock);
  return news;
}

int64_t host_request_wait_response(TRITONBACKEND_Request* request, uint32_t seen,
                                   uint32_t timeout_ms) {
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request")) return -1;
  host_stream_cursor cursor = {.seen = seen};
  host_request_wait_until(request, host_request_has_news, &cursor, timeout_ms);
  pthread_mutex_lock(&request->lock);
  int64_t count = request->response_count;
  /* Responses not yet read come first: the caller learns of the abandonment
   * only once it has everything that was sent. */
  if (count <= (int64_t)seen && host_request_abandoned_locked(request)) {
    /* -3: not abandoned but rescheduled, to be executed again. */
    count = (request->release_flags & TRITONSERVER_REQUEST_RELEASE_RESCHEDULE) != 0 ? -3 : -2;
  }
  pthread_mutex_unlock(&request->lock);
  return count;
}

uint64_t host_request_response_json(TRITONBACKEND_Request* request, uint32_t index, char* out,
                                    uint64_t cap) {
  if (cap > 0) out[0] = '\0';
  if (!host_check_magic(request, HOST_MAGIC_REQUEST, "request")) return 0;
  host_text text = {0};
  pthread_mutex_lock(&request->lock);
  if (index < request->response_count) {
    host_sent_response_json(&text, &request->responses[index]);
  }
  pthread_mutex_unlock(&request->lock);
  uint64_t length = text.length == 0 ? 0 : host_text_export(&text, out, cap);
  host_text_free(&text);
  return length;
}
