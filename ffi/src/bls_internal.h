/*
 * bls_internal.h: the state bls.c, bls_answers.c and bls_control.c share
 * (bls.h describes the whole). One mutex, `lock`, guards all of it; it is
 * taken before the supervisor's lock and never held while calling into
 * Triton, whose calls may come back into our callbacks.
 */
#ifndef TDN_BLS_INTERNAL_H
#define TDN_BLS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bls.h"
#include "bls_payload.h"
#include "bls_request.h"

/* The region of a stub that is gone, kept mapped until the calls it made
 * are finished (Triton reads their inputs and writes their outputs there). */
typedef struct tdn_bls_mapping {
  tdn_region region;
  uint32_t refs;
} tdn_bls_mapping;

typedef struct tdn_bls_call {
  tdn_bls* bls;
  uint64_t id;    /* the stub's call id */
  uint64_t epoch; /* the stub (generation) that made it */
  bool control;   /* a model-control operation, not an inference */
  TRITONSERVER_InferenceRequest* request; /* ours again once released */
  tdn_bls_spec spec; /* names and BYTES copies Triton reads until the release */
  bool final_seen;
  bool released;
  uint32_t pins; /* threads using `request` outside the lock */
  bool has_held_final;
  tdn_record held_final; /* the FINAL answer, waiting for the release */
  tdn_bls_written held_written;
  tdn_bls_mapping* mapping; /* set when its stub went away first */
  struct tdn_bls_call* next;
} tdn_bls_call;

/* An answer waiting for room on to_stub. */
typedef struct tdn_bls_answer {
  tdn_record record;
  tdn_bls_written written; /* its payload's blocks and the outputs' */
  uint64_t epoch;
  struct tdn_bls_answer* next;
} tdn_bls_answer;

struct tdn_bls {
  pthread_mutex_t lock;
  pthread_cond_t changed; /* answers queued, or the sender must stop */
  tdn_supervisor* supervisor; /* NULL once detached */
  TRITONSERVER_Server* server;
  TRITONSERVER_ResponseAllocator* allocator;
  char* instance_name;
  char* model_name;    /* the calling model */
  char* models;        /* sandbox record `models` */
  char* model_control; /* sandbox record `model_control` */
  uint32_t denials;    /* refused calls, for the log's rate limit */
  uint64_t epoch; /* bumped each time a stub is torn down */
  tdn_bls_call* calls;
  uint32_t call_count;
  tdn_bls_answer* answers; /* FIFO */
  tdn_bls_answer** answers_tail;
  pthread_t sender;
  bool sender_started;
  bool stopping;
  bool detached;
};

/* Whether the instance's model may reach `target` with `operation`
 * (TDN_CONTROL_LOAD / _UNLOAD need model_control; a call and IS_READY need
 * models). If not, logs the denial (rate-limited) and returns false. */
bool tdn_bls_may_reach(tdn_bls* bls, uint32_t operation, const char* target);

/* The message a refused model sees: names the parameter to declare, and
 * nothing about the target but its name as the model gave it. */
void tdn_bls_denial_text(
    const tdn_bls* bls, uint32_t operation, const char* target, char* text, size_t capacity);

/* With the lock held: queues an answer (taking over `written`) for the
 * sender; answers of another epoch are dropped. */
void tdn_bls_enqueue(tdn_bls* bls, const tdn_record* record, tdn_bls_written* written);

/* With the lock held: queues an error as a FINAL BLS_RESPONSE for call
 * `id`, or FINAL alone when not even that fits the arena. */
void tdn_bls_enqueue_error(
    tdn_bls* bls, uint64_t id, TRITONSERVER_Error_Code code, const char* message);

/* With the lock held: drops every queued answer (their blocks belong to a
 * stub that is gone) and, when detaching, stops the sender. */
void tdn_bls_drop_answers(tdn_bls* bls);

/* Joins the sender (without the lock), if it ever started. */
void tdn_bls_join_sender(tdn_bls* bls);

/* With the lock held: a new call of the current epoch, linked in, or NULL
 * (out of memory). */
tdn_bls_call* tdn_bls_call_add(tdn_bls* bls, uint64_t id, bool control);

/* With the lock held: unlinks and frees a call whose work is over, and
 * says whether the whole state should now be freed (detached, no call
 * left): then the caller frees it with tdn_bls_free after unlocking. */
bool tdn_bls_call_remove(tdn_bls* bls, tdn_bls_call* call);

void tdn_bls_free(tdn_bls* bls);

/* CONTROL: runs the operation on a thread of its own and answers. */
bool tdn_bls_control(tdn_bls* bls, const tdn_record* record, tdn_diag* why);

#endif /* TDN_BLS_INTERNAL_H */
