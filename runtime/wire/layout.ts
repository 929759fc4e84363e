/**
 * The wire format's numbers, mirrored from `ffi/include/tdn_wire.h` under the
 * same names (the C `TDN_` prefix dropped). That header is the source of
 * truth; `tests/wire/` checks both sides against the same golden bytes.
 *
 * Struct offsets are byte offsets from the start of the struct; all integers
 * are little-endian.
 *
 * @example Locate the to_stub ring's tail word
 * ```ts
 * import { CONTROL, RING } from "./layout.ts";
 *
 * const tailByteOffset = CONTROL.TO_STUB + RING.TAIL;
 * console.log(tailByteOffset); // 64
 * ```
 *
 * @module
 */

/** `TDN_WIRE_MAGIC`: "TDN1" read as a little-endian u32. */
export const WIRE_MAGIC = 0x314e4454;
/** `TDN_WIRE_VERSION`. */
export const WIRE_VERSION = 3;
/** `TDN_STUB_REGION_FD`: the descriptor the stub inherits the region as. */
export const STUB_REGION_FD = 3;

/** `TDN_STUB_DOORBELL_FD`: the stub sleeps reading its doorbell here. */
export const STUB_DOORBELL_FD = 0;

/** `TDN_PARENT_DOORBELL_FD`: the stub rings the parent by writing a byte here. */
export const PARENT_DOORBELL_FD = 1;

/** `TDN_STUB_TICK_FD`: the stub main thread's writer of the stub's doorbell. */
export const STUB_TICK_FD = 5;

/**
 * `TDN_DOORBELL_*`: bytes on the stub's doorbell: a producer's record, the
 * main thread's tick that lets the event loop of a Worker asleep on it
 * turn, or the parent's word that a record is on its way or likely soon
 * (ffi/src/siblings.h). The parent reads no meaning into the bytes on its
 * own doorbell.
 */
export const DOORBELL_BYTE = {
  /** A record was published. */
  RECORD: 0x72,
  /** Time for the sleeping Worker's timers. */
  TICK: 0x74,
  /** A record is being written (large inputs being copied): spin for it. */
  COMING: 0x63,
  /** A batch is likely within microseconds: spin for it a while ({@linkcode SOON_SPIN_US}). */
  SOON: 0x73,
} as const;

/** `TDN_SOON_SPIN_US`: how long a Worker woken by `DOORBELL_BYTE.SOON` spins for its batch. */
export const SOON_SPIN_US = 250;

/** `TDN_SLEEP_*`: how a consumer sleeps, stored in `consumer_sleeping`. */
export const SLEEP = {
  /** A futex wait on `tail`: wake it with a futex wake. */
  FUTEX: 1,
  /** A read of its doorbell pipe: wake it with a byte there. */
  DOORBELL: 2,
} as const;
/** `TDN_CONTROL_SIZE`: bytes of the control page; the arena starts after it. */
export const CONTROL_SIZE = 4096;
/** `TDN_TENSOR_ALIGN`: tensor data in the arena starts on this boundary. */
export const TENSOR_ALIGN = 64;
/** `TDN_RING_CAPACITY`: records per ring; indices are free-running u32 counters. */
export const RING_CAPACITY = 32;

