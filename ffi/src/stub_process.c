/*
 * stub_process.c: see stub_process.h.
 */
#include "stub_process.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tdn_wire.h"

/* Descriptors the child juggles are first moved at or above this, so the
 * dup2 calls onto 0, 1, 3, 4 and 5 can never clobber each other. */
#define HIGH_FD 10
#define EXEC_ERROR_FD 4

/* The child's ends, moved high in the parent before fork. */
typedef struct child_fds {
  int region;
  int doorbell_read;   /* becomes TDN_STUB_DOORBELL_FD */
  int doorbell_tick;   /* becomes TDN_STUB_TICK_FD */
  int parent_ring;     /* becomes TDN_PARENT_DOORBELL_FD */
  int error;           /* becomes EXEC_ERROR_FD */
  int standard_error;  /* becomes 2: a pipe to the parent (stub_stderr.h) */
} child_fds;

void tdn_doorbells_close(tdn_doorbells* doorbells)
{
  const int owned[] = {
      doorbells->ring_stub, doorbells->from_stub, doorbells->wake_parent, doorbells->stub_exit};
  for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); ++i) {
    if (owned[i] >= 0) {
      close(owned[i]);
    }
  }
  *doorbells = (tdn_doorbells)TDN_DOORBELLS_CLOSED;
}

/* A pidfd for the stub, or -1 (stub_process.h: stub_exit). */
static int open_exit_bell(pid_t pid)
{
#ifdef SYS_pidfd_open
  const long fd = syscall(SYS_pidfd_open, pid, 0); /* close-on-exec by definition */
  return fd >= 0 ? (int)fd : -1;
#else
  (void)pid;
  return -1;
#endif
}

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
    const tdn_stub_command* command, const child_fds* fds, unsigned max_fd)
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
  int ok = dup2(fds->doorbell_read, TDN_STUB_DOORBELL_FD) == TDN_STUB_DOORBELL_FD &&
           dup2(fds->parent_ring, TDN_PARENT_DOORBELL_FD) == TDN_PARENT_DOORBELL_FD &&
           dup2(fds->region, TDN_STUB_REGION_FD) == TDN_STUB_REGION_FD &&
           dup2(fds->error, EXEC_ERROR_FD) == EXEC_ERROR_FD &&
           fcntl(EXEC_ERROR_FD, F_SETFD, FD_CLOEXEC) == 0 &&
           dup2(fds->doorbell_tick, TDN_STUB_TICK_FD) == TDN_STUB_TICK_FD &&
           dup2(fds->standard_error, STDERR_FILENO) == STDERR_FILENO;
  if (ok) {
    /* Triton's sockets, model files and other stubs' regions stay out. */
    if (close_range(TDN_STUB_TICK_FD + 1, ~0u, 0) != 0) {
      for (unsigned fd = TDN_STUB_TICK_FD + 1; fd < max_fd; ++fd) {
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
    ssize_t reported = write(fds->error, &none, sizeof(none));
    (void)reported;
  }
  ssize_t ignored = write(ok ? EXEC_ERROR_FD : fds->error, &failure, sizeof(failure));
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

bool tdn_stub_spawn(
    const tdn_stub_command* command, int region_fd, tdn_doorbells* doorbells, int* stderr_fd,
    pid_t* pid, tdn_diag* diag)
{
  *stderr_fd = -1;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return tdn_diag_set(diag, "cannot create a pipe: %s", strerror(errno));
  }
  const int error_read = pipe_fds[0];
  child_fds fds = {.error = move_high(pipe_fds[1])};
  /* The stub's doorbell: it blocks reading it; we never block writing it. */
  int stub_bell[2] = {-1, -1};
  int parent_bell[2] = {-1, -1};
  int standard_error[2] = {-1, -1};
  bool ok = fds.error >= 0 && pipe2(stub_bell, O_CLOEXEC) == 0 &&
            pipe2(parent_bell, O_CLOEXEC) == 0 && pipe2(standard_error, O_CLOEXEC) == 0;
  if (ok) {
    fds.doorbell_read = move_high(stub_bell[0]);
    fds.doorbell_tick = fcntl(stub_bell[1], F_DUPFD_CLOEXEC, HIGH_FD);
    fds.parent_ring = move_high(parent_bell[1]);
    fds.region = fcntl(region_fd, F_DUPFD_CLOEXEC, HIGH_FD);
    fds.standard_error = move_high(standard_error[1]);
    doorbells->ring_stub = stub_bell[1];
    doorbells->from_stub = parent_bell[0];
    *stderr_fd = standard_error[0];
    /* Neither side may block on a doorbell: the parent's writer and reader
     * (Triton's threads), and the stub's writer (a parent that does not
     * read has a byte waiting already). The stub's reader blocks. */
    ok = fds.doorbell_read >= 0 && fds.doorbell_tick >= 0 && fds.parent_ring >= 0 &&
         fds.region >= 0 && fds.standard_error >= 0 &&
         fcntl(*stderr_fd, F_SETFL, O_NONBLOCK) == 0 &&
         fcntl(doorbells->ring_stub, F_SETFL, O_NONBLOCK) == 0 &&
         fcntl(doorbells->from_stub, F_SETFL, O_NONBLOCK) == 0 &&
         fcntl(fds.parent_ring, F_SETFL, O_NONBLOCK) == 0;
  } else {
    for (int i = 0; i < 2; ++i) {
      if (stub_bell[i] >= 0) close(stub_bell[i]);
      if (parent_bell[i] >= 0) close(parent_bell[i]);
      if (standard_error[i] >= 0) close(standard_error[i]);
    }
    fds.doorbell_read = fds.doorbell_tick = fds.parent_ring = fds.region = -1;
    fds.standard_error = -1;
  }
  struct rlimit files;
  const unsigned max_fd =
      getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 65536 ? (unsigned)files.rlim_cur
                                                                      : 65536u;
  pid_t child = -1;
  if (!ok) {
    tdn_diag_set(diag, "cannot prepare the stub's descriptors: %s", strerror(errno));
  } else {
    child = fork();
    if (child == 0) {
      exec_child(command, &fds, max_fd);
    }
    if (child < 0) {
      ok = tdn_diag_set(diag, "fork failed: %s", strerror(errno));
    }
  }
  if (ok) {
    /* Before the child's end closes below; non-blocking like it (one
     * open file description). */
    doorbells->wake_parent = fcntl(fds.parent_ring, F_DUPFD_CLOEXEC, 0);
  }
  const int child_ends[] = {fds.error,       fds.doorbell_read, fds.doorbell_tick,
                            fds.parent_ring, fds.region,        fds.standard_error};
  for (size_t i = 0; i < sizeof(child_ends) / sizeof(child_ends[0]); ++i) {
    if (child_ends[i] >= 0) {
      close(child_ends[i]);
    }
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
      doorbells->stub_exit = open_exit_bell(child);
    }
  }
  if (!ok) {
    tdn_doorbells_close(doorbells);
    if (*stderr_fd >= 0) {
      close(*stderr_fd);
      *stderr_fd = -1;
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

uint64_t tdn_stub_resident_bytes(pid_t pid)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  char text[128];
  const ssize_t got = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (got <= 0) {
    return 0;
  }
  text[got] = '\0';
  unsigned long long size = 0;
  unsigned long long resident = 0;
  if (sscanf(text, "%llu %llu", &size, &resident) != 2) {
    return 0;
  }
  return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
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
