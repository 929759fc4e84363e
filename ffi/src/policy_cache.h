/*
 * policy_cache.h: the sandbox policy evaluator's answers, kept for the
 * backend's lifetime so that loading a model again with the same request
 * spawns no evaluator (a Deno process: 40-70 ms of a warm load's ~140).
 *
 * What may be kept: an answer is a function of the evaluator's request
 * (the policy text, the model's name, directory and configuration, the
 * backend's limits: everything the parent sends) and of the model's
 * `deno.json`, which the evaluator reads (with `deno.lock`) when it is
 * there. So only answers for models without a `deno.json` are kept, and
 * only while there still is none (policy_eval.c checks before and after);
 * a changed policy file, configuration or limit is a different request.
 * Refusals are not kept: a model that failed shows its reason afresh at
 * every load.
 */
#ifndef TDN_POLICY_CACHE_H
#define TDN_POLICY_CACHE_H

#include <pthread.h>
#include <stddef.h>

/* Answers kept; beyond this the oldest goes. */
#define TDN_POLICY_CACHE_SLOTS 64u

typedef struct tdn_policy_cache_entry {
  char* request;
  size_t request_length;
  char* answer;
} tdn_policy_cache_entry;

typedef struct tdn_policy_cache {
  pthread_mutex_t lock;
  tdn_policy_cache_entry entries[TDN_POLICY_CACHE_SLOTS];
  unsigned count;
  unsigned next; /* the slot the next new answer takes once all are used */
} tdn_policy_cache;

void tdn_policy_cache_init(tdn_policy_cache* cache);
void tdn_policy_cache_free(tdn_policy_cache* cache);

/* A copy of the answer kept for exactly this request (the caller frees it),
 * or NULL. */
char* tdn_policy_cache_find(tdn_policy_cache* cache, const char* request, size_t length);

/* Keeps `answer` for `request` (both copied; out of memory keeps nothing). */
void tdn_policy_cache_keep(
    tdn_policy_cache* cache, const char* request, size_t length, const char* answer);

#endif /* TDN_POLICY_CACHE_H */
