/*
 * stub_stderr.c: see stub_stderr.h.
 */
#include "stub_stderr.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "stub_log.h"
#include "tdn_wire.h"

/* What is said before each line: the stub's own log lines have no label. */
#define LABEL "standard error: "
/* epoll data of the descriptor that wakes the thread to stop. */
#define STOP_ID 0

struct tdn_stub_stderr {
  uint64_t id; /* epoll data: never a pointer, so a closed watch cannot be reached */
  int fd;
  bool open;   /* false once the stub's end closed (or a read failed) */
  bool paused; /* this second's bytes are read: not armed until resume_at_ns */
  uint64_t window_start_ns;
  uint64_t window_bytes;
  uint64_t resume_at_ns;
  char* model_name;
  char* instance_name;
  tdn_stub_log log;
  size_t line_length;
  char line[TDN_MAX_LOG_LENGTH];
  tdn_stub_stderr* next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tdn_stub_stderr* watches;
static uint64_t next_id = STOP_ID + 1;
static int epoll_fd = -1;
static int stop_fd = -1;
static bool running;
static bool stopping;
static pthread_t reader;

static void emit_line(tdn_stub_stderr* watch, uint64_t now_ns)
{
  tdn_stub_log_line(
      &watch->log, TRITONSERVER_LOG_WARN, LABEL, watch->line, watch->line_length,
      watch->model_name, watch->instance_name, now_ns);
  watch->line_length = 0;
}

/* Cuts `bytes` into lines; a line longer than a LOG is cut there. */
static void feed(tdn_stub_stderr* watch, const char* bytes, size_t count, uint64_t now_ns)
{
  for (size_t i = 0; i < count; ++i) {
    if (bytes[i] == '\n') {
      emit_line(watch, now_ns);
      continue;
    }
    watch->line[watch->line_length++] = bytes[i];
    if (watch->line_length == sizeof(watch->line)) {
      emit_line(watch, now_ns);
    }
  }
}

static void stop_reading(tdn_stub_stderr* watch, uint64_t now_ns)
{
  if (watch->open) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL);
    watch->open = false;
  }
  if (watch->line_length > 0) {
    emit_line(watch, now_ns);
  }
}

/* Reads what the second's allowance lets; pauses the watch when it is spent. Under `lock`. */
static void pump(tdn_stub_stderr* watch, uint64_t now_ns)
{
  if (now_ns - watch->window_start_ns >= TDN_NS_PER_SECOND) {
    watch->window_start_ns = now_ns;
    watch->window_bytes = 0;
  }
  char buffer[4096];
  while (watch->open && watch->window_bytes < TDN_STUB_STDERR_BYTES_PER_SECOND) {
    const uint64_t allowed = TDN_STUB_STDERR_BYTES_PER_SECOND - watch->window_bytes;
    const ssize_t got =
        read(watch->fd, buffer, allowed < sizeof(buffer) ? (size_t)allowed : sizeof(buffer));
    if (got > 0) {
      watch->window_bytes += (uint64_t)got;
      feed(watch, buffer, (size_t)got, now_ns);
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else if (got < 0 && errno == EAGAIN) {
      return;
    } else {
      stop_reading(watch, now_ns); /* the stub's end is closed */
      return;
    }
  }
  if (watch->open && !watch->paused) {
    /* The stub's next writes fill the pipe and then block until resume_at_ns. */
    struct epoll_event disarmed = {.events = 0, .data.u64 = watch->id};
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, watch->fd, &disarmed);
    watch->paused = true;
    watch->resume_at_ns = watch->window_start_ns + TDN_NS_PER_SECOND;
  }
}

/* Re-arms and reads the paused watches whose second is over; returns the
 * wait until the next one is due (-1: none). Under `lock`. */
static int resume_due(uint64_t now_ns)
{
  uint64_t next_ns = 0;
  for (tdn_stub_stderr* watch = watches; watch != NULL; watch = watch->next) {
    if (!watch->paused || !watch->open) {
      continue;
    }
    if (now_ns >= watch->resume_at_ns) {
      watch->paused = false;
      struct epoll_event armed = {.events = EPOLLIN, .data.u64 = watch->id};
      epoll_ctl(epoll_fd, EPOLL_CTL_MOD, watch->fd, &armed);
      pump(watch, now_ns);
    }
    if (watch->paused && (next_ns == 0 || watch->resume_at_ns < next_ns)) {
      next_ns = watch->resume_at_ns;
    }
  }
  if (next_ns == 0) {
    return -1;
  }
  return (int)((next_ns - now_ns) / TDN_NS_PER_MS) + 1;
}

