/*
 * tdn_wire.h: the shared-memory wire format between libtriton_deno.so (the
 * parent, inside Triton) and a Deno stub process. ffi/WIRE_FORMAT.md explains
 * it in prose; runtime/wire/layout.ts mirrors every number here, and
 * tests/wire/ checks both sides against the same golden bytes.
 *
 * All integers are little-endian. Every struct is naturally aligned and has
 * no implicit padding, so the same offsets hold in C and in TypeScript.
 */
#ifndef TDN_WIRE_H
#define TDN_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* ---- Region ------------------------------------------------------------ */

#define TDN_WIRE_MAGIC 0x314E4454u /* "TDN1" read as a little-endian u32 */
#define TDN_WIRE_VERSION 3u

/* The stub finds the region as this inherited file descriptor; the region
 * has no name by the time the stub runs. */
#define TDN_STUB_REGION_FD 3

/* The doorbells: two pipes beside the region (ffi/WIRE_FORMAT.md, "Sleeping
 * and waking"). The stub reads its doorbell as descriptor 0 and rings the
 * parent's by writing descriptor 1; descriptor 5 is a second writer of its
 * own doorbell, for the stub's main thread. */
#define TDN_STUB_DOORBELL_FD 0
#define TDN_PARENT_DOORBELL_FD 1
#define TDN_STUB_TICK_FD 5

/* Bytes of the control page at the start of the region. The arena (all
 * payloads) starts right after it; every payload offset is arena-relative.
 * The arena has two halves of equal size: [0, stub_base) is the parent's,
 * [stub_base, arena_size) the stub's. Each side writes payloads only in its
 * own half, with its own allocator; either side may read both. */
#define TDN_CONTROL_SIZE 4096u

/* Tensor data inside the arena starts on this boundary. */
#define TDN_TENSOR_ALIGN 64u

/* Records each ring holds; indices are free-running u32 counters. */
#define TDN_RING_CAPACITY 32u

/* ---- Records: one 32-byte message on a ring ----------------------------- */

/* Parent -> stub kinds. */
#define TDN_MSG_INIT 1u         /* payload: UTF-8 JSON init arguments */
#define TDN_MSG_EXECUTE 2u      /* id: batch id; payload: tdn_batch_header */
/* 3 was GROWN in version 1: both halves are sized at creation now. */
#define TDN_MSG_FINALIZE 4u     /* run finalize, answer FINALIZED, exit */
#define TDN_MSG_CANCEL 5u       /* id: batch id; aux: request index: Triton cancelled it */
#define TDN_MSG_BLS_RESPONSE 6u /* id: call id; flags: FINAL; payload: a one-response
                                   tdn_result_header (parent's half), or none */
#define TDN_MSG_CONTROL_DONE 7u /* id: call id; aux: 0 ok, else error code; payload: UTF-8 text */
#define TDN_MSG_INSTANCE 8u     /* after CONFIG: payload: UTF-8 JSON instance identity + config */
#define TDN_MSG_IS_READY 9u     /* id: probe id (nonzero): ask the model's isReady() */

/* Stub -> parent kinds. */
#define TDN_MSG_READY 64u        /* initialize succeeded; aux: TDN_READY_* bits */
#define TDN_MSG_ERROR 65u        /* id: batch id or 0; aux: error code; payload: UTF-8 text */
#define TDN_MSG_RESULT 66u       /* id: batch id; payload: tdn_result_header */
/* 67 was GROW in version 1. */
#define TDN_MSG_FINALIZED 68u    /* finalize returned (or threw: aux = 1) */
#define TDN_MSG_LOG 69u          /* aux: TRITONSERVER_LogLevel; payload: UTF-8 text, at most
                                    TDN_MAX_LOG_LENGTH bytes */
#define TDN_MSG_RESPONSE 70u     /* decoupled: id: batch id; aux: request index; flags: FINAL;
                                    payload: tdn_response, or none (length 0) */
#define TDN_MSG_EXECUTE_DONE 71u /* decoupled: id: batch id; execute() has settled */
#define TDN_MSG_METRICS 72u      /* payload: tdn_metrics_header and its items */
#define TDN_MSG_BLS_REQUEST 73u  /* id: call id (stub-chosen, nonzero); payload: tdn_bls_request */
#define TDN_MSG_BLS_CANCEL 74u   /* id: call id */
#define TDN_MSG_CONTROL 75u      /* id: call id; aux: TDN_CONTROL_*; payload: tdn_control_request */
#define TDN_MSG_CONFIG 76u       /* auto-completion: payload: the completed configuration JSON,
                                    or none (length 0): the model has no autoCompleteConfig */
#define TDN_MSG_TRACE 77u        /* tracing only: aux: TDN_TRACE_*; id: CLOCK_REALTIME ns of the
                                    event; offset: its batch or call id (no payload) */
#define TDN_MSG_PROGRESS 78u     /* a starting stub is alive: aux: TDN_PROGRESS_*; no payload */
#define TDN_MSG_READINESS 79u    /* id: the IS_READY probe id; aux: 0 ready, 1 not ready;
                                    payload: UTF-8 reason (at most TDN_MAX_LOG_LENGTH), or none */

/* PROGRESS phases (aux). The start timeout counts from the last record heard. */
#define TDN_PROGRESS_STARTED 1u      /* the main thread runs and has read INIT */
#define TDN_PROGRESS_CHECKING 2u     /* a type check runs (or waits); sent every second */
#define TDN_PROGRESS_LOADING 3u      /* the Worker imports the model */
#define TDN_PROGRESS_INITIALIZING 4u /* the model's initialize runs */

/* Record flags. */
#define TDN_FLAG_FINAL 1u /* RESPONSE, BLS_RESPONSE: the last one for its request or call */
#define TDN_FLAG_CLOSED 2u /* CANCEL: the parent has ended the request itself (the stream was
                              silent too long, or cancelled and not closed in time); RESPONSE
                              (alone, length 0): the stub's acknowledgement, its last record for
                              that request */
