/*
 * log.c: Triton's log, kept in memory so tests can read what the backend
 * logged; echoed to stderr when TRITON_HOST_LOG=1, and appended to the
 * server's --log-file when one is set. Lines look like Triton's:
 * "<I|W|E|V> <file>:<line>] <message>".
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host_api.h"
#include "host_core.h"
#include "host_internal.h"

/* Enough for any test; past it lines are dropped, and the drop is noted. */
#define HOST_LOG_LIMIT (16u << 20)

static pthread_mutex_t host_log_lock = PTHREAD_MUTEX_INITIALIZER;
static host_text host_log_text;
static bool host_log_overflowed;
static atomic_bool host_log_verbose;
/* The server's --log-info/warn/error (TRITONSERVER_ServerOptionsSetLog*). */
static atomic_bool host_log_info = true;
static atomic_bool host_log_warn = true;
static atomic_bool host_log_error = true;
static FILE* host_log_file; /* guarded by host_log_lock */

void host_set_log_verbose(int32_t enabled) { atomic_store(&host_log_verbose, enabled != 0); }

void host_log_configure(bool info, bool warn, bool error, int verbose, const char* file) {
  atomic_store(&host_log_info, info);
  atomic_store(&host_log_warn, warn);
  atomic_store(&host_log_error, error);
  atomic_store(&host_log_verbose, verbose > 0);
  pthread_mutex_lock(&host_log_lock);
  if (host_log_file != NULL) fclose(host_log_file);
  host_log_file = file == NULL ? NULL : fopen(file, "a");
  pthread_mutex_unlock(&host_log_lock);
}

void host_log_reset(void) { host_log_configure(true, true, true, 0, NULL); }

static bool host_log_echo(void) {
  const char* setting = getenv("TRITON_HOST_LOG");
  return setting != NULL && strcmp(setting, "1") == 0;
}

void host_log_append(const char* level, const char* file, int line, const char* message) {
  host_text entry = {0};
  host_text_printf(&entry, "%s %s:%d] %s\n", level, file == NULL ? "?" : file, line,
                   message == NULL ? "" : message);
  pthread_mutex_lock(&host_log_lock);
  if (host_log_text.length + entry.length <= HOST_LOG_LIMIT) {
    host_text_append(&host_log_text, entry.data, entry.length);
  } else if (!host_log_overflowed) {
    static const char notice[] = "W host:0] log limit reached, later lines dropped\n";
    host_text_append(&host_log_text, notice, sizeof notice - 1);
    host_log_overflowed = true;
  }
  if (host_log_file != NULL) {
    fputs(entry.data, host_log_file);
    fflush(host_log_file);
  }
  pthread_mutex_unlock(&host_log_lock);
  if (host_log_echo()) fputs(entry.data, stderr);
  host_text_free(&entry);
}

bool TRITONSERVER_LogIsEnabled(TRITONSERVER_LogLevel level) {
  switch (level) {
    case TRITONSERVER_LOG_VERBOSE: return atomic_load(&host_log_verbose);
    case TRITONSERVER_LOG_INFO: return atomic_load(&host_log_info);
    case TRITONSERVER_LOG_WARN: return atomic_load(&host_log_warn);
    case TRITONSERVER_LOG_ERROR: return atomic_load(&host_log_error);
    default: return false;
  }
}

TRITONSERVER_Error* TRITONSERVER_LogMessage(TRITONSERVER_LogLevel level, const char* filename,
                                            const int line, const char* msg) {
  const char* tag;
  switch (level) {
    case TRITONSERVER_LOG_INFO: tag = "I"; break;
    case TRITONSERVER_LOG_WARN: tag = "W"; break;
    case TRITONSERVER_LOG_ERROR: tag = "E"; break;
    case TRITONSERVER_LOG_VERBOSE: tag = "V"; break;
    default:
      return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "unknown log level %d", (int)level);
  }
  if (!TRITONSERVER_LogIsEnabled(level)) return NULL;
  host_log_append(tag, filename, line, msg);
  return NULL;
}

uint64_t host_log_read(char* out, uint64_t cap) {
  pthread_mutex_lock(&host_log_lock);
  uint64_t length = host_text_export(&host_log_text, out, cap);
  pthread_mutex_unlock(&host_log_lock);
  return length;
}

void host_log_clear(void) {
  pthread_mutex_lock(&host_log_lock);
  host_text_free(&host_log_text);
  host_log_overflowed = false;
  pthread_mutex_unlock(&host_log_lock);
}
