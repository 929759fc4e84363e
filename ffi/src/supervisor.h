/*
 * supervisor.h: the life of one instance's stub. It owns the region, the
 * channel and the process, runs the INIT handshake, carries one batch at a
 * time (tdn_supervisor_run_batch: the batch encoded, EXECUTE -> RESULT or
 * ERROR, the RESULT decoded; with LOG, METRICS, READINESS and CANCEL
 * beside) while watching the process, the deadline and the memory budget,
 * and restarts a failed stub with backoff. The records that arrive beside
 * a batch go straight to their modules (stub_log.h, metrics.h,
 * readiness.h, and the one side handler, bls.h), never back to the
 * instance.
 *
 * Any failure of the stub itself (death, deadline, protocol violation)
 * leaves the supervisor stopped: the stub killed and reaped, the region
 * gone. tdn_supervisor_ensure_running then starts a fresh one.
 */
#ifndef TDN_SUPERVISOR_H
#define TDN_SUPERVISOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "arena_alloc.h"
#include "batch_codec.h"
#include "channel.h"
#include "metrics.h"
#include "readiness.h"
#include "region.h"
#include "stub_log.h"
#include "stub_stderr.h"
#include "stub_process.h"
#include "triton_api.h"

/* How a wait for the stub ended. */
typedef enum tdn_wait_outcome {
  WAIT_RECORD,   /* a record other than LOG, PROGRESS (or METRICS, when handled) arrived */
  WAIT_DEADLINE, /* the deadline passed first, or tdn_supervisor_wake_waiter ended the wait */
  WAIT_DIED,     /* the stub exited */
  WAIT_BROKEN,   /* protocol violation; `why` says what */
} tdn_wait_outcome;

/* What a stub needs; the strings belong to the instance and outlive it. */
typedef struct tdn_supervisor_config {
  const char* model_name; /* for LOG lines */
  const char* model_directory; /* for the client's form of a restart's error (client_text.h) */
  const char* instance_name;
  const char* init_json;
  size_t init_json_length;
  const tdn_stub_command* command;
  const char* region_prefix;
  uint64_t window_size;   /* shm-max-byte-size */
  uint64_t initial_arena; /* shm-default-byte-size */
  uint64_t growth;        /* shm-growth-byte-size */
  uint64_t start_timeout_ms; /* longest silence of a starting stub (see await_handshake) */
  uint64_t execute_timeout_ms; /* 0: no deadline */
  bool auto_complete; /* start answers CONFIG, then waits for INSTANCE (auto_complete.h) */
  /* deno.max_heap_mb and deno.max_memory_mb: with the runtime's reserve,
   * the stub's memory budget (tdn_supervisor_check_memory). */
  uint64_t heap_mb, memory_mb;
  /* Where METRICS records are applied, copied out of the arena first (NULL:
   * dropped); a stub that is gone takes its metrics with it. */
  tdn_metrics_stub* metrics;
  /* Where READINESS records go, checked, with their reason copied out of
   * the arena (NULL: dropped); forgotten when the stub is gone. */
  tdn_readiness* readiness;
  /* Records of a decoupled model that arrive during finalize (RESPONSE,
   * EXECUTE_DONE): true when handled (may be NULL). */
  bool (*on_record)(void* context, const tdn_record* record);
  void* record_context;
  /* BLS_REQUEST, BLS_CANCEL and CONTROL (bls.h), handled where they
   * arrive, on whichever thread waits for the stub; false: the stub broke
   * the protocol (`why` says how). NULL: they are a protocol violation. */
  bool (*on_side_record)(void* context, const tdn_record* record, tdn_diag* why);
  /* The stub was killed and its region is about to go: true if the
   * handler took `region` over (it keeps the mapping for calls still in
   * Triton's hands and destroys it later). May be NULL. */
  bool (*on_teardown)(void* context, tdn_region* region);
  void* side_context;
} tdn_supervisor_config;

/* The requests of the batch in flight, watched for cancellation while the
 * parent waits for its answer. */
typedef struct tdn_cancel_watch {
  TRITONBACKEND_Request** requests; /* [count], in batch order */
  bool* sent;                       /* [count]: CANCEL already sent */
  uint32_t count;
  uint64_t batch_id; /* set when EXECUTE goes out */
} tdn_cancel_watch;

