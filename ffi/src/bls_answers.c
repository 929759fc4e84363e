/*
 * bls_answers.c: the queue of BLS_RESPONSE and CONTROL_DONE records and
 * the thread that sends them. Answers are made on Triton's threads (and on
 * the instance's own, for requests refused at once); sending them there
 * could mean waiting for a stub that is busy computing, which would hold up
 * the target model's thread or stop the instance from reading the stub's
 * records. So an answer goes on to_stub from the thread that made it only
 * when that takes no waiting: the ring's share for answers has room
 * (TDN_ANSWER_RING_RESERVE slots always stay free for EXECUTE and CANCEL)
 * and no earlier answer is queued. Otherwise it is queued, in order, and
 * one thread per instance puts the queue on to_stub as room allows.
 * The queue cannot grow without bound: each answer holds at least one block
 * of the parent's half, and blocks run out first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bls_internal.h"
#include "clock.h"
#include "log.h"

#define PAUSE_FIRST_NS (100 * 1000ull)       /* first wait for room */
#define PAUSE_MAX_NS (2 * TDN_NS_PER_MS)     /* a busy stub is polled at most this often */

static tdn_bls_answer* pop(tdn_bls* bls)
{
  tdn_bls_answer* answer = bls->answers;
  bls->answers = answer->next;
  if (bls->answers == NULL) {
    bls->answers_tail = &bls->answers;
  }
  return answer;
}

/* Waits on `changed` for at most `ns` (the lock is released meanwhile). */
static void pause_for(tdn_bls* bls, uint64_t ns)
{
  struct timespec until;
  clock_gettime(CLOCK_MONOTONIC, &until);
  until.tv_sec += (time_t)(ns / TDN_NS_PER_SECOND);
  until.tv_nsec += (long)(ns % TDN_NS_PER_SECOND);
  if (until.tv_nsec >= (long)TDN_NS_PER_SECOND) {
    until.tv_sec++;
    until.tv_nsec -= (long)TDN_NS_PER_SECOND;
  }
  pthread_cond_timedwait(&bls->changed, &bls->lock, &until);
}

static void* sender_main(void* argument)
{
  tdn_bls* bls = argument;
  uint64_t pause_ns = PAUSE_FIRST_NS;
  bool warned = false;
  pthread_mutex_lock(&bls->lock);
  while (!bls->stopping) {
    tdn_bls_answer* answer = bls->answers;
    if (answer == NULL) {
      pthread_cond_wait(&bls->changed, &bls->lock);
      continue;
    }
    if (answer->epoch != bls->epoch || bls->supervisor == NULL) {
      /* Its stub is gone, and with it the allocator the blocks came from. */
      tdn_bls_written_forget(&pop(bls)->written);
      free(answer);
      continue;
    }
    tdn_diag why;
    const tdn_send_status status = tdn_supervisor_send_answer(
        bls->supervisor, &answer->record, answer->written.blocks, answer->written.block_count,
        &why);
    if (status == TDN_SEND_FULL) {
      pause_for(bls, pause_ns);
      pause_ns = pause_ns * 2 > PAUSE_MAX_NS ? PAUSE_MAX_NS : pause_ns * 2;
      continue;
    }
    pause_ns = PAUSE_FIRST_NS;
    pop(bls);
    if (status == TDN_SEND_OK) {
      tdn_bls_written_forget(&answer->written);
    } else {
      /* The stub stopped or broke its ring: the instance's own thread
       * finds out and restarts it; the answer has nowhere to go. */
      if (!warned) {
        warned = true;
        TDN_LOG_WARN(
            "instance '%s': a BLS answer could not be sent to the stub: %s", bls->instance_name,
            why.text);
      }
      tdn_bls_written_discard(bls->supervisor, &answer->written);
    }
    free(answer);
  }
  pthread_mutex_unlock(&bls->lock);
  return NULL;
}

/* With the lock held: puts an answer on to_stub at once when nothing is
 * queued before it. Says whether it is done with (sent, or dropped because
 * the stub is gone); false: queue it (no room, or answers wait already). */
static bool send_now(tdn_bls* bls, const tdn_record* record, tdn_bls_written* written)
{
  if (bls->answers != NULL || bls->supervisor == NULL || bls->stopping) {
    return false;
  }
  tdn_diag why;
  const tdn_send_status status = tdn_supervisor_send_answer(
      bls->supervisor, record, written->blocks, written->block_count, &why);
  if (status == TDN_SEND_FULL) {
    return false;
  }
  if (status == TDN_SEND_OK) {
    tdn_bls_written_forget(written);
  } else {
    /* As in the sender: the instance's own thread finds the stub gone. */
    tdn_bls_written_discard(bls->supervisor, written);
  }
  return true;
}

void tdn_bls_enqueue(tdn_bls* bls, const tdn_record* record, tdn_bls_written* written)
{
  /* The usual case: the ring has room and no answer waits, so this thread
   * (Triton's) sends it; a thread hop less than going through the sender. */
  if (send_now(bls, record, written)) {
    return;
  }
  tdn_bls_answer* answer = calloc(1, sizeof(*answer));
  if (answer == NULL || bls->supervisor == NULL || bls->stopping) {
    if (bls->supervisor != NULL) {
      tdn_bls_written_discard(bls->supervisor, written);
    } else {
      tdn_bls_written_forget(written);
    }
    free(answer);
    TDN_LOG_ERROR("instance '%s': a BLS answer was lost: out of memory", bls->instance_name);
    return;
  }
  answer->record = *record;
  answer->written = *written;
  memset(written, 0, sizeof(*written));
  answer->epoch = bls->epoch;
  *bls->answers_tail = answer;
  bls->answers_tail = &answer->next;
  if (!bls->sender_started) {
    bls->sender_started = pthread_create(&bls->sender, NULL, sender_main, bls) == 0;
    if (!bls->sender_started) {
      TDN_LOG_ERROR(
          "instance '%s': cannot start the thread that sends BLS answers", bls->instance_name);
    }
  }
  pthread_cond_broadcast(&bls->changed);
}

void tdn_bls_enqueue_error(
    tdn_bls* bls, uint64_t id, TRITONSERVER_Error_Code code, const char* message)
{
  tdn_bls_written written;
  memset(&written, 0, sizeof(written));
  tdn_record record;
  memset(&record, 0, sizeof(record));
  record.kind = TDN_MSG_BLS_RESPONSE;
  record.flags = TDN_FLAG_FINAL;
  record.id = id;
  TRITONSERVER_Error* failed = tdn_bls_write_error(bls->supervisor, code, message, &written);
  if (failed != NULL) {
    /* Not even the error fits: FINAL alone still ends the call. */
    TDN_LOG_WARN(
        "instance '%s': BLS call %llu failed with '%s' and the error could not be passed on: %s",
        bls->instance_name, (unsigned long long)id, message, TRITONSERVER_ErrorMessage(failed));
    TRITONSERVER_ErrorDelete(failed);
  } else {
    record.offset = written.offset;
    record.length = written.length;
  }
  tdn_bls_enqueue(bls, &record, &written);
}

void tdn_bls_drop_answers(tdn_bls* bls)
{
  while (bls->answers != NULL) {
    tdn_bls_answer* answer = pop(bls);
    tdn_bls_written_forget(&answer->written);
    free(answer);
  }
  pthread_cond_broadcast(&bls->changed);
}

void tdn_bls_join_sender(tdn_bls* bls)
{
  if (bls->sender_started) {
    pthread_join(bls->sender, NULL);
    bls->sender_started = false;
  }
}
