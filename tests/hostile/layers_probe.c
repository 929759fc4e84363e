/*
 * layers_probe.c: applies the stub's layers (ffi/src/sandbox_layers.c) to
 * itself the way a stub gets them, then tries what the layers must refuse
 * and what a Deno process must still be able to do. Prints one line per
 * probe, "name result", for tests/hostile/layers_test.ts to check.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox_layers.h"

static void report(const char* name, long result)
{
  printf("%s %s\n", name, result < 0 ? strerrorname_np(errno) : "ok");
}

static void* thread_body(void* argument)
{
  return argument;
}

int main(int argc, char** argv)
{
  const pid_t outsider = argc > 1 ? (pid_t)atoi(argv[1]) : getppid();
  static tdn_layers layers;
  if (!tdn_layers_prepare(&layers, 256ull << 20, 64, true)) {
    puts("prepare failed");
    return 1;
  }
  printf("applied %u of %u\n", tdn_layers_apply(&layers), layers.wanted);

  report("ptrace_traceme", ptrace(PTRACE_TRACEME, 0, NULL, NULL));
  report("kill_outsider", kill(outsider, 0));
  report("kill_all", kill(-1, 0));
  report("kill_self", kill(getpid(), 0));
  report("kill_own_group", kill(0, 0));
  report("tgkill_outsider", syscall(SYS_tgkill, outsider, outsider, 0));
  report("tgkill_self", syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0));
  report("unshare_user", unshare(CLONE_NEWUSER));
  report("process_vm_readv", syscall(SYS_process_vm_readv, outsider, NULL, 0, NULL, 0, 0));
  report("bpf", syscall(SYS_bpf, 0, NULL, 0));
  report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
  report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
  report("mount", syscall(SYS_mount, "none", "/tmp", "tmpfs", 0, NULL));
  report("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  report("personality_query", personality(0xffffffff));
  report("personality_no_aslr", personality(ADDR_NO_RANDOMIZE));
  report("clone3", syscall(SYS_clone3, NULL, 0));
  report("x32_getpid", syscall(0x40000000 | SYS_getpid));
  pthread_t thread;
  errno = pthread_create(&thread, NULL, thread_body, NULL);
  report("thread", errno == 0 ? pthread_join(thread, NULL) : -1);
  const pid_t child = fork();
  if (child == 0) {
    _exit(0);
  }
  int status = 0;
  report("fork", child < 0 ? -1 : waitpid(child, &status, 0));
  void* big = mmap(NULL, 512ull << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  report("mmap_over_data_limit", big == MAP_FAILED ? -1 : 0);
  struct rlimit core;
  getrlimit(RLIMIT_CORE, &core);
  printf("core_limit %llu\n", (unsigned long long)core.rlim_cur);
  return 0;
}