/** `TDN_MSG_*`: record kinds. Parent -> stub below 64, stub -> parent from 64. */
export const MSG = {
  /** `TDN_MSG_INIT`: payload is the UTF-8 JSON init arguments. */
  INIT: 1,
  /** `TDN_MSG_EXECUTE`: id is the batch id; payload is a `tdn_batch_header`. */
  EXECUTE: 2,
  /** `TDN_MSG_FINALIZE`: run finalize, answer FINALIZED, exit. */
  FINALIZE: 4,
  /** `TDN_MSG_CANCEL`: id is the batch id, aux the request index Triton cancelled. */
  CANCEL: 5,
  /** `TDN_MSG_BLS_RESPONSE`: id is the call id; flags FINAL; payload a `tdn_response` or none. */
  BLS_RESPONSE: 6,
  /** `TDN_MSG_CONTROL_DONE`: id is the call id; aux 0 ok or an error code; payload UTF-8 text. */
  CONTROL_DONE: 7,
  /** `TDN_MSG_INSTANCE`: after CONFIG; payload the instance identity and final configuration (JSON). */
  INSTANCE: 8,
  /** `TDN_MSG_IS_READY`: id a probe id (nonzero); ask the model's `isReady()`. */
  IS_READY: 9,
  /** `TDN_MSG_READY`: initialize succeeded; aux `READY_FLAG` bits. */
  READY: 64,
  /** `TDN_MSG_ERROR`: id is the batch id or 0; aux an error code; payload UTF-8 text. */
  ERROR: 65,
  /** `TDN_MSG_RESULT`: id is the batch id; payload is a `tdn_result_header`. */
  RESULT: 66,
  /** `TDN_MSG_FINALIZED`: finalize returned (aux 0) or threw (aux 1). */
  FINALIZED: 68,
  /** `TDN_MSG_LOG`: aux a `TRITONSERVER_LogLevel`; payload UTF-8 text (at most `MAX_LOG_LENGTH` bytes). */
  LOG: 69,
  /** `TDN_MSG_RESPONSE`: decoupled; id the batch id, aux the request index, flags FINAL; payload a `tdn_response` or none. */
  RESPONSE: 70,
  /** `TDN_MSG_EXECUTE_DONE`: decoupled; id the batch id whose `execute()` settled. */
  EXECUTE_DONE: 71,
  /** `TDN_MSG_METRICS`: payload a UTF-8 JSON batch of metric operations. */
  METRICS: 72,
  /** `TDN_MSG_BLS_REQUEST`: id a call id (nonzero); payload a `tdn_bls_request`. */
  BLS_REQUEST: 73,
  /** `TDN_MSG_BLS_CANCEL`: id the call id. */
  BLS_CANCEL: 74,
  /** `TDN_MSG_CONTROL`: id a call id; aux a `CONTROL_OP`; payload a `tdn_control_request`. */
  CONTROL: 75,
  /** `TDN_MSG_CONFIG`: auto-completion; payload the completed configuration JSON, or none. */
  CONFIG: 76,
  /** `TDN_MSG_TRACE`: tracing only; aux a `TRACE_EVENT`, id its realtime ns, offset its batch or call id. */
  TRACE: 77,
  /** `TDN_MSG_PROGRESS`: a starting stub is alive; aux a `PROGRESS_PHASE`; no payload. */
  PROGRESS: 78,
  /** `TDN_MSG_READINESS`: id the IS_READY probe id; aux 0 ready, 1 not; payload a UTF-8 reason or none. */
  READINESS: 79,
} as const;

/** `TDN_TRACE_*`: what a TRACE record stamps (the Worker's hops, when the parent traces). */
export const TRACE_EVENT = {
  /** `TDN_TRACE_EXECUTE_TAKEN`: an EXECUTE was taken from `to_stub`. */
  EXECUTE_TAKEN: 1,
  /** `TDN_TRACE_BLS_SENT`: a BLS_REQUEST is about to go. */
  BLS_SENT: 2,
  /** `TDN_TRACE_BLS_ANSWER_TAKEN`: a BLS_RESPONSE was taken from `to_stub`. */
  BLS_ANSWER_TAKEN: 3,
  /** `TDN_TRACE_BLS_DELIVERED`: its outputs are copied; the model gets it now. */
  BLS_DELIVERED: 4,
  /** `TDN_TRACE_RESULT_SENT`: a RESULT is about to go. */
  RESULT_SENT: 5,
  /** `TDN_TRACE_RESPONSE_SENT`: a decoupled RESPONSE with a payload is about to go. */
  RESPONSE_SENT: 6,
} as const;

/**
 * `TDN_PROGRESS_*`: what a starting stub is doing (PROGRESS's aux). The
 * parent's start timeout counts from the last record it heard.
 */
export const PROGRESS_PHASE = {
  /** `TDN_PROGRESS_STARTED`: the main thread runs and has read INIT. */
  STARTED: 1,
  /** `TDN_PROGRESS_CHECKING`: a type check runs (or waits for another of the same sources); every second. */
  CHECKING: 2,
  /** `TDN_PROGRESS_LOADING`: the Worker imports the model. */
  LOADING: 3,
  /** `TDN_PROGRESS_INITIALIZING`: the model's `initialize` runs. */
  INITIALIZING: 4,
} as const;

/** `TDN_READY_*`: READY aux bits. */
export const READY_FLAG = {
  /** `TDN_READY_HAS_IS_READY`: the model has an `isReady()` hook. */
  HAS_IS_READY: 1,
} as const;

