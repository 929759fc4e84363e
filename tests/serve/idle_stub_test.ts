/**
 * End-to-end, through `deno task serve`: an idle stub costs nothing. A
 * Worker idle for a whole tick sleeps in its event loop (its timers and I/O
 * run on their own), and the stub's main thread then waits for events only:
 * the Worker's bell, its death, or the parent's exit, which closes the
 * parent's doorbell. So no thread of an idle stub wakes, and a stub whose
 * server was killed leaves at once, without polling for it. The same holds
 * for a decoupled model after its streams, and its response thread in the
 * server rests (it wakes once a second, not 200 times).
 *
 * @module
 */

import { assert, assertEquals } from "../harness/assert.ts";
import { exampleModelDir } from "../harness/fixtures.ts";
import { findStubPids, isGone, waitFor } from "../harness/processes.ts";
import { startServeProcess } from "./server_process.ts";

/** Context switches so far of a process's threads that `take` picks, by thread id. */
function switchesOf(
  pids: number[],
  take: (pid: number, thread: string, name: string) => boolean,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pid of pids) {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      const dir = `/proc/${pid}/task/${task.name}`;
      const name = Deno.readTextFileSync(`${dir}/comm`).trim();
      if (!take(pid, task.name, name)) continue;
      const status = Deno.readTextFileSync(`${dir}/status`);
      const switches = [...status.matchAll(/ctxt_switches:\s+(\d+)/g)]
        .reduce((sum, match) => sum + Number(match[1]), 0);
      counts.set(`${pid}/${task.name} (${name})`, switches);
    }
  }
  return counts;
}

/**
 * Context switches so far of each stub's main thread and of its model's
 * Worker (the threads an idle tick wakes), by thread id.
 */
function wakeUps(stubs: number[]): Map<string, number> {
  return switchesOf(
    stubs,
    (pid, thread, name) => thread === String(pid) || name.startsWith("worker"),
  );
}

/** How many times each thread of `before` switched since. */
function wokeSince(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...before].filter(([thread, count]) => after.get(thread) !== count)
    .map(([thread, count]) => `${thread}: ${after.get(thread)! - count}`);
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
      // Ticks would wake each main thread and Worker twice a second.
      assertEquals(wokeSince(before, wakeUps(stubs)), [], "threads of idle stubs woke");
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

Deno.test({
  name: "after its streams, a decoupled model's idle stub wakes none of its threads, and its " +
    "response thread rests",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const server = await startServeProcess({
      repository: "models",
      args: ["--model", "stream_text", "--allow-grpc", "false"],
    });
    try {
      const [stub] = findStubPids(exampleModelDir("stream_text"), server.pid);
      assert(stub !== undefined, "stream_text's stub runs");
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`${server.url}/v2/models/stream_text/generate_stream`, {
          method: "POST",
          body: JSON.stringify({ TEXT: "three short words" }),
        });
        const events = await response.text();
        assertEquals(response.status, 200, events);
        assert(events.includes("words"), events);
      }
      const responseThread = (_pid: number, _thread: string, name: string) =>
        name === "tdn-responses";
      // The streams' wait outlived their work: the main thread ends its park
      // for it and ticks it once idle, which moves it to the event loop (about
      // 3 s on a quiet machine, longer on a busy one). Then 2 s go by with no
      // thread of the stub awake; a stub still ticked would wake every second.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      let woke: string[] = [];
      let pumpWoke = 0;
      for (let window = 0; window < 8; window++) {
        const before = wakeUps([stub]);
        const pumpBefore = switchesOf([server.pid], responseThread);
        assertEquals(pumpBefore.size, 1, "one response thread in the server");
        await new Promise((resolve) => setTimeout(resolve, 2000));
        woke = wokeSince(before, wakeUps([stub]));
        const [[thread, count]] = [...pumpBefore];
        pumpWoke = switchesOf([server.pid], responseThread).get(thread)! - count;
        if (woke.length === 0) break;
      }
      assertEquals(woke, [], "threads of the idle stub woke in every 2 s for 16 s");
      // Resting, it sleeps a second at a time: 2 or 3 wake-ups; watching
      // (5 ms slices), it would wake about 400 times.
      assert(pumpWoke <= 10, `the idle response thread woke ${pumpWoke} times in 2 s`);
    } finally {
      await server.stop("SIGKILL");
    }
  },
});
