#!/usr/bin/env bash
# Runs a command with the AddressSanitizer runtime preloaded, so that the ASan/UBSan builds of
# libtriton_deno.so and the test host can be loaded into Deno through FFI. Stubs do not inherit it:
# the backend starts them with a clean environment.
set -euo pipefail
asan_runtime=$(${CC:-gcc} -print-file-name=libasan.so)
export LD_PRELOAD="$asan_runtime"
# V8 reserves and frees memory in ways LeakSanitizer cannot follow; leaks are checked in C tests.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:${UBSAN_OPTIONS:-}"
exec "$@"
