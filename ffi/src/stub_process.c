/*
 * stub_process.c: see stub_process.h.
 */
#include "stub_process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdn_wire.h"

/* Descriptors the child juggles are first moved at or above this, so the
 * dup2 calls onto 0, 3 and 4 can never clobber each other. */
#define HIGH_FD 10
#define EXEC_ERROR_FD 4

static void describe_status(int status, tdn_diag* how)
{
  if (WIFEXITED(status)) {
    tdn_diag_set(how, "exited with status %d", WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    const int signal_number = WTERMSIG(status);
    const char* name = sigabbrev_np(signal_number);
    tdn_diag_set(
        how, "was killed by signal %d (SIG%s)", signal_number, name != NULL ? name : "?");
  } else {
    tdn_diag_set(how, "stopped with wait status 0x%x", (unsigned)status);
  }
}

/* Runs in the child between fork and execve: async-signal-safe calls only,
 * no allocation, no locks, no stdio. */
static void __attribute__((noreturn)) exec_child(
    const tdn_stub_command* command, int region_fd, int null_fd, int error_fd,
    unsigned max_fd)
{
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Ignored signals stay ignored across execve; restore the defaults. */
  struct sigaction default_action;
  memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) {
    if (signal_number != SIGKILL && signal_number != SIGSTOP) {
      sigaction(signal_number, &default_action, NULL);
    }
  }
  int ok = dup2(null_fd, STDIN_FILENO) == STDIN_FILENO &&
           dup2(region_fd, TDN_STUB_REGION_FD) == TDN_STUB_REGION_FD &&
           dup2(error_fd, EXEC_ERROR_FD) == EXEC_ERROR_FD &&
           fcntl(EXEC_ERROR_FD, F_SETFD, FD_CLOEXEC) == 0;
  if (ok) {
    /* Triton's sockets, model files and other stubs' regions stay out. */
    if (close_range(EXEC_ERROR_FD + 1, ~0u, 0) != 0) {
      for (unsigned fd = EXEC_ERROR_FD + 1; fd < max_fd; ++fd) {
        close((int)fd);
      }
    }
    /* Last, so nothing above runs under the filter; the parent learns
     * which layers took hold before it learns whether the exec did. */
    const uint32_t applied = command->layers != NULL ? tdn_layers_apply(command->layers) : 0;
    ssize_t reported = write(EXEC_ERROR_FD, &applied, sizeof(applied));
    (void)reported;
    execve(command->path, command->argv, command->envp);
  }
  const int failure = errno;
  if (!ok) {
    /* Nothing applied: say so first, as the successful path does. */
    const uint32_t none = 0;
    ssize_t reported = write(error_fd, &none, sizeof(none));
    (void)reported;
  }
  ssize_t ignored = write(ok ? EXEC_ERROR_FD : error_fd, &failure, sizeof(failure));
  (void)ignored;
  _exit(127);
}

static int move_high(int fd)
{
  if (fd < 0) {
    return -1;
  }
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);
  close(fd);
  return high;
}

bool tdn_stub_spawn(const tdn_stub_command* command, int region_fd, pid_t* pid, tdn_diag* diag)
{
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return tdn_diag_set(diag, "cannot create a pipe: %s", strerror(errno));
  }
  const int error_read = pipe_fds[0];
  const int error_write = move_high(pipe_fds[1]);
  const int null_fd = move_high(open("/dev/null", O_RDONLY | O_CLOEXEC));
  const int high_region_fd = fcntl(region_fd, F_DUPFD_CLOEXEC, HIGH_FD);
  struct rlimit files;
  const unsigned max_fd =
      getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 65536 ? (unsigned)files.rlim_cur
                                                                      : 65536u;
  bool ok = error_write >= 0 && null_fd >= 0 && high_region_fd >= 0;
  pid_t child = -1;
  if (!ok) {
    tdn_diag_set(diag, "cannot prepare the stub's descriptors: %s", strerror(errno));
  } else {
    child = fork();
    if (child == 0) {
      exec_child(command, high_region_fd, null_fd, error_write, max_fd);
    }
    if (child < 0) {
      ok = tdn_diag_set(diag, "fork failed: %s", strerror(errno));
    }
  }
  if (error_write >= 0) {
    close(error_write);
  }
  if (null_fd >= 0) {
    close(null_fd);
  }
  if (high_region_fd >= 0) {
    close(high_region_fd);
  }
  if (ok) {
    /* Also set from this side, so the group exists before we might kill it. */
    setpgid(child, child);
    uint32_t applied = 0;
    int exec_errno = 0;
    ssize_t got;
    do {
      got = read(error_read, &applied, sizeof(applied));
    } while (got < 0 && errno == EINTR);
    if (command->layers != NULL) {
      command->layers->applied = got == (ssize_t)sizeof(applied) ? applied : 0;
    }
    do {
      got = read(error_read, &exec_errno, sizeof(exec_errno));
    } while (got < 0 && errno == EINTR);
    if (got > 0) {
      tdn_stub_kill_and_reap(child, NULL);
      ok = tdn_diag_set(diag, "cannot execute '%s': %s", command->path, strerror(exec_errno));
    } else {
      *pid = child;
    }
  }
  close(error_read);
  return ok;
}

bool tdn_stub_has_exited(pid_t pid, tdn_diag* how)
{
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  /* WNOWAIT: look without reaping, so the pid stays ours until we kill the
   * group and reap. */
  if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    /* ECHILD: someone else reaped it; either way it is gone. */
    tdn_diag_set(how, "vanished (%s)", strerror(errno));
    return true;
  }
  if (info.si_pid == 0) {
    return false;
  }
  if (info.si_code == CLD_EXITED) {
    tdn_diag_set(how, "exited with status %d", info.si_status);
  } else {
    const char* name = sigabbrev_np(info.si_status);
    tdn_diag_set(
        how, "was killed by signal %d (SIG%s)%s", info.si_status, name != NULL ? name : "?",
        info.si_code == CLD_DUMPED ? " and dumped core" : "");
  }
  return true;
}

void tdn_stub_kill_and_reap(pid_t pid, tdn_diag* how)
{
  if (pid <= 0) {
    return;
  }
  /* Our child is not reaped yet, so pid still names it and its group. */
  if (kill(-pid, SIGKILL) != 0) {
    kill(pid, SIGKILL);
  }
  int status = 0;
  pid_t reaped;
  do {
    reaped = waitpid(pid, &status, 0);
  } while (reaped < 0 && errno == EINTR);
  if (reaped == pid) {
    describe_status(status, how);
  } else {
    tdn_diag_set(how, "vanished (%s)", strerror(errno));
  }
}
