/*
 * trace.c: see trace.h. Marks go into one array under a mutex (tracing
 * only: the lock is part of what it costs); a full array drops marks and
 * says how many in the file.
 */
#include "trace.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

#define TRACE_CAPACITY (1u << 18)
#define TRACE_NAME 40

typedef struct trace_mark {
  uint64_t ns;
  uint64_t id;
  uint32_t event;
  uint32_t aux;
  char instance[TRACE_NAME];
} trace_mark;

bool tdn_trace_on = false;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char* path;
static trace_mark* marks;
static uint32_t count;
static uint64_t dropped;

void tdn_trace_init(void)
{
  const char* file = getenv("TDN_TRACE_FILE");
  pthread_mutex_lock(&lock);
  const bool wanted = file != NULL && file[0] != '\0';
  if (wanted && (path == NULL || strcmp(path, file) != 0)) {
    char* copy = strdup(file);
    if (copy != NULL) {
      free(path);
      path = copy;
    }
  }
  if (wanted && marks == NULL) {
    marks = calloc(TRACE_CAPACITY, sizeof(*marks));
  }
  const bool on = wanted && path != NULL && marks != NULL && strcmp(path, file) == 0;
  __atomic_store_n(&tdn_trace_on, on, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&lock);
  if (on) {
    TDN_LOG_INFO("tracing every hop of every request into %s (TDN_TRACE_FILE)", file);
  } else if (wanted) {
    TDN_LOG_WARN("TDN_TRACE_FILE is set but there is no memory for the trace: tracing is off");
  }
}

void tdn_trace_mark_at(
    uint64_t ns, uint32_t event, const char* instance, uint64_t id, uint32_t aux)
{
  if (ns == 0 || !tdn_tracing()) {
    return;
  }
  pthread_mutex_lock(&lock);
  if (count < TRACE_CAPACITY) {
    trace_mark* mark = &marks[count++];
    mark->ns = ns;
    mark->id = id;
    mark->event = event;
    mark->aux = aux;
    snprintf(mark->instance, sizeof(mark->instance), "%s", instance != NULL ? instance : "-");
  } else {
    dropped++;
  }
  pthread_mutex_unlock(&lock);
}

uint64_t tdn_trace_now(void)
{
  if (!tdn_tracing()) {
    return 0;
  }
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

void tdn_trace_mark_now(uint32_t event, const char* instance, uint64_t id, uint32_t aux)
{
  tdn_trace_mark_at(tdn_trace_now(), event, instance, id, aux);
}

void tdn_trace_flush(void)
{
  if (!tdn_tracing()) {
    return;
  }
  pthread_mutex_lock(&lock);
  FILE* file = fopen(path, "a");
  if (file == NULL) {
    TDN_LOG_WARN("cannot append the trace to %s; its marks are dropped", path);
  } else {
    for (uint32_t i = 0; i < count; ++i) {
      const trace_mark* mark = &marks[i];
      /* Instance names are Triton's; spaces would break the line's fields. */
      char name[TRACE_NAME];
      snprintf(name, sizeof(name), "%s", mark->instance);
      for (char* c = name; *c != '\0'; ++c) {
        if (*c <= ' ') {
          *c = '_';
        }
      }
      fprintf(
          file, "%llu %u %s %llu %u\n", (unsigned long long)mark->ns, mark->event, name,
          (unsigned long long)mark->id, mark->aux);
    }
    if (dropped > 0) {
      fprintf(file, "# %llu marks dropped: the trace buffer was full\n", (unsigned long long)dropped);
    }
    fclose(file);
  }
  count = 0;
  dropped = 0;
  pthread_mutex_unlock(&lock);
}
