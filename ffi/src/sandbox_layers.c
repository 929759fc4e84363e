/*
 * sandbox_layers.c: see sandbox_layers.h. The filter is a classic BPF
 * program built once per instance before fork; the child only patches its
 * own pid into the few instructions that compare against it. Each refused
 * system call is a `jeq nr` followed by its own `ret`, so no jump ever
 * needs more than the 8-bit offset classic BPF has.
 */
#include "sandbox_layers.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define TDN_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define TDN_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define RET_ALLOW SECCOMP_RET_ALLOW
#define RET_DENY (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))
#define RET_NOSYS (SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA))

#define OFFSET_NR offsetof(struct seccomp_data, nr)
#define OFFSET_ARCH offsetof(struct seccomp_data, arch)
/* The low 32 bits of argument i (little-endian): pids, flags. */
#define OFFSET_ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8u * (i))

/* Namespace flags of clone: a stub never creates namespaces. */
#define CLONE_NAMESPACES 0x7E020080u

#ifdef TDN_AUDIT_ARCH
/* Refused outright (EPERM). Guarded: not every call exists on every architecture. */
static const int denied_calls[] = {
#ifdef __NR_ptrace
    __NR_ptrace,
#endif
#ifdef __NR_process_vm_readv
    __NR_process_vm_readv,
#endif
#ifdef __NR_process_vm_writev
    __NR_process_vm_writev,
#endif
#ifdef __NR_process_madvise
    __NR_process_madvise,
#endif
#ifdef __NR_process_mrelease
    __NR_process_mrelease,
#endif
#ifdef __NR_pidfd_getfd
    __NR_pidfd_getfd,
#endif
#ifdef __NR_pidfd_send_signal
    __NR_pidfd_send_signal,
#endif
#ifdef __NR_tkill
    __NR_tkill,
#endif
#ifdef __NR_kcmp
    __NR_kcmp,
#endif
#ifdef __NR_mount
    __NR_mount,
#endif
#ifdef __NR_umount2
    __NR_umount2,
#endif
#ifdef __NR_pivot_root
    __NR_pivot_root,
#endif
#ifdef __NR_chroot
    __NR_chroot,
#endif
#ifdef __NR_fsopen
    __NR_fsopen,
#endif
#ifdef __NR_fsconfig
    __NR_fsconfig,
#endif
#ifdef __NR_fsmount
    __NR_fsmount,
#endif
#ifdef __NR_fspick
    __NR_fspick,
#endif
#ifdef __NR_move_mount
    __NR_move_mount,
#endif
#ifdef __NR_open_tree
    __NR_open_tree,
#endif
#ifdef __NR_mount_setattr
    __NR_mount_setattr,
#endif
#ifdef __NR_unshare
    __NR_unshare,
#endif
#ifdef __NR_setns
    __NR_setns,
#endif
#ifdef __NR_kexec_load
    __NR_kexec_load,
#endif
#ifdef __NR_kexec_file_load
    __NR_kexec_file_load,
#endif
#ifdef __NR_init_module
    __NR_init_module,
#endif
#ifdef __NR_finit_module
    __NR_finit_module,
#endif
#ifdef __NR_delete_module
    __NR_delete_module,
#endif
#ifdef __NR_bpf
    __NR_bpf,
#endif
#ifdef __NR_perf_event_open
    __NR_perf_event_open,
#endif
#ifdef __NR_keyctl
    __NR_keyctl,
#endif
#ifdef __NR_add_key
    __NR_add_key,
#endif
#ifdef __NR_request_key
    __NR_request_key,
#endif
#ifdef __NR_userfaultfd
    __NR_userfaultfd,
#endif
#ifdef __NR_io_uring_setup
    __NR_io_uring_setup,
#endif
#ifdef __NR_io_uring_enter
    __NR_io_uring_enter,
#endif
#ifdef __NR_io_uring_register
    __NR_io_uring_register,
#endif
#ifdef __NR_reboot
    __NR_reboot,
#endif
#ifdef __NR_swapon
    __NR_swapon,
#endif
#ifdef __NR_swapoff
    __NR_swapoff,
#endif
#ifdef __NR_iopl
    __NR_iopl,
#endif
#ifdef __NR_ioperm
    __NR_ioperm,
#endif
#ifdef __NR_acct
    __NR_acct,
#endif
#ifdef __NR_settimeofday
    __NR_settimeofday,
#endif
#ifdef __NR_clock_settime
    __NR_clock_settime,
#endif
#ifdef __NR_clock_adjtime
    __NR_clock_adjtime,
#endif
#ifdef __NR_adjtimex
    __NR_adjtimex,
#endif
#ifdef __NR_sethostname
    __NR_sethostname,
#endif
#ifdef __NR_setdomainname
    __NR_setdomainname,
#endif
#ifdef __NR_syslog
    __NR_syslog,
#endif
#ifdef __NR_quotactl
    __NR_quotactl,
#endif
#ifdef __NR_quotactl_fd
    __NR_quotactl_fd,
#endif
#ifdef __NR_open_by_handle_at
    __NR_open_by_handle_at,
#endif
#ifdef __NR_name_to_handle_at
    __NR_name_to_handle_at,
#endif
#ifdef __NR_lookup_dcookie
    __NR_lookup_dcookie,
#endif
#ifdef __NR_vhangup
    __NR_vhangup,
#endif
#ifdef __NR_uselib
    __NR_uselib,
#endif
#ifdef __NR_nfsservctl
    __NR_nfsservctl,
#endif
#ifdef __NR__sysctl
    __NR__sysctl,
#endif
#ifdef __NR_migrate_pages
    __NR_migrate_pages,
#endif
};
#endif