/** `TDN_FLAG_*`: record flags. */
export const RECORD_FLAG = {
  /** `TDN_FLAG_FINAL`: the last RESPONSE of a request, or BLS_RESPONSE of a call. */
  FINAL: 1,
  /**
   * `TDN_FLAG_CLOSED`: on CANCEL, the parent has ended the request itself;
   * on a RESPONSE (alone, length 0), the stub's acknowledgement, its last
   * record for that request.
   */
  CLOSED: 2,
  /** `TDN_FLAG_RESCHEDULE`: RESPONSE (length 0, never FINAL): release the request with RESCHEDULE. */
  RESCHEDULE: 4,
} as const;

/** `TDN_CONTROL_*`: CONTROL operations. */
export const CONTROL_OP = {
  /** `TDN_CONTROL_LOAD`. */
  LOAD: 1,
  /** `TDN_CONTROL_UNLOAD`. */
  UNLOAD: 2,
  /** `TDN_CONTROL_IS_READY`. */
  IS_READY: 3,
} as const;

/** `TRITONSERVER_LogLevel`, for `LOG` records. */
export const LOG_LEVEL = {
  INFO: 0,
  WARN: 1,
  ERROR: 2,
  VERBOSE: 3,
} as const;

/** `FINALIZED` aux values. */
export const FINALIZED_AUX = {
  /** `finalize()` returned (or the model has none). */
  OK: 0,
  /** `finalize()` threw. */
  THREW: 1,
} as const;

/** `tdn_record`: one 32-byte message on a ring. */
export const RECORD = {
  /** u16 kind (`MSG`). */
  KIND: 0,
  /** u16 `RECORD_FLAG` bits where the kind has them, else 0. */
  FLAGS: 2,
  /** u32 small kind-specific value. */
  AUX: 4,
  /** u64 batch id where the kind has one. */
  ID: 8,
  /** u64 arena offset of the payload. */
  OFFSET: 16,
  /** u64 payload bytes. */
  LENGTH: 24,
  /** `sizeof(tdn_record)`. */
  SIZE: 32,
} as const;

/** `tdn_ring`: one direction, single producer, single consumer. */
export const RING = {
  /** u32 records published (futex word). */
  TAIL: 0,
  /** u32 set by a consumer about to sleep on `TAIL`. */
  CONSUMER_SLEEPING: 4,
  /** u32, `to_stub` only: odd while a `DOORBELL_BYTE.SOON` wake-up stands; even once the parent calls it off. */
  SOON: 8,
  /** u32 records consumed (futex word); on its own cache line. */
  HEAD: 64,
  /** u32 set by a producer about to sleep on `HEAD` (ring full). */
  PRODUCER_SLEEPING: 68,
  /** u32 records the consumer has finished with: their payloads may be reused. */
  DONE: 72,
  /** `tdn_record records[TDN_RING_CAPACITY]`. */
  RECORDS: 128,
  /** `sizeof(tdn_ring)`. */
  SIZE: 128 + RECORD.SIZE * RING_CAPACITY,
} as const;

/** `tdn_control`: the control page at the start of the region. */
export const CONTROL = {
  /** u32 `WIRE_MAGIC`. */
  MAGIC: 0,
  /** u32 `WIRE_VERSION`. */
  VERSION: 4,
  /** u64 bytes both sides have mapped (the most the region may grow to). */
  WINDOW_SIZE: 8,
  /** u64 arena bytes, both halves. */
  ARENA_SIZE: 16,
  /** u32 the parent's process id. */
  PARENT_PID: 24,
  /** u32 reserved. */
  RESERVED0: 28,
  /** u64 arena offset of the stub's half (its size, and the parent's). */
  STUB_BASE: 32,
  /** `tdn_ring to_stub` (parent -> stub). */
  TO_STUB: 64,
  /** `tdn_ring to_parent` (stub -> parent). */
  TO_PARENT: 64 + RING.SIZE,
  /** `sizeof(tdn_control)`. */
  SIZE: 4096,
} as const;

/** `tdn_str`: a UTF-8 string in the arena, not NUL-terminated. */
export const STR = {
  /** u64 arena offset. */
  OFFSET: 0,
  /** u32 bytes. */
  LENGTH: 8,
  /** u32 reserved. */
  RESERVED: 12,
  /** `sizeof(tdn_str)`. */
  SIZE: 16,
} as const;

