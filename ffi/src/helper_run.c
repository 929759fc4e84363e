/*
 * helper_run.c: see helper_run.h. posix_spawn does the fork and exec (no
 * code of ours runs in the child); the file actions put the socket on
 * descriptors 0 and 1 and close everything from 3 up; the helper leads its
 * own process group, which is what a deadline kills.
 */
#include "helper_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"

/* Moves the request in and the answer out until the helper closes its end
 * or the deadline passes. */
static bool exchange(
    int fd, const char* input, size_t input_length, uint64_t deadline_ns, char** output,
    size_t* output_length, tdn_diag* diag)
{
  size_t sent = 0;
  size_t received = 0;
  size_t capacity = 4096;
  char* buffer = malloc(capacity);
  if (buffer == NULL) {
    return tdn_diag_set(diag, "out of memory");
  }
  if (input_length == 0) {
    shutdown(fd, SHUT_WR);
  }
  for (;;) {
    const uint64_t now = tdn_now_ns();
    if (now >= deadline_ns) {
      free(buffer);
      return tdn_diag_set(diag, "did not answer in time");
    }
    struct pollfd poll_fd = {fd, POLLIN | (sent < input_length ? POLLOUT : 0), 0};
    const int waited = poll(&poll_fd, 1, (int)((deadline_ns - now) / TDN_NS_PER_MS) + 1);
    if (waited < 0 && errno != EINTR) {
      free(buffer);
      return tdn_diag_set(diag, "poll failed: %s", strerror(errno));
    }
    if (waited <= 0) {
      continue;
    }
    if ((poll_fd.revents & POLLOUT) != 0 && sent < input_length) {
      const ssize_t wrote = send(fd, input + sent, input_length - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (wrote > 0) {
        sent += (size_t)wrote;
        if (sent == input_length) {
          shutdown(fd, SHUT_WR);
        }
      } else if (wrote < 0 && errno != EAGAIN && errno != EINTR) {
        /* The helper stopped reading (it may have failed): stop sending, keep reading. */
        sent = input_length;
        shutdown(fd, SHUT_WR);
      }
    }
    if ((poll_fd.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      if (received + 1 >= capacity) {
        if (capacity >= TDN_HELPER_MAX_OUTPUT) {
          free(buffer);
          return tdn_diag_set(diag, "answered more than %u bytes", TDN_HELPER_MAX_OUTPUT);
        }
        char* grown = realloc(buffer, capacity * 2);
        if (grown == NULL) {
          free(buffer);
          return tdn_diag_set(diag, "out of memory");
        }
        buffer = grown;
        capacity *= 2;
      }
      const ssize_t got = recv(fd, buffer + received, capacity - 1 - received, MSG_DONTWAIT);
      if (got == 0) {
        break;
      }
      if (got > 0) {
        received += (size_t)got;
      } else if (errno != EAGAIN && errno != EINTR) {
        break;
      }
    }
  }
  buffer[received] = '\0';
  *output = buffer;
  *output_length = received;
  return true;
}

/* Waits for the helper until the deadline, then kills it. */
static bool reap(pid_t pid, uint64_t deadline_ns, tdn_diag* diag)
{
  int status = 0;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      break;
    }
    if (done < 0 && errno != EINTR) {
      return tdn_diag_set(diag, "vanished (%s)", strerror(errno));
    }
    if (tdn_now_ns() >= deadline_ns) {
      if (kill(-pid, SIGKILL) != 0) {
        kill(pid, SIGKILL);
      }
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      return tdn_diag_set(diag, "did not exit in time and was killed");
    }
    usleep(1000);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    return true;
  }
  if (WIFEXITED(status)) {
    return tdn_diag_set(diag, "exited with status %d", WEXITSTATUS(status));
  }
  return tdn_diag_set(diag, "was killed by signal %d", WTERMSIG(status));
}

bool tdn_helper_run(
    const char* path, char* const argv[], char* const envp[], const char* input,
    size_t input_length, uint64_t timeout_ms, char** output, size_t* output_length,
    tdn_diag* diag)
{
  int sockets[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    return tdn_diag_set(diag, "cannot create a socket pair: %s", strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigset_t all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  /* Its own process group, so that a deadline kills whatever it started too. */
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(
      &attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  posix_spawn_file_actions_adddup2(&actions, sockets[1], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, sockets[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(sockets[1]);
  if (spawned != 0) {
    close(sockets[0]);
    return tdn_diag_set(diag, "cannot start '%s': %s", path, strerror(spawned));
  }
  const uint64_t deadline = tdn_now_ns() + timeout_ms * TDN_NS_PER_MS;
  tdn_diag exchange_problem;
  const bool exchanged =
      exchange(sockets[0], input, input_length, deadline, output, output_length, &exchange_problem);
  close(sockets[0]);
  if (!exchanged) {
    reap(pid, 0, NULL);
    return tdn_diag_set(diag, "%s", exchange_problem.text);
  }
  if (!reap(pid, deadline, diag)) {
    free(*output);
    *output = NULL;
    return false;
  }
  return true;
}
