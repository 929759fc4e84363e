import { assertEquals } from "../harness/assert.ts";
import { alternating, type Run } from "./core_runner.ts";

function run(p50Us: number): Run {
  return {
    requestsPerSecond: 1e6 / p50Us,
    p50Us,
    p99Us: p50Us,
    cpuUsPerRequest: 1,
    waitUsPerRequest: 1,
    failed: 0,
  };
}

Deno.test("alternating: subjects take turns, first and second in turn, and each keeps its median run by p50", async () => {
  const order: string[] = [];
  const p50s: Record<string, number[]> = { a: [30, 10, 20], b: [5, 50, 7] };
  const results = await alternating(["a", "b"], 3, (subject) => {
    order.push(subject);
    return Promise.resolve(run(p50s[subject].shift()!));
  });
  assertEquals(order, ["a", "b", "b", "a", "a", "b"]);
  assertEquals(results.get("a")?.p50Us, 20);
  assertEquals(results.get("b")?.p50Us, 7);
});

Deno.test("alternating: a subject whose run fails is left out, the others go on", async () => {
  const order: string[] = [];
  const logged: string[] = [];
  const log = console.log;
  console.log = (line: string) => logged.push(line);
  try {
    const results = await alternating(["ok", "stalls"], 3, (subject) => {
      order.push(subject);
      if (subject === "stalls" && order.length > 2) {
        return Promise.reject(new Error("model 'x' did not complete request 3 within 60 s"));
      }
      return Promise.resolve(run(10));
    });
    assertEquals(order, ["ok", "stalls", "stalls", "ok", "ok"]);
    assertEquals([...results.keys()], ["ok"]);
    assertEquals(logged, [
      "(stalls: left out, model 'x' did not complete request 3 within 60 s)",
    ]);
  } finally {
    console.log = log;
  }
});