typedef struct builder {
  tdn_layers* layers;
  bool overflow;
} builder;

static void emit(builder* b, unsigned short code, unsigned jt, unsigned jf, uint32_t k)
{
  tdn_layers* layers = b->layers;
  if (layers->filter_length >= TDN_FILTER_CAPACITY || jt > 255 || jf > 255) {
    b->overflow = true;
    return;
  }
  layers->filter[layers->filter_length++] =
      (struct sock_filter){code, (unsigned char)jt, (unsigned char)jf, k};
}

static void mark_pid(builder* b, bool negative)
{
  tdn_layers* layers = b->layers;
  unsigned short* count = negative ? &layers->negative_pid_slot_count : &layers->pid_slot_count;
  unsigned short* slots = negative ? layers->negative_pid_slots : layers->pid_slots;
  if (*count >= TDN_FILTER_PID_SLOTS || layers->filter_length == 0) {
    b->overflow = true;
    return;
  }
  slots[(*count)++] = (unsigned short)(layers->filter_length - 1);
}

static void load_nr(builder* b)
{
  emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFFSET_NR);
}

#ifdef TDN_AUDIT_ARCH
/* `nr` with argument `arg` a pid: allowed when it is the stub itself (or,
 * with `group`, 0 or minus the stub: its own process group), else EPERM.
 * Leaves A = nr when the call is another one. */
static void signal_rule(builder* b, int nr, unsigned arg, bool group)
{
  /* Block: jeq nr; ld arg; jeq self [; jeq 0; jeq -self]; ret DENY; ret ALLOW */
  const unsigned tests = group ? 3u : 1u;
  emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 1 + tests + 2, (uint32_t)nr);
  emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFFSET_ARG_LOW(arg));
  emit(b, BPF_JMP | BPF_JEQ | BPF_K, tests, 0, 0); /* self, patched in the child */
  mark_pid(b, false);
  if (group) {
    emit(b, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 0);
    emit(b, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0); /* -self, patched in the child */
    mark_pid(b, true);
  }
  emit(b, BPF_RET | BPF_K, 0, 0, RET_DENY);
  emit(b, BPF_RET | BPF_K, 0, 0, RET_ALLOW);
}

static void build_filter(builder* b)
{
  emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFFSET_ARCH);
  emit(b, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, TDN_AUDIT_ARCH);
  /* A foreign system call ABI is never ours: end the process. */
  emit(b, BPF_RET | BPF_K, 0, 0, SECCOMP_RET_KILL_PROCESS);
  load_nr(b);
#if defined(__x86_64__)
  /* The x32 ABI shares the architecture value; its numbers have bit 30 set. */
  emit(b, BPF_JMP | BPF_JGE | BPF_K, 0, 1, 0x40000000u);
  emit(b, BPF_RET | BPF_K, 0, 0, RET_DENY);
#endif
  for (size_t i = 0; i < sizeof(denied_calls) / sizeof(denied_calls[0]); ++i) {
    emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)denied_calls[i]);
    emit(b, BPF_RET | BPF_K, 0, 0, RET_DENY);
  }
#ifdef __NR_clone3
  /* clone3 passes its flags in memory the filter cannot read; libc falls
   * back to clone on ENOSYS. */
  emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, __NR_clone3);
  emit(b, BPF_RET | BPF_K, 0, 0, RET_NOSYS);
