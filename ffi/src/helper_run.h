/*
 * helper_run.h: runs a short-lived trusted helper process (the policy
 * evaluator) to completion: the request goes to its standard input, its
 * answer comes from its standard output, both over one socket pair (so a
 * helper that exits early cannot raise SIGPIPE in Triton), with a deadline
 * after which the helper is killed. Standard error is inherited (Triton's
 * log); no other descriptor of Triton's reaches the helper.
 */
#ifndef TDN_HELPER_RUN_H
#define TDN_HELPER_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* The most output read from a helper. */
#define TDN_HELPER_MAX_OUTPUT (16u * 1024u * 1024u)

/* Runs `path` with `argv` and `envp` (NULL-terminated), feeds it `input`,
 * collects its output (NUL-terminated, caller frees) and waits for it to
 * exit 0 within `timeout_ms`. On failure says why (exit status, signal,
 * deadline, output too large) and frees nothing the caller owns. */
bool tdn_helper_run(
    const char* path, char* const argv[], char* const envp[], const char* input,
    size_t input_length, uint64_t timeout_ms, char** output, size_t* output_length,
    tdn_diag* diag);

#endif /* TDN_HELPER_RUN_H */
