/*
 * sandbox_layers.h: the layers below Deno that the parent puts around a
 * stub process, applied in the child between fork and execve (so they hold
 * from the stub's first instruction and are inherited by anything it
 * starts):
 *
 *   - rlimits: RLIMIT_DATA (private writable memory: the V8 heap, and the
 *     ArrayBuffers and Wasm memory the heap cap does not see), RLIMIT_NOFILE,
 *     RLIMIT_CORE 0 (no core files with the model's data in them);
 *   - PR_SET_NO_NEW_PRIVS (no set-uid/file-capability gains across exec);
 *   - a seccomp filter that refuses (EPERM) what no stub ever needs:
 *     debugging or reading other processes (ptrace, process_vm_*), signals
 *     to any process outside the stub's own process group, namespaces and
 *     mounts, kernel modules, kexec, BPF, perf events, the kernel keyring,
 *     io_uring (which would bypass the filter), userfaultfd, personality
 *     changes, clock and host changes. Threads are untouched: clone without
 *     namespace flags is allowed, clone3 answers ENOSYS so that libc falls
 *     back to clone, whose flags the filter can see.
 *
 * None of these need privileges. What happens without kernel support is in
 * tdn_layers_apply: each layer that cannot be applied is skipped and
 * reported, never fatal.
 */
#ifndef TDN_SANDBOX_LAYERS_H
#define TDN_SANDBOX_LAYERS_H

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>

/* Instructions the filter can hold (it uses about 150). */
#define TDN_FILTER_CAPACITY 256
/* Filter instructions whose constant is the stub's own pid, set in the child. */
#define TDN_FILTER_PID_SLOTS 8

/* Bits of tdn_layers.applied. */
#define TDN_LAYER_RLIMITS 1u
#define TDN_LAYER_NO_NEW_PRIVS 2u
#define TDN_LAYER_SECCOMP 4u

typedef struct tdn_layers {
  uint64_t data_limit_bytes; /* RLIMIT_DATA; 0 leaves it as inherited */
  uint64_t open_files;       /* RLIMIT_NOFILE; 0 leaves it as inherited */
  bool seccomp;              /* install the filter (implies no_new_privs) */
  struct sock_filter filter[TDN_FILTER_CAPACITY];
  unsigned short filter_length;
  unsigned short pid_slots[TDN_FILTER_PID_SLOTS]; /* indices into filter */
  unsigned short pid_slot_count;
  unsigned short negative_pid_slots[TDN_FILTER_PID_SLOTS]; /* compare with -pid */
  unsigned short negative_pid_slot_count;
  unsigned wanted;  /* TDN_LAYER_* bits asked for */
  unsigned applied; /* TDN_LAYER_* bits the last child managed (set by tdn_stub_spawn) */
} tdn_layers;

/* Prepares everything before fork (the child may not allocate or format).
 * Returns false (with the filter left empty and seccomp off) only if the
 * filter does not fit, which is a bug. */
bool tdn_layers_prepare(
    tdn_layers* layers, uint64_t data_limit_bytes, uint64_t open_files, bool seccomp);

/* Applies the layers to the calling process: async-signal-safe, for the
 * child between fork and execve. Returns the TDN_LAYER_* bits applied. */
unsigned tdn_layers_apply(tdn_layers* layers);

/* "rlimits, no_new_privs, seccomp" for the bits set, into `text`. */
void tdn_layers_describe(unsigned bits, char* text, unsigned long capacity);

#endif /* TDN_SANDBOX_LAYERS_H */