#define TDN_FLAG_RESCHEDULE 4u /* RESPONSE (length 0, never with FINAL): the request's turn is
                                  over without a FINAL; release it with RESCHEDULE */

/* READY aux bits. */
#define TDN_READY_HAS_IS_READY 1u /* the model has an isReady() hook: ask it (IS_READY) */

/* TRACE events (aux): what the stub's Worker stamped, when the parent traces
 * (INIT's backend_options.trace is "1"). */
#define TDN_TRACE_EXECUTE_TAKEN 1u    /* an EXECUTE was taken from to_stub (batch id) */
#define TDN_TRACE_BLS_SENT 2u         /* a BLS_REQUEST is about to go (call id) */
#define TDN_TRACE_BLS_ANSWER_TAKEN 3u /* a BLS_RESPONSE was taken from to_stub (call id) */
#define TDN_TRACE_BLS_DELIVERED 4u    /* its outputs are copied; the model gets it now (call id) */
#define TDN_TRACE_RESULT_SENT 5u      /* a RESULT is about to go (batch id) */
#define TDN_TRACE_RESPONSE_SENT 6u    /* a decoupled RESPONSE with a payload is about to go
                                         (batch id) */

/* CONTROL operations (aux). */
#define TDN_CONTROL_LOAD 1u
#define TDN_CONTROL_UNLOAD 2u
#define TDN_CONTROL_IS_READY 3u

typedef struct tdn_record {
  uint16_t kind;
  uint16_t flags;  /* TDN_FLAG_* where the kind has them, else 0 */
  uint32_t aux;    /* small kind-specific value */
  uint64_t id;     /* batch id where the kind has one */
  uint64_t offset; /* arena offset of the payload */
  uint64_t length; /* payload bytes */
} tdn_record;

/* ---- Rings: one per direction, single producer, single consumer --------- */

/* A consumer that finds the ring empty sets consumer_sleeping to how it will
 * sleep, re-reads tail and only then sleeps; a producer bumps tail and wakes
 * it only when consumer_sleeping is set: with a futex wake on tail
 * (TDN_SLEEP_FUTEX) or a byte on the consumer's doorbell
 * (TDN_SLEEP_DOORBELL). All accesses are sequentially consistent, so a
 * wake-up cannot be lost and the busy path makes no system call. The same
 * protocol guards a full ring with head and producer_sleeping (futex only). */
#define TDN_SLEEP_FUTEX 1u
#define TDN_SLEEP_DOORBELL 2u
/* What a byte on the stub's doorbell says. RECORD: a record was published.
 * TICK: the stub's main thread lets the Worker's event loop turn. COMING: a
 * record is being written (the parent copies a batch's large inputs after
 * ringing): spin for it instead of sleeping again, so that the wake-up
 * overlaps the copy. SOON: a batch is likely within microseconds (another
 * instance of the model just answered, and its batches come back to back):
 * spin for it a while (TDN_SOON_SPIN_US, and only while to_stub.soon stays
 * the odd value it had when the byte woke the Worker), then sleep again.
 * The parent reads no meaning into bytes on its own. */