#endif
  /* clone: threads and plain forks yes, namespaces no. */
  emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 4, __NR_clone);
  emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFFSET_ARG_LOW(0));
  emit(b, BPF_JMP | BPF_JSET | BPF_K, 0, 1, CLONE_NAMESPACES);
  emit(b, BPF_RET | BPF_K, 0, 0, RET_DENY);
  emit(b, BPF_RET | BPF_K, 0, 0, RET_ALLOW);
  load_nr(b);
  /* personality: only the query (0xffffffff) and PER_LINUX (0). */
  emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 5, __NR_personality);
  emit(b, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFFSET_ARG_LOW(0));
  emit(b, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 0xffffffffu);
  emit(b, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 0);
  emit(b, BPF_RET | BPF_K, 0, 0, RET_DENY);
  emit(b, BPF_RET | BPF_K, 0, 0, RET_ALLOW);
  load_nr(b);
  /* Signals: only to the stub itself or its own process group. */
  signal_rule(b, __NR_kill, 0, true);
  load_nr(b);
  signal_rule(b, __NR_tgkill, 0, false);
  load_nr(b);
  signal_rule(b, __NR_rt_sigqueueinfo, 0, false);
  load_nr(b);
  signal_rule(b, __NR_rt_tgsigqueueinfo, 0, false);
  emit(b, BPF_RET | BPF_K, 0, 0, RET_ALLOW);
}
#endif

bool tdn_layers_prepare(
    tdn_layers* layers, uint64_t data_limit_bytes, uint64_t open_files, bool seccomp)
{
  memset(layers, 0, sizeof(*layers));
  layers->data_limit_bytes = data_limit_bytes;
  layers->open_files = open_files;
  layers->wanted = TDN_LAYER_RLIMITS | TDN_LAYER_NO_NEW_PRIVS;
#ifdef TDN_AUDIT_ARCH
  if (seccomp) {
    builder b = {layers, false};
    build_filter(&b);
    if (b.overflow) {
      layers->filter_length = 0;
      return false;
    }
    layers->seccomp = true;
    layers->wanted |= TDN_LAYER_SECCOMP;
  }
#else
  (void)seccomp;
#endif
  return true;
}

/* Sets soft and hard to `value`, or to the inherited hard limit if that is
 * lower (raising it would need CAP_SYS_RESOURCE). */
static bool limit(int resource, uint64_t value)
{
  struct rlimit current;
  if (getrlimit(resource, &current) != 0) {
    return false;
  }
  rlim_t wanted = (rlim_t)value;
  if (current.rlim_max != RLIM_INFINITY && current.rlim_max < wanted) {
    wanted = current.rlim_max;
  }
  const struct rlimit next = {wanted, wanted};
  return setrlimit(resource, &next) == 0;
}

unsigned tdn_layers_apply(tdn_layers* layers)
{
  unsigned applied = 0;
  bool limits_ok = limit(RLIMIT_CORE, 0);
  if (layers->open_files != 0) {
    limits_ok = limit(RLIMIT_NOFILE, layers->open_files) && limits_ok;
  }
  if (layers->data_limit_bytes != 0) {
    limits_ok = limit(RLIMIT_DATA, layers->data_limit_bytes) && limits_ok;
  }
  if (limits_ok) {
    applied |= TDN_LAYER_RLIMITS;
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0) {
    applied |= TDN_LAYER_NO_NEW_PRIVS;
  }
  if (layers->seccomp && (applied & TDN_LAYER_NO_NEW_PRIVS) != 0) {
    const uint32_t self = (uint32_t)getpid();
    for (unsigned i = 0; i < layers->pid_slot_count; ++i) {
      layers->filter[layers->pid_slots[i]].k = self;
    }
    for (unsigned i = 0; i < layers->negative_pid_slot_count; ++i) {
      layers->filter[layers->negative_pid_slots[i]].k = (uint32_t)(-(int32_t)self);
    }
    struct sock_fprog program = {layers->filter_length, layers->filter};
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) == 0) {
      applied |= TDN_LAYER_SECCOMP;
    }
  }
  return applied;
}

void tdn_layers_describe(unsigned bits, char* text, unsigned long capacity)
{
  snprintf(
      text, capacity, "%s%s%s%s", (bits & TDN_LAYER_RLIMITS) != 0 ? "rlimits " : "",
      (bits & TDN_LAYER_NO_NEW_PRIVS) != 0 ? "no_new_privs " : "",
      (bits & TDN_LAYER_SECCOMP) != 0 ? "seccomp " : "", bits == 0 ? "none " : "");
  const size_t length = strlen(text);
  if (length > 0) {
    text[length - 1] = '\0';
  }
}
