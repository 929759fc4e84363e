/*
 * readiness.c: see readiness.h.
 */
#include "readiness.h"

#include <string.h>

#include "utf8.h"

void tdn_readiness_init(tdn_readiness* readiness)
{
  memset(readiness, 0, sizeof(*readiness));
  pthread_mutex_init(&readiness->lock, NULL);
  pthread_cond_init(&readiness->answered, NULL);
  readiness->ready = true;
}

void tdn_readiness_destroy(tdn_readiness* readiness)
{
  pthread_mutex_destroy(&readiness->lock);
  pthread_cond_destroy(&readiness->answered);
}

void tdn_readiness_forget(tdn_readiness* readiness)
{
  pthread_mutex_lock(&readiness->lock);
  /* Probe ids keep counting up: a late answer of the old stub is older. */
  readiness->last_answer = readiness->last_probe;
  readiness->answer_ns = 0;
  readiness->ready = true;
  readiness->reason[0] = '\0';
  pthread_cond_broadcast(&readiness->answered);
  pthread_mutex_unlock(&readiness->lock);
}

void tdn_readiness_record(
    tdn_readiness* readiness, uint64_t probe, bool ready, const char* reason,
    size_t reason_length)
{
  if (reason_length > TDN_MAX_LOG_LENGTH) {
    reason_length = TDN_MAX_LOG_LENGTH;
  }
  pthread_mutex_lock(&readiness->lock);
  if (probe > readiness->last_answer && probe <= readiness->last_probe) {
    readiness->last_answer = probe;
    readiness->answer_ns = tdn_now_ns();
    readiness->ready = ready;
    memcpy(readiness->reason, reason, reason_length);
    readiness->reason[reason_length] = '\0';
    tdn_utf8_sanitize(readiness->reason, reason_length);
    pthread_cond_broadcast(&readiness->answered);
  }
  pthread_mutex_unlock(&readiness->lock);
}