typedef struct tdn_supervisor {
  tdn_supervisor_config config;
  /* Guards parent_half and every send on to_stub: BLS answers are written
   * and sent from Triton's threads (bls.c) while the instance's own thread
   * sends EXECUTE and CANCEL. Never held while calling into Triton. */
  pthread_mutex_t lock;
  tdn_region region;
  tdn_channel channel;
  tdn_doorbells doorbells; /* the running stub's doorbells (stub_process.h) */
  pid_t pid;              /* > 0 while a stub runs */
  uint64_t last_batch_id; /* batch ids start at 1; 0 means "no batch" on the wire */
  uint32_t failed_starts; /* consecutive, for backoff */
  uint64_t retry_at_ns;
  char* last_start_error;
  tdn_stub_log log; /* LOG records: rate limit across restarts */
  tdn_stub_stderr* standard_error; /* the running stub's descriptor 2, read into the log */
  tdn_arena_alloc parent_half; /* the parent's half of the arena */
  tdn_cancel_watch* watch;     /* while a batch's answer is awaited */
  char* proposed_config;       /* auto-completion: the stub's CONFIG payload, NUL-terminated */
  size_t proposed_config_length;
  uint64_t heard_ns;       /* when the stub last sent PROGRESS, LOG or METRICS */
  uint64_t memory_checked_ns; /* when the stub's resident memory was last looked at */
  uint32_t progress_phase; /* the last PROGRESS's TDN_PROGRESS_* (0: none yet) */
  bool model_has_is_ready; /* the running stub's READY said so (TDN_READY_HAS_IS_READY) */
  bool wake_asked; /* tdn_supervisor_wake_waiter's request (atomic) */
  bool spin_asked; /* a call's last answer went out: the waiter, woken, spins (atomic) */
} tdn_supervisor;

/* What became of one batch (tdn_supervisor_run_batch). */
typedef struct tdn_batch_answer {
  /* NULL: `result` holds one checked response per request, their output
   * data in `arena`. Otherwise the whole batch failed with this error, which
   * names the instance: no stub, a batch that does not fit, the model's
   * execute threw, the stub died, missed its deadline or broke the
   * protocol, or its RESULT was unusable. The caller may take it (and set
   * it NULL); tdn_supervisor_end_batch deletes what is left. */
  TRITONSERVER_Error* error;
  tdn_result_view result;
  const uint8_t* arena;
  /* When EXECUTE went out and when the answer came (0: never sent). */
  uint64_t compute_start_ns, compute_end_ns;
  /* The supervisor's own: the payload's block, and whether a reply came. */
  uint64_t block;
  bool holds_block, replied;
} tdn_batch_answer;

void tdn_supervisor_init(tdn_supervisor* supervisor, const tdn_supervisor_config* config);

/* First start, at instance load: no backoff; the error is the load error
 * (for a stub that reported ERROR, its text verbatim). */
TRITONSERVER_Error* tdn_supervisor_start(tdn_supervisor* supervisor);

/* Whether the stub runs: started and not exited (a look, not a reap). Safe
 * from any thread; `why` (may be NULL) says otherwise what became of it,
 * e.g. "exited with status 1" or "is not running". */
bool tdn_supervisor_alive(tdn_supervisor* supervisor, tdn_diag* why);

/* Before a batch: restarts a stub that died or was stopped, honouring the
 * backoff. Fails with UNAVAILABLE naming the instance while it cannot. A
 * stub that is gone takes its metrics and its model's readiness answers
 * with it: its successor numbers its metrics from 1 and is asked afresh. */
TRITONSERVER_Error* tdn_supervisor_ensure_running(tdn_supervisor* supervisor);

/* Auto-completion: sends INSTANCE (the instance's identity and the final
 * configuration, JSON) to a stub that answered CONFIG, and waits for READY. */
TRITONSERVER_Error* tdn_supervisor_send_instance(
    tdn_supervisor* supervisor, const char* instance_json, size_t length);

/* Takes a block of `bytes` in the parent's half (committed), first freeing
 * the deferred blocks the stub is done with. */
TRITONSERVER_Error* tdn_supervisor_take(
    tdn_supervisor* supervisor, uint64_t bytes, tdn_arena_grant* grant);

/* Frees a block taken with tdn_supervisor_take. */
void tdn_supervisor_give_back(tdn_supervisor* supervisor, uint64_t handle);

static inline uint8_t* tdn_supervisor_arena(const tdn_supervisor* supervisor)
{
  return tdn_region_arena(&supervisor->region);
}

static inline uint64_t tdn_supervisor_arena_size(const tdn_supervisor* supervisor)
{
  return supervisor->region.arena_size;
}

/* Encodes `count` requests as an EXECUTE payload in a block of the
 * parent's half (batch_codec.h), taken for it: `block` holds it, `length`
 * the payload's bytes. Fails holding nothing: INVALID_ARG for a batch the
 * wire cannot describe or larger than the parent's half, UNAVAILABLE while
 * work in flight holds the space. */
TRITONSERVER_Error* tdn_supervisor_encode_batch(
    tdn_supervisor* supervisor, const tdn_request_desc* requests, uint32_t count,
    tdn_arena_grant* block, uint64_t* length);