#define TDN_DOORBELL_RECORD 0x72u
#define TDN_DOORBELL_TICK 0x74u
#define TDN_DOORBELL_COMING 0x63u
#define TDN_DOORBELL_SOON 0x73u
#define TDN_SOON_SPIN_US 250u
typedef struct tdn_ring {
  uint32_t tail; /* records published (futex word) */
  uint32_t consumer_sleeping;
  uint32_t soon;    /* to_stub only, parent-written: odd while a TDN_DOORBELL_SOON wake-up
                       stands, even once the batch went elsewhere */
  uint8_t pad0[52]; /* keeps producer and consumer words on separate cache lines */
  uint32_t head; /* records consumed (futex word) */
  uint32_t producer_sleeping;
  uint32_t done; /* records the consumer has finished with: their payloads may be reused */
  uint8_t pad1[52];
  tdn_record records[TDN_RING_CAPACITY];
} tdn_ring;

/* The control page. Only the parent writes magic..stub_base; each ring is
 * written by its producer (tail side) and its consumer (head side). */
typedef struct tdn_control {
  uint32_t magic;
  uint32_t version;
  uint64_t window_size; /* bytes both sides have mapped (the most the region may grow to) */
  uint64_t arena_size;  /* arena bytes, both halves */
  uint32_t parent_pid;
  uint32_t reserved0;
  uint64_t stub_base; /* arena offset of the stub's half (= its size, = the parent's size) */
  uint8_t pad0[24];
  tdn_ring to_stub;
  tdn_ring to_parent;
  uint8_t reserved1[TDN_CONTROL_SIZE - 64 - 2 * sizeof(tdn_ring)];
} tdn_control;

/* ---- Payloads: arena-relative offsets throughout ------------------------ */

/* A UTF-8 string (not NUL-terminated). */
typedef struct tdn_str {
  uint64_t offset;
  uint32_t length;
  uint32_t reserved;
} tdn_str;

/* A tensor: name, TRITONSERVER_DataType, shape (int64[rank]) and data. BYTES
 * data is Triton's layout: per element a u32 length then the bytes. */
typedef struct tdn_tensor {
  tdn_str name;
  uint32_t datatype;
  uint32_t rank;
  uint64_t shape_offset;
  uint64_t data_offset; /* multiple of TDN_TENSOR_ALIGN */
  uint64_t data_size;
} tdn_tensor;

/* EXECUTE payload: a batch header then uint64 request_offsets[request_count]. */
typedef struct tdn_batch_header {
  uint32_t request_count;
  uint32_t reserved;
  uint64_t arena_used; /* first arena byte the stub may use for its results */
} tdn_batch_header;

typedef struct tdn_request {
  tdn_str id;
  tdn_str correlation_id_string; /* length 0 unless the id is a string */
  uint64_t correlation_id;       /* the numeric form, 0 when it is a string */
  uint32_t flags;                /* TRITONSERVER_RequestFlag bits */
  uint32_t input_count;
  uint64_t inputs_offset; /* tdn_tensor[input_count] */
  uint32_t requested_output_count;
  uint32_t reserved;
  uint64_t requested_outputs_offset; /* tdn_str[requested_output_count] */
  tdn_str parameters_json;           /* JSON array of {key, type, value}; length 0: none */
  uint64_t timeout_us;               /* the request's timeout in microseconds; 0: none */
} tdn_request;

/* RESULT payload: a result header pointing at one tdn_response per request,
 * in request order. */
typedef struct tdn_result_header {
  uint32_t response_count;
  uint32_t reserved;
  uint64_t responses_offset;
} tdn_result_header;

#define TDN_STATUS_OK 0u
#define TDN_STATUS_ERROR 1u

/* tdn_response flags. */
#define TDN_RESPONSE_RESCHEDULE 1u /* no response: release the request with RESCHEDULE (status
                                      OK, no outputs, no parameters) */

typedef struct tdn_response {
  uint32_t status;     /* TDN_STATUS_* */
  uint32_t error_code; /* TRITONSERVER_Error_Code when status is ERROR */
  tdn_str error_message;
  uint32_t output_count;
  uint32_t flags; /* TDN_RESPONSE_* bits */
  uint64_t outputs_offset; /* tdn_tensor[output_count] */
  tdn_str parameters_json; /* JSON array of {key, type, value}; length 0: none */
} tdn_response;

/* BLS_REQUEST payload: an inference request to another model. */
typedef struct tdn_bls_request {
  tdn_str model_name;
  int64_t model_version; /* -1: the server's choice */
  tdn_str id;
  tdn_str correlation_id_string; /* length 0 unless the id is a string */
  uint64_t correlation_id;
  uint32_t flags; /* TRITONSERVER_RequestFlag bits */
  uint32_t input_count;
  uint64_t inputs_offset; /* tdn_tensor[input_count] */
  uint32_t requested_output_count;
  uint32_t reserved;
  uint64_t requested_outputs_offset; /* tdn_str[requested_output_count] */
  uint64_t timeout_us;               /* 0: none */
  tdn_str parameters_json;           /* as in tdn_request */
} tdn_bls_request;

