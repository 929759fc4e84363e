/**
 * End-to-end, through `deno task serve`: an idle stub costs nothing. A
 * Worker idle for a whole tick sleeps in its event loop (its timers and I/O
 * run on their own), and the stub's main thread then waits for events only:
 * the Worker's bell, its death, or the parent's exit, which closes the
 * parent's doorbell. So no thread of an idle stub wakes, and a stub whose
 * server was killed leaves at once, without polling for it.
 *
 * @module
 */

import { assert, assertEquals } from "../harness/assert.ts";
import { exampleModelDir } from "../harness/fixtures.ts";
import { findStubPids, isGone, waitFor } from "../harness/processes.ts";
import { startServeProcess } from "./server_process.ts";

/**
 * Context switches so far of each stub's main thread and of its model's
 * Worker (the threads an idle tick wakes), by thread id.
 */
function wakeUps(stubs: number[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pid of stubs) {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const dir = `/proc/${pid}/task/${task.name}`;
      const name = Deno.readTextFileSync(`${dir}/comm`).trim();
      if (task.name !== String(pid) && !name.startsWith("worker")) continue;
      const status = Deno.readTextFileSync(`${dir}/status`);
      const switches = [...status.matchAll(/ctxt_switches:\s+(\d+)/g)]
        .reduce((sum, match) => sum + Number(match[1]), 0);
      counts.set(`${pid}/${task.name} (${name})`, switches);
    }
  }
  return counts;
}

const ADD: string = JSON.stringify({
  inputs: ["INPUT0", "INPUT1"].map((name) => ({
    name,
    shape: [4],
    datatype: "FP32",
    data: [1, 2, 3, 4],
  })),
});

Deno.test({
  name: "an idle stub wakes none of its threads, and leaves as soon as its server is killed",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const server = await startServeProcess({
      repository: "models",
      args: ["--model", "add_sub", "--allow-grpc", "false"],
    });
    let stubs: number[] = [];
    try {
      stubs = findStubPids(exampleModelDir("add_sub"), server.pid);
      assertEquals(stubs.length, 2, "add_sub has two instances");
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`${server.url}/v2/models/add_sub/infer`, {
          method: "POST",
          body: ADD,
        });
        assertEquals(response.status, 200, await response.text());
      }
      // A blocked Worker is ticked after at most a second with no record;
      // after that tick it sleeps in its event loop.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const before = wakeUps(stubs);
      assertEquals(before.size, 4, `a main thread and a Worker per stub: ${[...before.keys()]}`);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const after = wakeUps(stubs);
      const woke = [...before].filter(([thread, count]) => after.get(thread) !== count)
        .map(([thread, count]) => `${thread}: ${after.get(thread)! - count}`);
      // Ticks would wake each main thread and Worker twice a second.
      assertEquals(woke, [], "threads of idle stubs woke");
    } finally {
      await server.stop("SIGKILL");
    }
    // The parent's doorbell closed with it: each stub sees that as an event.
    const started = performance.now();
    const left = await waitFor(() => stubs.every(isGone), 5_000);
    assert(
      left,
      `stubs still running after the server was killed: ${stubs.filter((p) => !isGone(p))}`,
    );
    const seconds = (performance.now() - started) / 1000;
    assert(seconds < 1, `the stubs took ${seconds.toFixed(2)} s to leave`);
  },
});
