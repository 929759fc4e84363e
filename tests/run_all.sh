#!/usr/bin/env bash
# `deno task test`: every phase runs, even after one fails; the exit status is
# the first failure's. Phases: the normal build's unit and end-to-end tests,
# then the end-to-end tests again against the ASan/UBSan build. With
# TRITON_HOME set, the declarations of Triton's API are checked against its
# headers first and the real-core suite (tests/core/) runs after each phase,
# in a process of its own.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
phase() {
  local name=$1
  shift
  echo "== test phase: $name"
  "$@"
  local code=$?
  if [ "$code" -ne 0 ]; then
    echo "== test phase failed: $name (exit $code)"
    [ "$status" -eq 0 ] && status=$code
  fi
  return 0
}
# Without the normal build nothing can run.
make -s build || exit
if [ -n "${TRITON_HOME:-}" ]; then
  phase "Triton API declarations against $TRITON_HOME" make -s triton-api-check
else
  echo "== real-core suite skipped: TRITON_HOME is not set (set it to a Triton install prefix, e.g. /opt/tritonserver, to run tests/core/ in Triton's own core)"
fi
# Triton's core and the stand-in core cannot share a process: both load
# libtriton_deno.so from the same path, and the first to load it binds its
# TRITONBACKEND_ symbols for the other too. So tests/core/ runs on its own.
core_phase() {
  [ -n "${TRITON_HOME:-}" ] || return 0
  phase "real core$1" "${@:2}" deno test -A --unstable-worker-options tests/core/
}
# The end-to-end tests but tests/core/ (deno's --ignore does not hold with several paths).
mapfile -t e2e < <(find tests -name '*_test.ts' -not -path 'tests/core/*' | sort)
phase "unit and end to end" deno test -A --unstable-worker-options --no-check=remote \
  runtime/ sandbox/ ffi/ models/ "${e2e[@]}"
core_phase "" env
if make -s asan; then
  phase "end to end under ASan/UBSan" env TRITON_DENO_BUILD=build-asan ./tests/asan_env.sh \
    deno test -A --unstable-worker-options "${e2e[@]}"
  core_phase " under ASan/UBSan" env TRITON_DENO_BUILD=build-asan ./tests/asan_env.sh
else
  echo "== test phase failed: ASan/UBSan build"
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
