/**
 * End-to-end: the backend leaves nothing in /dev/shm — not while models are
 * loaded, not after a stub is killed, not after unload. Each region's name is
 * unlinked as soon as both sides hold it, so /dev/shm never fills up the way
 * python_backend's does in small containers.
 */

import { assert, assertEquals } from "./harness/assert.ts";
import { exampleModelDir, fixtureDir } from "./harness/fixtures.ts";
import type { InferRequest } from "./harness/host.ts";
import { findStubPids, isGone, listSharedMemory, waitFor } from "./harness/processes.ts";
import { withHost } from "./harness/session.ts";

function request(id: string, length: number): InferRequest {
  return {
    id,
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [length], data: new Float32Array(length).fill(1) },
      { name: "INPUT1", datatype: "FP32", shape: [length], data: new Float32Array(length).fill(2) },
    ],
  };
}

Deno.test("no shared-memory object is left in /dev/shm during or after a model's life", () => {
  const before = new Set(Array.from(Deno.readDirSync("/dev/shm"), (entry) => entry.name));
  let prefixSeen = "";
  return withHost(async (host, { shmPrefix }) => {
    prefixSeen = shmPrefix;
    assertEquals(listSharedMemory(shmPrefix), [], "nothing under this prefix before the test");
    const addSub = host.loadModel(exampleModelDir("add_sub"));
    const errors = host.loadModel(fixtureDir("throw_in_execute"));
    assertEquals(
      listSharedMemory(shmPrefix),
      [],
      "names must be unlinked once the stubs hold them",
    );

    // Big enough (4 MiB per input) to make the arena grow past its default size.
    for (const [instance, length] of [[0, 4], [1, 1 << 20], [0, 1 << 20]]) {
      const [result] = addSub.execute(instance, [request(`n${length}`, length)]);
      assertEquals(result.error, null);
    }
    const [failed] = errors.execute(0, [request("throws", 4)]);
    assert(failed.error !== null);
    assertEquals(listSharedMemory(shmPrefix), [], "after executes");

    // A crashed stub must not leave its region behind either.
    const [victim] = findStubPids(addSub.directory);
    Deno.kill(victim, "SIGKILL");
    assert(await waitFor(() => isGone(victim), 5_000), "the killed stub was not reaped");
    const [afterCrash] = addSub.execute(0, [request("after-crash", 1 << 20)]);
    assertEquals(afterCrash.error, null, afterCrash.error?.message);
    assertEquals(listSharedMemory(shmPrefix), [], "after a stub crash and restart");

    addSub.unload();
    errors.unload();
    assertEquals(listSharedMemory(shmPrefix), [], "after unload");
  }).then(() => {
    assertEquals(listSharedMemory(prefixSeen), [], "after the backend finalized");
    const leftovers = Array.from(Deno.readDirSync("/dev/shm"), (entry) => entry.name)
      .filter((name) => !before.has(name) && name.startsWith("tdn_e2e_"));
    assertEquals(leftovers, [], "objects of any test prefix appeared in /dev/shm");
  });
});