/** `tdn_tensor`: name, datatype, shape (int64[rank]) and data. */
export const TENSOR = {
  /** `tdn_str` name. */
  NAME: 0,
  /** u32 `TRITONSERVER_DataType`. */
  DATATYPE: 16,
  /** u32 number of dimensions. */
  RANK: 20,
  /** u64 arena offset of int64[rank]. */
  SHAPE_OFFSET: 24,
  /** u64 arena offset of the data, a multiple of `TENSOR_ALIGN`. */
  DATA_OFFSET: 32,
  /** u64 data bytes. */
  DATA_SIZE: 40,
  /** `sizeof(tdn_tensor)`. */
  SIZE: 48,
} as const;

/** `tdn_batch_header`: the EXECUTE payload, followed by u64 request_offsets[]. */
export const BATCH_HEADER = {
  /** u32 requests in the batch. */
  REQUEST_COUNT: 0,
  /** u32 reserved. */
  RESERVED: 4,
  /** u64 first arena byte the stub may use for its results. */
  ARENA_USED: 8,
  /** `sizeof(tdn_batch_header)`; the u64 request offsets follow. */
  SIZE: 16,
} as const;

/** `tdn_request`: one inference request of a batch. */
export const REQUEST = {
  /** `tdn_str` request id. */
  ID: 0,
  /** `tdn_str` correlation id when it is a string (length 0 otherwise). */
  CORRELATION_ID_STRING: 16,
  /** u64 numeric correlation id (0 when it is a string). */
  CORRELATION_ID: 32,
  /** u32 `TRITONSERVER_RequestFlag` bits. */
  FLAGS: 40,
  /** u32 number of inputs. */
  INPUT_COUNT: 44,
  /** u64 arena offset of `tdn_tensor[input_count]`. */
  INPUTS_OFFSET: 48,
  /** u32 number of requested output names (0: all outputs). */
  REQUESTED_OUTPUT_COUNT: 56,
  /** u32 reserved. */
  RESERVED: 60,
  /** u64 arena offset of `tdn_str[requested_output_count]`. */
  REQUESTED_OUTPUTS_OFFSET: 64,
  /** `tdn_str` request parameters: a JSON array of `{key, type, value}` (length 0: none). */
  PARAMETERS_JSON: 72,
  /** u64 the request's timeout in microseconds (0: none). */
  TIMEOUT_US: 88,
  /** `sizeof(tdn_request)`. */
  SIZE: 96,
} as const;

/** `tdn_result_header`: the RESULT payload. */
export const RESULT_HEADER = {
  /** u32 responses (one per request, in order). */
  RESPONSE_COUNT: 0,
  /** u32 reserved. */
  RESERVED: 4,
  /** u64 arena offset of `tdn_response[response_count]`. */
  RESPONSES_OFFSET: 8,
  /** `sizeof(tdn_result_header)`. */
  SIZE: 16,
} as const;

/** `tdn_response`: the outcome of one request. */
export const RESPONSE = {
  /** u32 `STATUS`. */
  STATUS: 0,
  /** u32 `TRITONSERVER_Error_Code` when the status is ERROR. */
  ERROR_CODE: 4,
  /** `tdn_str` error message. */
  ERROR_MESSAGE: 8,
  /** u32 number of outputs. */
  OUTPUT_COUNT: 24,
  /** u32 `RESPONSE_FLAG` bits. */
  FLAGS: 28,
  /** u64 arena offset of `tdn_tensor[output_count]`. */
  OUTPUTS_OFFSET: 32,
  /** `tdn_str` response parameters: a JSON array of `{key, type, value}` (length 0: none). */
  PARAMETERS_JSON: 40,
  /** `sizeof(tdn_response)`. */
  SIZE: 56,
} as const;

/** `tdn_bls_request`: the BLS_REQUEST payload, a request to another model. */
export const BLS_REQUEST = {
  /** `tdn_str` target model name. */
  MODEL_NAME: 0,
  /** i64 target version, -1 for the server's choice. */
  MODEL_VERSION: 16,
  /** `tdn_str` request id. */
  ID: 24,
  /** `tdn_str` correlation id when it is a string. */
  CORRELATION_ID_STRING: 40,
  /** u64 numeric correlation id. */
  CORRELATION_ID: 56,
  /** u32 `TRITONSERVER_RequestFlag` bits. */
  FLAGS: 64,
  /** u32 number of inputs. */
  INPUT_COUNT: 68,
  /** u64 arena offset of `tdn_tensor[input_count]`. */
  INPUTS_OFFSET: 72,
  /** u32 number of requested output names (0: all). */
  REQUESTED_OUTPUT_COUNT: 80,
  /** u32 reserved. */
  RESERVED: 84,
  /** u64 arena offset of `tdn_str[requested_output_count]`. */
  REQUESTED_OUTPUTS_OFFSET: 88,
  /** u64 timeout in microseconds, 0 for none. */
  TIMEOUT_US: 96,
  /** `tdn_str` parameters JSON, as in `tdn_request`. */
  PARAMETERS_JSON: 104,
  /** `sizeof(tdn_bls_request)`. */
  SIZE: 120,
} as const;