static void* read_loop(void* unused)
{
  (void)unused;
  struct epoll_event events[16];
  int timeout_ms = -1;
  for (;;) {
    const int count = epoll_wait(epoll_fd, events, 16, timeout_ms);
    pthread_mutex_lock(&lock);
    if (stopping) {
      pthread_mutex_unlock(&lock);
      return NULL;
    }
    const uint64_t now_ns = tdn_now_ns();
    for (int i = 0; i < count; ++i) {
      for (tdn_stub_stderr* watch = watches; watch != NULL; watch = watch->next) {
        if (watch->id == events[i].data.u64) {
          pump(watch, now_ns);
          break;
        }
      }
    }
    timeout_ms = resume_due(now_ns);
    pthread_mutex_unlock(&lock);
  }
}

/* Under `lock`. */
static bool start_reader(void)
{
  if (running) {
    return true;
  }
  epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  struct epoll_event stop = {.events = EPOLLIN, .data.u64 = STOP_ID};
  if (epoll_fd >= 0 && stop_fd >= 0 && epoll_ctl(epoll_fd, EPOLL_CTL_ADD, stop_fd, &stop) == 0 &&
      pthread_create(&reader, NULL, read_loop, NULL) == 0) {
    running = true;
    stopping = false;
    return true;
  }
  TDN_LOG_WARN("cannot start the thread that reads the stubs' standard error: %s", strerror(errno));
  if (epoll_fd >= 0) close(epoll_fd);
  if (stop_fd >= 0) close(stop_fd);
  epoll_fd = stop_fd = -1;
  return false;
}

tdn_stub_stderr* tdn_stub_stderr_watch(int fd, const char* model_name, const char* instance_name)
{
  tdn_stub_stderr* watch = calloc(1, sizeof(*watch));
  if (watch != NULL) {
    watch->model_name = strdup(model_name);
    watch->instance_name = strdup(instance_name);
  }
  pthread_mutex_lock(&lock);
  bool ok = watch != NULL && watch->model_name != NULL && watch->instance_name != NULL &&
            start_reader();
  if (ok) {
    watch->id = next_id++;
    watch->fd = fd;
    watch->open = true;
    watch->window_start_ns = tdn_now_ns();
    tdn_stub_log_init(&watch->log);
    struct epoll_event armed = {.events = EPOLLIN, .data.u64 = watch->id};
    ok = epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &armed) == 0;
  }
  if (ok) {
    watch->next = watches;
    watches = watch;
  }
  pthread_mutex_unlock(&lock);
  if (!ok) {
    close(fd);
    if (watch != NULL) {
      free(watch->model_name);
      free(watch->instance_name);
      free(watch);
    }
    return NULL;
  }
  return watch;
}

/* Unlinks, reads what is left, closes and frees. Under `lock`. */
static void finish(tdn_stub_stderr* watch)
{
  for (tdn_stub_stderr** link = &watches; *link != NULL; link = &(*link)->next) {
    if (*link == watch) {
      *link = watch->next;
      break;
    }
  }
  const uint64_t now_ns = tdn_now_ns();
  if (watch->open) {
    watch->paused = false;
    pump(watch, now_ns);
  }
  stop_reading(watch, now_ns);
  close(watch->fd);
  free(watch->model_name);
  free(watch->instance_name);
  free(watch);
}

void tdn_stub_stderr_close(tdn_stub_stderr* watch)
{
  if (watch == NULL) {
    return;
  }
  pthread_mutex_lock(&lock);
  finish(watch);
  pthread_mutex_unlock(&lock);
}

void tdn_stub_stderr_shutdown(void)
{
  pthread_mutex_lock(&lock);
  if (!running) {
    pthread_mutex_unlock(&lock);
    return;
  }
  stopping = true;
  const uint64_t one = 1;
  ssize_t written = write(stop_fd, &one, sizeof(one));
  (void)written;
  pthread_mutex_unlock(&lock);
  pthread_join(reader, NULL);
  pthread_mutex_lock(&lock);
  while (watches != NULL) {
    finish(watches);
  }
  close(epoll_fd);
  close(stop_fd);
  epoll_fd = stop_fd = -1;
  running = false;
  stopping = false;
  pthread_mutex_unlock(&lock);
}
