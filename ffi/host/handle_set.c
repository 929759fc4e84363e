/*
 * handle_set.c: which server objects (inference requests and responses,
 * allocators, parameters, metric objects) are alive, by address.
 *
 * The magic-number check the other host objects use reads the object, which
 * after a double delete is freed memory. These handles are instead looked
 * up in a set, so a second delete is caught without touching the object; a
 * short memory of recently deleted addresses tells a double delete from a
 * pointer the host never handed out.
 */
#include <stdint.h>
#include <stdlib.h>

#include "host_server.h"

#define HOST_HANDLE_BUCKETS 1024u
#define HOST_HANDLE_DEAD_MEMORY 1024u

typedef struct host_handle_node {
  struct host_handle_node* next;
  const void* handle;
} host_handle_node;

typedef struct host_handle_table {
  host_handle_node* buckets[HOST_HANDLE_BUCKETS];
  const void* dead[HOST_HANDLE_DEAD_MEMORY]; /* ring of recently deleted handles */
  uint32_t dead_next;
} host_handle_table;

static pthread_mutex_t host_handle_lock = PTHREAD_MUTEX_INITIALIZER;
static host_handle_table host_handle_tables[HOST_HANDLE_KIND_COUNT];

static const struct {
  const char* name;
  host_live_kind live;
} host_handle_kinds[HOST_HANDLE_KIND_COUNT] = {
    [HOST_HANDLE_INFER_REQUEST] = {"TRITONSERVER_InferenceRequest", HOST_LIVE_INFER_REQUESTS},
    [HOST_HANDLE_INFER_RESPONSE] = {"TRITONSERVER_InferenceResponse", HOST_LIVE_INFER_RESPONSES},
    [HOST_HANDLE_ALLOCATOR] = {"TRITONSERVER_ResponseAllocator", HOST_LIVE_ALLOCATORS},
    [HOST_HANDLE_PARAMETER] = {"TRITONSERVER_Parameter", HOST_LIVE_PARAMETERS},
    [HOST_HANDLE_METRIC_FAMILY] = {"TRITONSERVER_MetricFamily", HOST_LIVE_METRIC_FAMILIES},
    [HOST_HANDLE_METRIC] = {"TRITONSERVER_Metric", HOST_LIVE_METRICS},
    [HOST_HANDLE_METRIC_ARGS] = {"TRITONSERVER_MetricArgs", HOST_LIVE_METRIC_ARGS},
};

static uint32_t host_handle_bucket(const void* handle) {
  uintptr_t bits = (uintptr_t)handle;
  bits ^= bits >> 17;
  bits *= (uintptr_t)0x9e3779b97f4a7c15ull;
  return (uint32_t)(bits >> 7) % HOST_HANDLE_BUCKETS;
}

/* Called with the lock held. */
static void host_handle_forget_dead(host_handle_table* table, const void* handle) {
  for (uint32_t i = 0; i < HOST_HANDLE_DEAD_MEMORY; i++) {
    if (table->dead[i] == handle) table->dead[i] = NULL;
  }
}

void host_handle_add(host_handle_kind kind, const void* handle) {
  host_handle_node* node = host_alloc(sizeof *node);
  node->handle = handle;
  pthread_mutex_lock(&host_handle_lock);
  host_handle_table* table = &host_handle_tables[kind];
  /* malloc may hand a freed address out again: it is no longer dead. */
  host_handle_forget_dead(table, handle);
  uint32_t bucket = host_handle_bucket(handle);
  node->next = table->buckets[bucket];
  table->buckets[bucket] = node;
  pthread_mutex_unlock(&host_handle_lock);
  host_live_add(host_handle_kinds[kind].live, 1);
}

/* Called with the lock held. */
static host_handle_node** host_handle_find(host_handle_table* table, const void* handle) {
  host_handle_node** link = &table->buckets[host_handle_bucket(handle)];
  while (*link != NULL && (*link)->handle != handle) link = &(*link)->next;
  return link;
}

bool host_handle_check(host_handle_kind kind, const void* handle, const char* api) {
  if (handle != NULL) {
    pthread_mutex_lock(&host_handle_lock);
    bool live = *host_handle_find(&host_handle_tables[kind], handle) != NULL;
    pthread_mutex_unlock(&host_handle_lock);
    if (live) return true;
  }
  host_violation_record(HOST_VIOLATION_BAD_HANDLE, "%s: %s %s %p", api,
                        handle == NULL ? "NULL" : "unknown or deleted",
                        host_handle_kinds[kind].name, handle);
  return false;
}

bool host_handle_remove(host_handle_kind kind, const void* handle, const char* api) {
  bool was_dead = false;
  host_handle_node* node = NULL;
  if (handle != NULL) {
    pthread_mutex_lock(&host_handle_lock);
    host_handle_table* table = &host_handle_tables[kind];
    host_handle_node** link = host_handle_find(table, handle);
    node = *link;
    if (node != NULL) {
      *link = node->next;
      table->dead[table->dead_next] = handle;
      table->dead_next = (table->dead_next + 1) % HOST_HANDLE_DEAD_MEMORY;
    } else {
      for (uint32_t i = 0; i < HOST_HANDLE_DEAD_MEMORY && !was_dead; i++) {
        was_dead = table->dead[i] == handle;
      }
    }
    pthread_mutex_unlock(&host_handle_lock);
  }
  if (node != NULL) {
    free(node);
    host_live_add(host_handle_kinds[kind].live, -1);
    return true;
  }
  if (was_dead) {
    host_violation_record(HOST_VIOLATION_DELETED_TWICE, "%s: %s %p was already deleted", api,
                          host_handle_kinds[kind].name, handle);
  } else {
    host_violation_record(HOST_VIOLATION_BAD_HANDLE, "%s: %s %s %p", api,
                          handle == NULL ? "NULL" : "unknown", host_handle_kinds[kind].name,
                          handle);
  }
  return false;
}
