/*
 * supervisor.h: the life of one instance's stub. It owns the region, the
 * channel and the process, runs the INIT handshake, carries one batch at a
 * time (EXECUTE -> RESULT or ERROR, with LOG, METRICS and CANCEL beside)
 * while watching the process and the deadline, and restarts a failed stub
 * with backoff.
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
#include "channel.h"
#include "region.h"
#include "stub_log.h"
#include "stub_process.h"
#include "triton_api.h"

/* How a wait for the stub ended. */
typedef enum tdn_wait_outcome {
  WAIT_RECORD,   /* a record other than LOG, PROGRESS (or METRICS, when handled) arrived */
  WAIT_DEADLINE, /* the deadline passed first */
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
  /* METRICS records, handled where they arrive (may be NULL). */
  void (*on_metrics)(void* context, const tdn_record* record);
  /* READINESS records, checked, with their reason copied out of the arena
   * (`length` bytes, not NUL-terminated), handled where they arrive (may be
   * NULL: they are dropped). */
  void (*on_readiness)(
      void* context, uint64_t probe, bool ready, const char* reason, size_t length);
  /* Records of a decoupled model that arrive during finalize (RESPONSE,
   * EXECUTE_DONE): true when handled (may be NULL). */
  bool (*on_record)(void* context, const tdn_record* record);
  void* handler_context;
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
  uint64_t batch_id; /* set by tdn_supervisor_execute */
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
  tdn_arena_alloc parent_half; /* the parent's half of the arena */
  tdn_cancel_watch* watch;     /* during tdn_supervisor_execute */
  char* proposed_config;       /* auto-completion: the stub's CONFIG payload, NUL-terminated */
  size_t proposed_config_length;
  uint64_t heard_ns;       /* when the stub last sent PROGRESS, LOG or METRICS */
  uint32_t progress_phase; /* the last PROGRESS's TDN_PROGRESS_* (0: none yet) */
  bool model_has_is_ready; /* the running stub's READY said so (TDN_READY_HAS_IS_READY) */
} tdn_supervisor;

/* What the stub answered to a batch. */
typedef struct tdn_reply {
  uint16_t kind;            /* TDN_MSG_RESULT or TDN_MSG_ERROR */
  uint64_t offset, length;  /* RESULT: the tdn_result_header's place (unchecked) */
  TRITONSERVER_Error_Code code; /* ERROR */
  char* message;            /* ERROR: sanitized copy; free with tdn_reply_free */
} tdn_reply;

void tdn_supervisor_init(tdn_supervisor* supervisor, const tdn_supervisor_config* config);

/* First start, at instance load: no backoff; the error is the load error
 * (for a stub that reported ERROR, its text verbatim). */
TRITONSERVER_Error* tdn_supervisor_start(tdn_supervisor* supervisor);

/* Whether the stub runs: started and not exited (a look, not a reap). Safe
 * from any thread; `why` (may be NULL) says otherwise what became of it,
 * e.g. "exited with status 1" or "is not running". */
bool tdn_supervisor_alive(tdn_supervisor* supervisor, tdn_diag* why);

/* Before a batch: restarts a stub that died or was stopped, honouring the
 * backoff. Fails with UNAVAILABLE naming the instance while it cannot. */
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

/* Sends the batch already encoded at arena [offset, offset + length) and
 * waits for its RESULT or ERROR, forwarding cancellations of `watch`'s
 * requests (may be NULL). An error return means the stub failed (died,
 * missed the deadline, broke the protocol): it has been stopped and the
 * message says so, naming the instance. After handling the reply, call
 * tdn_supervisor_batch_done. */
TRITONSERVER_Error* tdn_supervisor_execute(
    tdn_supervisor* supervisor, uint64_t offset, uint64_t length, tdn_cancel_watch* watch,
    tdn_reply* reply);

/* The reply has been handled: its payload's space may be reused. */
static inline void tdn_supervisor_batch_done(tdn_supervisor* supervisor)
{
  if (supervisor->pid > 0) {
    tdn_channel_mark_done(&supervisor->channel);
  }
}

void tdn_reply_free(tdn_reply* reply);

/* For the decoupled pump (decoupled.h): the building blocks of execute. */

/* Waits up to deadline_ns for a record (LOG and METRICS handled inside). */
tdn_wait_outcome tdn_supervisor_await(
    tdn_supervisor* supervisor, uint64_t deadline_ns, tdn_record* record, tdn_diag* why);

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
