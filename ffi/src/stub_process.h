/*
 * stub_process.h: starting, watching and stopping one stub process. The
 * stub leads its own process group, so killing the group also reaches
 * anything it spawned.
 */
#ifndef TDN_STUB_PROCESS_H
#define TDN_STUB_PROCESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "sandbox_layers.h"

/* Everything execve needs, prepared before fork: the child may only make
 * async-signal-safe calls, so it must not allocate or format. */
typedef struct tdn_stub_command {
  char* path;   /* absolute path of deno */
  char** argv;  /* NULL-terminated */
  char** envp;  /* NULL-terminated */
  tdn_layers* layers; /* applied in the child before exec (NULL: none); `applied` is updated */
} tdn_stub_command;

/* The parent's ends of the two doorbell pipes (tdn_wire.h), both
 * non-blocking and close-on-exec; -1 when closed. */
typedef struct tdn_doorbells {
  int ring_stub;  /* write a byte: wakes a stub that sleeps on its doorbell */
  int from_stub;  /* readable when the stub rang the parent */
  /* Another writer of the parent's doorbell, kept by the parent: one of
   * Triton's threads ends another's sleep on from_stub through it. -1 when
   * it could not be made. */
  int wake_parent;
  /* The stub's pidfd: readable once the stub has exited, so a sleep on
   * from_stub can end at its death rather than poll for it. -1 where the
   * kernel has no pidfd_open (before Linux 5.3, some user-space kernels). */
  int stub_exit;
} tdn_doorbells;

#define TDN_DOORBELLS_CLOSED {-1, -1, -1, -1}

/* Closes every descriptor and marks them closed. */
void tdn_doorbells_close(tdn_doorbells* doorbells);

/* fork + execve with: descriptor 3 = region_fd; 0 = the stub's doorbell
 * (read end), 1 = the parent's doorbell (write end, non-blocking), 5 =
 * another writer of the stub's doorbell; 2 = a pipe whose non-blocking
 * read end goes to *stderr_fd (stub_stderr.h; -1 on failure); nothing else open;
 * default signal handling, empty signal mask, its own process group; the
 * command's layers (rlimits, no_new_privs, seccomp) applied just before
 * execve. The parent's ends go to *doorbells, with the parent's own writer
 * of its doorbell and the stub's pidfd (each -1 if it could not be made:
 * not a failure). Fails if fork fails or the exec itself fails (the child
 * reports which layers it applied, then execve's errno, through a
 * close-on-exec pipe). */
bool tdn_stub_spawn(
    const tdn_stub_command* command, int region_fd, tdn_doorbells* doorbells, int* stderr_fd,
    pid_t* pid, tdn_diag* diag);

/* True if the stub has exited; it is left a zombie (so its pid and process
 * group cannot be reused) until tdn_stub_kill_and_reap. `how` gets "exited
 * with status 1" or "was killed by signal 9 (SIGKILL)". */
bool tdn_stub_has_exited(pid_t pid, tdn_diag* how);

/* The stub's resident memory in bytes (/proc/<pid>/statm), or 0 when it
 * cannot be read (the stub is gone). */
uint64_t tdn_stub_resident_bytes(pid_t pid);

/* SIGKILLs the stub's process group and reaps the stub (blocking until it
 * is gone, which SIGKILL makes prompt). `how` (may be NULL) gets how it
 * ended. */
void tdn_stub_kill_and_reap(pid_t pid, tdn_diag* how);

#endif /* TDN_STUB_PROCESS_H */
