/*
 * stub_stderr.h: a stub's standard error. It is a pipe to the parent, not
 * Triton's own standard error: the model's Worker shares the stub's
 * descriptors (node:fs writes to any descriptor number), so whatever reaches
 * descriptor 2 may be the model's. One thread for the whole backend reads
 * every stub's pipe and writes each line to Triton's log as the stub's
 * (printable, prefixed with the model and instance, rate-limited like LOG
 * records: stub_log.h). From one stub it reads at most
 * TDN_STUB_STDERR_BYTES_PER_SECOND; beyond that it stops reading until the
 * next second and the stub's writes block, so a flood costs the stub that
 * floods, not Triton.
 */
#ifndef TDN_STUB_STDERR_H
#define TDN_STUB_STDERR_H

#define TDN_STUB_STDERR_BYTES_PER_SECOND (1024u * 1024u)

typedef struct tdn_stub_stderr tdn_stub_stderr;

/* Starts reading `fd` (a pipe's non-blocking read end; taken over, closed
 * on failure too), starting the reading thread if it is not running.
 * NULL if it cannot be watched: the stub runs the same, its standard error
 * unread once the pipe is full. */
tdn_stub_stderr* tdn_stub_stderr_watch(int fd, const char* model_name, const char* instance_name);

/* Reads what is left (within the second's allowance; the stub is gone, so
 * its end is closed), stops watching, closes and frees. NULL is ignored. */
void tdn_stub_stderr_close(tdn_stub_stderr* watch);

/* Stops the reading thread (TRITONBACKEND_Finalize: the library may be
 * unloaded next). Watches still open are closed. A later watch starts the
 * thread again. */
void tdn_stub_stderr_shutdown(void);

#endif /* TDN_STUB_STDERR_H */