/* A model file given with a LOAD (Triton's "file:<path>" load parameter). */
typedef struct tdn_control_file {
  tdn_str path;         /* relative to the model's directory, e.g. "1/model.ts" */
  uint64_t data_offset; /* the file's bytes, inside the stub's half */
  uint64_t data_size;
} tdn_control_file;

/* CONTROL payload: which model a model-control call is about, and how. */
typedef struct tdn_control_request {
  tdn_str model_name;
  int64_t model_version; /* IS_READY only; -1: the server's choice */
  tdn_str config;        /* LOAD only: configuration JSON to load with; length 0: none */
  uint64_t files_offset; /* LOAD only: tdn_control_file[file_count] (needs a config) */
  uint32_t file_count;
  uint32_t flags; /* UNLOAD only: TDN_CONTROL_FLAG_* */
} tdn_control_request;

/* METRICS payload: this header, then family_count families, metric_count
 * metrics, update_count updates, then the deleted metric ids and deleted
 * family ids (u64 each), packed without padding (WIRE_FORMAT.md, "Metric
 * batches"):
 *   family: u64 id, u32 TRITONSERVER_MetricKind, u32 name length,
 *           u32 description length, the name, the description
 *   metric: u64 id, u64 family id, u32 label count, u32 bucket count
 *           (TDN_METRICS_NO_BUCKETS: none), per label u32 name length,
 *           u32 value length, the name, the value; then f64 buckets
 *   update: u64 metric id, u32 TDN_METRIC_OP_*, u32 reserved, f64 value */
typedef struct tdn_metrics_header {
  uint32_t family_count;
  uint32_t metric_count;
  uint32_t update_count;
  uint32_t deleted_metric_count;
  uint32_t deleted_family_count;
  uint32_t reserved;
} tdn_metrics_header;

#define TDN_METRICS_NO_BUCKETS 0xFFFFFFFFu
#define TDN_METRIC_OP_INC 1u
#define TDN_METRIC_OP_SET 2u
#define TDN_METRIC_OP_OBSERVE 3u

/* CONTROL flags. */
#define TDN_CONTROL_FLAG_UNLOAD_DEPENDENTS 1u /* unload the models that depend on it too */

/* Limits the parent enforces on everything the stub writes. */
#define TDN_MAX_NAME_LENGTH 1024u
#define TDN_MAX_RANK 64u
#define TDN_MAX_OUTPUTS 1024u
#define TDN_MAX_ERROR_LENGTH 65536u
#define TDN_MAX_LOG_LENGTH 1024u
#define TDN_MAX_CONTROL_FILES 1024u         /* files given with one LOAD */
#define TDN_MAX_CONTROL_PATH_LENGTH 4096u   /* bytes of one file's path */
#define TDN_MAX_CONTROL_CONFIG_LENGTH 1048576u /* bytes of a LOAD's configuration JSON */

/* Layout checks: TypeScript hard-codes these offsets. */
_Static_assert(sizeof(tdn_record) == 32, "tdn_record layout");
_Static_assert(sizeof(tdn_ring) == 128 + 32 * TDN_RING_CAPACITY, "tdn_ring layout");
_Static_assert(offsetof(tdn_ring, head) == 64, "tdn_ring layout");
_Static_assert(offsetof(tdn_control, to_stub) == 64, "tdn_control layout");
_Static_assert(offsetof(tdn_control, to_parent) == 64 + sizeof(tdn_ring), "tdn_control layout");
_Static_assert(sizeof(tdn_control) <= TDN_CONTROL_SIZE, "control page overflow");
_Static_assert(sizeof(tdn_control) == TDN_CONTROL_SIZE, "tdn_control layout");
_Static_assert(sizeof(tdn_str) == 16, "tdn_str layout");
_Static_assert(sizeof(tdn_tensor) == 48, "tdn_tensor layout");
_Static_assert(sizeof(tdn_batch_header) == 16, "tdn_batch_header layout");
_Static_assert(sizeof(tdn_request) == 96, "tdn_request layout");
_Static_assert(sizeof(tdn_result_header) == 16, "tdn_result_header layout");
_Static_assert(sizeof(tdn_response) == 56, "tdn_response layout");
_Static_assert(sizeof(tdn_control_request) == 56, "tdn_control_request layout");
_Static_assert(sizeof(tdn_control_file) == 32, "tdn_control_file layout");
_Static_assert(sizeof(tdn_bls_request) == 120, "tdn_bls_request layout");
_Static_assert(sizeof(tdn_metrics_header) == 24, "tdn_metrics_header layout");
_Static_assert(offsetof(tdn_ring, done) == 72, "tdn_ring layout");
_Static_assert(offsetof(tdn_control, stub_base) == 32, "tdn_control layout");

#endif /* TDN_WIRE_H */
