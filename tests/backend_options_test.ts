/**
 * End-to-end: the backend options python_backend operators pass. Those that
 * mean something here are honoured (their own tests cover them); the two
 * that have no counterpart load with one warning naming them, and a key
 * nobody knows still fails the backend load.
 */

import { assert, assertEquals, assertStringIncludes, assertThrows } from "./harness/assert.ts";
import { Host, HostError } from "./harness/host.ts";
import { uniqueShmPrefix } from "./harness/session.ts";

/** The host's log since this backend's TRITONBACKEND_Initialize (the log is process-wide). */
function ownLog(host: Host): string {
  const log = host.log();
  return log.slice(log.lastIndexOf("TRITONBACKEND_Initialize"));
}

Deno.test("python_backend's thread-pool-size and shm-message-queue-size load with one warning", () => {
  const host = Host.open({
    options: {
      "shm-region-prefix-name": uniqueShmPrefix(),
      "thread-pool-size": "4",
      "shm-message-queue-size": "1000",
      // Honoured as in python_backend.
      "shm-default-byte-size": "2097152",
      "shm-growth-byte-size": "1048576",
      "stub-timeout-seconds": "20",
    },
  });
  try {
    const log = ownLog(host);
    const lines = log.split("\n").filter((line) => line.includes("no effect"));
    assertEquals(lines.length, 1, log);
    assertStringIncludes(lines[0], "thread-pool-size, shm-message-queue-size");
    assertStringIncludes(log, "shm 2097152/1048576/");
    assertStringIncludes(log, "stub timeout 20 s");
  } finally {
    host.close();
  }
});

Deno.test("without them there is no such warning", () => {
  const host = Host.open({ options: { "shm-region-prefix-name": uniqueShmPrefix() } });
  try {
    assert(!ownLog(host).includes("no effect"), ownLog(host));
  } finally {
    host.close();
  }
});

Deno.test("an unknown key still fails the backend load, naming it", () => {
  const error = assertThrows(
    () => Host.open({ options: { "thread-pool-sizes": "4" } }),
    HostError,
  );
  assertStringIncludes(error.message, "unknown backend config key 'thread-pool-sizes'");
});