/** `tdn_control_request`: the CONTROL payload. */
export const CONTROL_REQUEST = {
  /** `tdn_str` model name. */
  MODEL_NAME: 0,
  /** i64 version (IS_READY), -1 for the server's choice. */
  MODEL_VERSION: 16,
  /** `tdn_str` configuration JSON (LOAD), length 0 for none. */
  CONFIG: 24,
  /** u64 arena offset of `tdn_control_file[file_count]` (LOAD). */
  FILES_OFFSET: 40,
  /** u32 number of files (LOAD; only with a configuration). */
  FILE_COUNT: 48,
  /** u32 `CONTROL_FLAG` bits (UNLOAD). */
  FLAGS: 52,
  /** `sizeof(tdn_control_request)`. */
  SIZE: 56,
} as const;

/** `tdn_metrics_header`: the start of a METRICS payload (five counts). */
export const METRICS_HEADER = {
  /** u32 new families. */
  FAMILY_COUNT: 0,
  /** u32 new metrics. */
  METRIC_COUNT: 4,
  /** u32 updates. */
  UPDATE_COUNT: 8,
  /** u32 deleted metric ids. */
  DELETED_METRIC_COUNT: 12,
  /** u32 deleted family ids. */
  DELETED_FAMILY_COUNT: 16,
  /** u32, 0. */
  RESERVED: 20,
  /** `sizeof(tdn_metrics_header)`. */
  SIZE: 24,
} as const;

/** `TDN_METRICS_NO_BUCKETS`: a METRICS metric's bucket count when it has none. */
export const METRICS_NO_BUCKETS = 0xFFFFFFFF;

/** `TDN_METRIC_OP_*`: what a METRICS update does. */
export const METRIC_OP = {
  /** `TDN_METRIC_OP_INC`: add the value (counters, gauges). */
  INC: 1,
  /** `TDN_METRIC_OP_SET`: set the value (gauges). */
  SET: 2,
  /** `TDN_METRIC_OP_OBSERVE`: observe the value (histograms). */
  OBSERVE: 3,
} as const;

/** `TRITONSERVER_MetricKind`: a METRICS family's kind. */
export const METRIC_KIND = {
  /** `TRITONSERVER_METRIC_KIND_COUNTER`. */
  COUNTER: 0,
  /** `TRITONSERVER_METRIC_KIND_GAUGE`. */
  GAUGE: 1,
  /** `TRITONSERVER_METRIC_KIND_HISTOGRAM`. */
  HISTOGRAM: 2,
} as const;

/** `tdn_control_file`: a model file given with a LOAD. */
export const CONTROL_FILE = {
  /** `tdn_str` path, relative to the model's directory. */
  PATH: 0,
  /** u64 arena offset of the file's bytes (in the stub's half). */
  DATA_OFFSET: 16,
  /** u64 bytes. */
  DATA_SIZE: 24,
  /** `sizeof(tdn_control_file)`. */
  SIZE: 32,
} as const;

/** `TDN_CONTROL_FLAG_*`: CONTROL request flags. */
export const CONTROL_FLAG = {
  /** `TDN_CONTROL_FLAG_UNLOAD_DEPENDENTS`: unload the models that depend on it too. */
  UNLOAD_DEPENDENTS: 1,
} as const;

/** `TDN_MAX_CONTROL_FILES`: most files one LOAD gives. */
export const MAX_CONTROL_FILES = 1024;
/** `TDN_MAX_CONTROL_PATH_LENGTH`: longest file path of a LOAD, in bytes. */
export const MAX_CONTROL_PATH_LENGTH = 4096;
/** `TDN_MAX_CONTROL_CONFIG_LENGTH`: longest configuration JSON of a LOAD, in bytes. */
export const MAX_CONTROL_CONFIG_LENGTH = 1048576;

