/*
 * log.c: Triton's log, kept in memory so tests can read what the backend
 * logged ("<I|W|E|V> <file>:<line>] <message>"), and appended to the
 * server's --log-file when one is set. Echoed to standard error, as
 * tritonserver writes its log, when serve asks (host_log_setup) or
 * TRITON_HOST_LOG=1, in Triton's format:
 * `I1206 20:01:27.103209 4242 supervisor.c:576] "message"`.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

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
static atomic_bool host_log_stderr; /* echo every line to standard error */

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

void host_log_setup(int32_t info, int32_t warn, int32_t error, int32_t verbose, int32_t echo,
                    const char* file) {
  host_log_configure(info != 0, warn != 0, error != 0, verbose, file);
  atomic_store(&host_log_stderr, echo != 0);
}

static bool host_log_echo(void) {
  if (atomic_load(&host_log_stderr)) return true;
  const char* setting = getenv("TRITON_HOST_LOG");
  return setting != NULL && strcmp(setting, "1") == 0;
}

/* One line in Triton's format, the message quoted and escaped so that a
 * line a model logs cannot pass for another. */
static void host_log_write_triton(FILE* out, const char* level, const char* file, int line,
                                  const char* message) {
  struct timeval now;
  gettimeofday(&now, NULL);
  struct tm local;
  localtime_r(&now.tv_sec, &local);
  host_text entry = {0};
  host_text_printf(&entry, "%s%02d%02d %02d:%02d:%02d.%06ld %d %s:%d] \"", level, local.tm_mon + 1,
                   local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec, (long)now.tv_usec,
                   (int)getpid(), file == NULL ? "?" : file, line);
  for (const char* at = message == NULL ? "" : message; *at != '\0'; at++) {
    const unsigned char c = (unsigned char)*at;
    if (c == '"' || c == '\\') {
      host_text_printf(&entry, "\\%c", c);
    } else if (c == '\n') {
      host_text_append(&entry, "\\n", 2);
    } else if (c < 0x20 || c == 0x7f) {
      host_text_printf(&entry, "\\x%02x", c);
    } else {
      host_text_append(&entry, at, 1);
    }
  }
  host_text_append(&entry, "\"\n", 2);
  fputs(entry.data, out);
  host_text_free(&entry);
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
  host_text_free(&entry);
  if (host_log_echo()) host_log_write_triton(stderr, level, file, line, message);
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
