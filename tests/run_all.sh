#!/usr/bin/env bash
# `deno task test`: every phase runs, even after one fails; the exit status is
# the first failure's. Phases: formatting and lint, the normal build's unit and end-to-end tests,
# then the end-to-end tests again against the ASan/UBSan build. With
# TRITON_HOME set, the declarations of Triton's API are checked against its
# headers first, and the server API suite (tests/core/) runs in Triton's own
# core; without it, on the stand-in core.
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
# Formatting and lint are cheap and catch what no test does (an unused import).
phase "format and lint" sh -c 'deno fmt --check && deno lint'
if [ -n "${TRITON_HOME:-}" ]; then
  core="the real core at $TRITON_HOME"
  phase "Triton API declarations against $TRITON_HOME" make -s triton-api-check
else
  core="the stand-in core"
  echo "== real-core suite: TRITON_HOME is not set, so tests/core/ runs on the stand-in core (set it to a Triton install prefix, e.g. /opt/tritonserver, to run it in Triton's own core)"
fi
# tests/core/ drives a whole server through Triton's in-process API; the
# other end-to-end tests drive the stand-in's backend API directly. Each
# gets a process of its own: both load libtriton_deno.so from the same path,
# and the first core to load it would bind its TRITONBACKEND_ symbols for the
# other. deno test drops --ignore when it is given several paths, so the
# end-to-end files are listed without tests/core/.
mapfile -t e2e < <(find tests -name '*_test.ts' -not -path 'tests/core/*' | sort)
phase "unit and end to end" deno test -A --unstable-worker-options --no-check=remote \
  runtime/ sandbox/ ffi/ models/ "${e2e[@]}"
phase "server API suite (tests/core/) on $core" \
  deno test -A --unstable-worker-options --no-check=remote tests/core/
if make -s asan; then
  phase "end to end under ASan/UBSan" env TRITON_DENO_BUILD=build-asan ./tests/asan_env.sh \
    deno test -A --unstable-worker-options "${e2e[@]}"
  phase "server API suite on $core under ASan/UBSan" env TRITON_DENO_BUILD=build-asan \
    ./tests/asan_env.sh deno test -A --unstable-worker-options tests/core/
else
  echo "== test phase failed: ASan/UBSan build"
  [ "$status" -eq 0 ] && status=1
fi
exit "$status"