/** `TDN_RESPONSE_*`: `tdn_response` flags. */
export const RESPONSE_FLAG = {
  /** `TDN_RESPONSE_RESCHEDULE`: no response; release the request with RESCHEDULE. */
  RESCHEDULE: 1,
} as const;

/** `TDN_STATUS_*`: a response's status. */
export const STATUS = {
  /** `TDN_STATUS_OK`. */
  OK: 0,
  /** `TDN_STATUS_ERROR`. */
  ERROR: 1,
} as const;

/** `TDN_MAX_NAME_LENGTH`: longest tensor name in bytes. */
export const MAX_NAME_LENGTH = 1024;
/** `TDN_MAX_RANK`: most dimensions of a tensor. */
export const MAX_RANK = 64;
/** `TDN_MAX_OUTPUTS`: most outputs of one response. */
export const MAX_OUTPUTS = 1024;
/** `TDN_MAX_ERROR_LENGTH`: longest error message in bytes. */
export const MAX_ERROR_LENGTH = 65536;
/** `TDN_MAX_LOG_LENGTH`: longest LOG line in bytes. */
export const MAX_LOG_LENGTH = 1024;

/** `TRITONSERVER_Error_Code` values (ffi/include/triton_api.h). */
export const ERROR_CODE = {
  /** `TRITONSERVER_ERROR_UNKNOWN`. */
  UNKNOWN: 0,
  /** `TRITONSERVER_ERROR_INTERNAL`. */
  INTERNAL: 1,
  /** `TRITONSERVER_ERROR_NOT_FOUND`. */
  NOT_FOUND: 2,
  /** `TRITONSERVER_ERROR_INVALID_ARG`. */
  INVALID_ARG: 3,
  /** `TRITONSERVER_ERROR_UNAVAILABLE`. */
  UNAVAILABLE: 4,
  /** `TRITONSERVER_ERROR_UNSUPPORTED`. */
  UNSUPPORTED: 5,
  /** `TRITONSERVER_ERROR_ALREADY_EXISTS`. */
  ALREADY_EXISTS: 6,
  /** `TRITONSERVER_ERROR_CANCELLED`. */
  CANCELLED: 7,
} as const;

/** `TRITONSERVER_DataType` values (ffi/include/triton_api.h). */
export const DATATYPE = {
  /** `TRITONSERVER_TYPE_INVALID`. */
  INVALID: 0,
  /** `TRITONSERVER_TYPE_BOOL` (one byte per element). */
  BOOL: 1,
  /** `TRITONSERVER_TYPE_UINT8`. */
  UINT8: 2,
  /** `TRITONSERVER_TYPE_UINT16`. */
  UINT16: 3,
  /** `TRITONSERVER_TYPE_UINT32`. */
  UINT32: 4,
  /** `TRITONSERVER_TYPE_UINT64`. */
  UINT64: 5,
  /** `TRITONSERVER_TYPE_INT8`. */
  INT8: 6,
  /** `TRITONSERVER_TYPE_INT16`. */
  INT16: 7,
  /** `TRITONSERVER_TYPE_INT32`. */
  INT32: 8,
  /** `TRITONSERVER_TYPE_INT64`. */
  INT64: 9,
  /** `TRITONSERVER_TYPE_FP16`. */
  FP16: 10,
  /** `TRITONSERVER_TYPE_FP32`. */
  FP32: 11,
  /** `TRITONSERVER_TYPE_FP64`. */
  FP64: 12,
  /** `TRITONSERVER_TYPE_BYTES`: per element a u32 length, then the bytes. */
  BYTES: 13,
  /** `TRITONSERVER_TYPE_BF16`. */
  BF16: 14,
} as const;

/**
 * Bytes per element of each fixed-size datatype, indexed by its code; 0 for
 * INVALID and for BYTES (variable length).
 */
export const DATATYPE_ELEMENT_SIZE: readonly number[] = Object.freeze([
  0, // INVALID
  1, // BOOL
  1, // UINT8
  2, // UINT16
  4, // UINT32
  8, // UINT64
  1, // INT8
  2, // INT16
  4, // INT32
  8, // INT64
  2, // FP16
  4, // FP32
  8, // FP64
  0, // BYTES
  2, // BF16
]);

/**
 * Rounds `offset` up to the next multiple of `TENSOR_ALIGN`.
 *
 * @param offset A non-negative byte offset.
 * @returns The aligned offset.
 */
export function alignUp(offset: number): number {
  return Math.ceil(offset / TENSOR_ALIGN) * TENSOR_ALIGN;
}
