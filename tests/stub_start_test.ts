/**
 * End-to-end: the start timeout (`stub-timeout-seconds`) measures the
 * stub's silence, not the length of its start. A stub reports PROGRESS
 * while it starts (every second while it type-checks) and the model may
 * log; a start that keeps saying something goes on past the timeout, one
 * that says nothing for that long is killed, and the error says what it
 * was doing last.
 */

import { assert, assertStringIncludes, assertThrows } from "./harness/assert.ts";
import { fixtureDir } from "./harness/fixtures.ts";
import { HostError } from "./harness/host.ts";
import { findStubPids } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";
import { parseModelConfigText } from "../runtime/model_config/mod.ts";

const DIR = fixtureDir("slow_initialize");

/** The fixture's configuration with its two parameters set. */
function configWith(initializeMs: number, logEveryMs: number) {
  return (config: ReturnType<typeof parseModelConfigText>) => {
    config.parameters["initialize_ms"].stringValue = String(initializeMs);
    config.parameters["log_every_ms"].stringValue = String(logEveryMs);
  };
}

Deno.test("a start that keeps logging outlives stub-timeout-seconds", () =>
  withHost((host) => {
    // 2 s of silence allowed; the start takes twice that, logging every 300 ms.
    const model = host.loadModel(DIR, { configOverride: configWith(4000, 300) });
    assert(findStubPids(DIR).length === 1, "the stub should be running");
    model.unload();
  }, { "stub-timeout-seconds": "2" }));

Deno.test("a silent start is killed after stub-timeout-seconds, naming what it was doing", () =>
  withHost((host) => {
    const error = assertThrows(
      () => host.loadModel(DIR, { configOverride: configWith(60_000, 0) }),
      HostError,
    );
    assertStringIncludes(error.message, "said nothing for 2 s (stub-timeout-seconds)");
    assertStringIncludes(error.message, "the model's initialize was running");
    assert(findStubPids(DIR).length === 0, "the silent stub should be gone");
  }, { "stub-timeout-seconds": "2" }));
