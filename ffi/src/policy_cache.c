/*
 * policy_cache.c: see policy_cache.h.
 */
#include "policy_cache.h"

#include <stdlib.h>
#include <string.h>

void tdn_policy_cache_init(tdn_policy_cache* cache)
{
  memset(cache, 0, sizeof(*cache));
  pthread_mutex_init(&cache->lock, NULL);
}

static void entry_free(tdn_policy_cache_entry* entry)
{
  free(entry->request);
  free(entry->answer);
  memset(entry, 0, sizeof(*entry));
}

void tdn_policy_cache_free(tdn_policy_cache* cache)
{
  for (unsigned i = 0; i < cache->count; ++i) {
    entry_free(&cache->entries[i]);
  }
  cache->count = 0;
  pthread_mutex_destroy(&cache->lock);
}

/* The entry for exactly this request, or NULL; with the lock held. */
static tdn_policy_cache_entry* lookup(tdn_policy_cache* cache, const char* request, size_t length)
{
  for (unsigned i = 0; i < cache->count; ++i) {
    tdn_policy_cache_entry* entry = &cache->entries[i];
    if (entry->request_length == length && memcmp(entry->request, request, length) == 0) {
      return entry;
    }
  }
  return NULL;
}

char* tdn_policy_cache_find(tdn_policy_cache* cache, const char* request, size_t length)
{
  pthread_mutex_lock(&cache->lock);
  const tdn_policy_cache_entry* entry = lookup(cache, request, length);
  char* answer = entry == NULL ? NULL : strdup(entry->answer);
  pthread_mutex_unlock(&cache->lock);
  return answer;
}

void tdn_policy_cache_keep(
    tdn_policy_cache* cache, const char* request, size_t length, const char* answer)
{
  char* request_copy = malloc(length > 0 ? length : 1);
  char* answer_copy = strdup(answer);
  if (request_copy == NULL || answer_copy == NULL) {
    free(request_copy);
    free(answer_copy);
    return;
  }
  memcpy(request_copy, request, length);
  pthread_mutex_lock(&cache->lock);
  tdn_policy_cache_entry* entry = lookup(cache, request, length);
  if (entry == NULL) {
    if (cache->count < TDN_POLICY_CACHE_SLOTS) {
      entry = &cache->entries[cache->count++];
    } else {
      entry = &cache->entries[cache->next];
      cache->next = (cache->next + 1) % TDN_POLICY_CACHE_SLOTS;
    }
  }
  entry_free(entry);
  entry->request = request_copy;
  entry->request_length = length;
  entry->answer = answer_copy;
  pthread_mutex_unlock(&cache->lock);
}