/* One batch of a model that is not decoupled, start to end: a live stub
 * (restarted if needed), the batch's sendable requests encoded as EXECUTE
 * in the parent's half, sent, waited for (cancellations of its requests
 * forwarded, the records beside it handled as they arrive), and the RESULT
 * decoded and checked. Always fills `answer`; once the requests are
 * answered and released, call tdn_supervisor_end_batch. */
void tdn_supervisor_run_batch(
    tdn_supervisor* supervisor, tdn_collected_batch* batch, tdn_batch_answer* answer);

/* After a batch (run or not: `answer` zeroed): frees the answer, lets the
 * stub reuse the batch's space, enforces the memory budget (at once when
 * `failed`, else at most every 50 ms) and replaces a stub that failed, so
 * that the next batch finds it ready. */
void tdn_supervisor_end_batch(tdn_supervisor* supervisor, tdn_batch_answer* answer, bool failed);

/* Enforces the memory budget: a stub whose resident memory exceeds
 * deno.max_heap_mb + deno.max_memory_mb + the runtime's reserve is killed,
 * to be restarted (RLIMIT_DATA alone bounds address space, not memory).
 * Looked at no more than every 50 ms unless `now`. */
void tdn_supervisor_check_memory(tdn_supervisor* supervisor, bool now);

/* For the decoupled path and the readiness check: the building blocks of a batch. */

/* Waits up to deadline_ns for a record (LOG and METRICS handled inside).
 * With the stub's pidfd (stub_process.h: stub_exit) and no batch's
 * cancellations to watch, it sleeps to the deadline in one piece: the
 * stub's death and tdn_supervisor_wake_waiter end the sleep. Without one
 * it looks at the stub every 10 ms. */
tdn_wait_outcome tdn_supervisor_await(
    tdn_supervisor* supervisor, uint64_t deadline_ns, tdn_record* record, tdn_diag* why);

/* Ends the sleep of the thread in tdn_supervisor_await (WAIT_DEADLINE)
 * from another thread, or makes its next wait return at once. Without a
 * stub, or without a writer of the parent's doorbell
 * (doorbells.wake_parent), the waiter ends its sleep at its deadline only:
 * a caller that relies on the wake-up checks for that writer first. */
void tdn_supervisor_wake_waiter(tdn_supervisor* supervisor);

/* A tdn_sibling_wake (siblings.h): wakes the stub ahead of a likely
 * batch (TDN_DOORBELL_SOON) if it sleeps on its doorbell. Never blocks:
 * nothing happens while another thread holds the supervisor's lock. */
void tdn_supervisor_prewake(void* member);

/* A tdn_sibling_wake too: calls off that wake-up once the batch went to
 * another instance, so that the stub's Worker stops spinning for it. Never
 * blocks, as above. */
void tdn_supervisor_call_off_prewake(void* member);

/* Sends one record; false if no stub runs or it stopped consuming. */
bool tdn_supervisor_send(
    tdn_supervisor* supervisor, uint16_t kind, uint32_t aux, uint64_t id, uint64_t offset,
    uint64_t length, tdn_diag* why);

/* The same, for a record whose kind has flags. */
bool tdn_supervisor_send_record(
    tdn_supervisor* supervisor, const tdn_record* record, tdn_diag* why);

/* How tdn_supervisor_send_answer went. */
typedef enum tdn_send_status {
  TDN_SEND_OK,
  TDN_SEND_FULL,   /* the ring's share for answers is in use: retry shortly */
  TDN_SEND_FAILED, /* no stub, or it broke its ring; `why` says which */
} tdn_send_status;

/* Records TDN_RING_CAPACITY - this many unread answers may fill: the rest
 * of to_stub stays free for EXECUTE, CANCEL and FINALIZE. */
#define TDN_ANSWER_RING_RESERVE 8u

/* For answers sent from Triton's threads (BLS_RESPONSE, CONTROL_DONE):
 * sends one record unless the stub has too many unread, and on success
 * hands the `block_count` blocks of the parent's half to the stub: each is
 * freed once the stub's to_stub.done has passed the record. On failure
 * the blocks stay the caller's. */
tdn_send_status tdn_supervisor_send_answer(
    tdn_supervisor* supervisor, const tdn_record* record, const uint64_t* blocks,
    uint32_t block_count, tdn_diag* why);

/* Kills and reaps the stub and drops the region (`how`: its exit, or NULL). */
void tdn_supervisor_kill(tdn_supervisor* supervisor, tdn_diag* how);

/* Copies an ERROR record's text, checked and made printable (caller frees). */
bool tdn_supervisor_error_text(
    const tdn_supervisor* supervisor, const tdn_record* record, char** text, tdn_diag* why);

uint64_t tdn_supervisor_next_batch_id(tdn_supervisor* supervisor);

/* Unload: FINALIZE, up to 5 s for FINALIZED, then SIGKILL regardless. */
void tdn_supervisor_stop(tdn_supervisor* supervisor);

#endif /* TDN_SUPERVISOR_H */
