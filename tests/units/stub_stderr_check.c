/*
 * stub_stderr_check.c: a stub's standard error read into Triton's log
 * (ffi/src/stub_stderr.c): lines prefixed and made printable, a line longer
 * than a LOG cut, the last partial line kept when the stub's end closes, at
 * most 1 MiB a second read from one stub (the writer then blocks), and the
 * reading thread stopped and started again. fake_log is written only under
 * the module's lock or by its joined thread, and read after a shutdown.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fake_triton.h"
#include "stub_stderr.h"
#include "tdn_wire.h"

static size_t count(const char* part)
{
  size_t found = 0;
  for (const char* at = strstr(fake_log, part); at != NULL; at = strstr(at + 1, part)) {
    found++;
  }
  return found;
}

static double seconds(void)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* A watched pipe; returns the write end. */
static int watched(tdn_stub_stderr** watch, const char* instance)
{
  int ends[2];
  if (pipe2(ends, O_CLOEXEC) != 0 || fcntl(ends[0], F_SETFL, O_NONBLOCK) != 0) {
    return -1;
  }
  *watch = tdn_stub_stderr_watch(ends[0], "m", instance);
  return ends[1];
}

static void write_all(int fd, const char* text)
{
  for (size_t done = 0, length = strlen(text); done < length;) {
    const ssize_t wrote = write(fd, text + done, length - done);
    if (wrote <= 0) return;
    done += (size_t)wrote;
  }
}

int main(void)
{
  fake_log_clear();
  tdn_stub_stderr* lines = NULL;
  int fd = watched(&lines, "m_0_0");
  CHECK(fd >= 0 && lines != NULL, "no watch");
  write_all(fd, "first line\nsecond\x1b[31m red\n");
  char long_line[TDN_MAX_LOG_LENGTH * 2 + 100];
  memset(long_line, 'x', sizeof(long_line) - 1);
  long_line[sizeof(long_line) - 1] = '\0';
  write_all(fd, long_line);
  write_all(fd, "\npartial, no line break");
  close(fd);
  tdn_stub_stderr_close(lines);

  /* 3 MiB offered as fast as the pipe takes it: within half a second at
   * most a second's allowance and a pipe's worth are taken. */
  tdn_stub_stderr* flood = NULL;
  fd = watched(&flood, "m_0_1");
  CHECK(fd >= 0 && flood != NULL, "no watch");
  fcntl(fd, F_SETFL, O_NONBLOCK);
  static char chunk[4096];
  memset(chunk, 'f', sizeof(chunk));
  chunk[sizeof(chunk) - 1] = '\n';
  size_t taken = 0;
  const double start = seconds();
  while (seconds() - start < 0.5 && taken < 3u * 1024u * 1024u) {
    const ssize_t wrote = write(fd, chunk, sizeof(chunk));
    if (wrote > 0) {
      taken += (size_t)wrote;
    } else {
      usleep(1000);
    }
  }
  CHECK(
      taken <= TDN_STUB_STDERR_BYTES_PER_SECOND + 1024u * 1024u,
      "%zu bytes taken in half a second (at most 1 MiB a second is read, plus the pipe)", taken);
  close(fd);
  tdn_stub_stderr_close(flood);
  tdn_stub_stderr_shutdown();

  CHECK_HAS(fake_log, "model 'm', instance 'm_0_0': standard error: first line\n");
  CHECK(count("instance 'm_0_0': standard error: second") == 1, "second line");
  CHECK(strstr(fake_log, "\x1b[31m") == NULL, "an escape sequence reached the log");
  CHECK(count("instance 'm_0_0': standard error: xxx") == 3, "long line cut into %zu",
        count("instance 'm_0_0': standard error: xxx"));
  CHECK_HAS(fake_log, "instance 'm_0_0': standard error: partial, no line break\n");
  CHECK_HAS(fake_log, "model 'm', instance 'm_0_1': log rate limit reached");

  /* The thread starts again after a shutdown. */
  fake_log_clear();
  tdn_stub_stderr* again = NULL;
  fd = watched(&again, "m_0_2");
  write_all(fd, "after a shutdown\n");
  close(fd);
  tdn_stub_stderr_close(again);
  tdn_stub_stderr_shutdown();
  CHECK_HAS(fake_log, "instance 'm_0_2': standard error: after a shutdown\n");

  if (check_failures == 0) {
    printf("stub_stderr_check: all checks passed\n");
  }
  return check_failures == 0 ? 0 : 1;
}
