/**
 * End-to-end: `deno task serve` holds under abusive connections. Each case
 * sends its abuse, checks the server closes the connection (or answers
 * 408) within its timeouts, and then checks the server still serves.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { startServeProcess } from "./server_process.ts";

const ADD_SUB_BODY = JSON.stringify({
  inputs: [
    { name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
    { name: "INPUT1", datatype: "FP32", shape: [4], data: [1, 1, 1, 1] },
  ],
});

async function assertServes(url: string): Promise<void> {
  const response = await fetch(`${url}/v2/models/add_sub/infer`, {
    method: "POST",
    body: ADD_SUB_BODY,
  });
  const body = await response.json();
  assertEquals(response.status, 200, JSON.stringify(body));
  assertEquals(body.outputs[0].data, [2, 3, 4, 5]);
}

/**
 * Sends `bytes` on a fresh connection and reads until the server closes it
 * (or `withinMs` passes: then it fails). Returns what the server sent.
 */
async function sendAndAwaitClose(port: number, bytes: string, withinMs: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    if (bytes.length > 0) await conn.write(new TextEncoder().encode(bytes));
    let text = "";
    const buffer = new Uint8Array(4096);
    const deadline = Date.now() + withinMs;
    for (;;) {
      const left = deadline - Date.now();
      assert(
        left > 0,
        `the server kept the connection open for ${withinMs} ms after ${
          JSON.stringify(bytes.slice(0, 60))
        }`,
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((resolve) =>
        timer = setTimeout(() => resolve("timeout"), left)
      );
      const n = await Promise.race([conn.read(buffer).catch(() => null), timeout]);
      clearTimeout(timer);
      if (n === "timeout") continue;
      if (n === null) return text;
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

const INFER = "POST /v2/models/add_sub/infer HTTP/1.1\r\nHost: x\r\n";

Deno.test({
  name: "serve abuse: stalled and idle connections are closed, and the server still serves",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServeProcess({
      repository: "models",
      args: [
        "--model",
        "add_sub",
        "--model",
        "stream_text",
        "--http-idle-timeout-secs",
        "1",
        "--http-header-timeout-secs",
        "1",
        "--http-body-timeout-secs",
        "1",
      ],
    });
    try {
      const within = 15_000; // Timeouts of 1 s, with room for a busy machine.
      const cases: [string, string, string | undefined][] = [
        ["no bytes at all", "", undefined],
        ["half-sent headers", INFER, undefined],
        ["a partial body", `${INFER}Content-Length: 100\r\n\r\n{"in`, "408"],
        ["60 MB announced, a tiny body sent", `${INFER}Content-Length: 60000000\r\n\r\n{}`, "408"],
        [
          "a chunk announced huge",
          `${INFER}Transfer-Encoding: chunked\r\n\r\nFFFFFFF\r\nabc`,
          "408",
        ],
        ["idle after a response", "GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n", "200"],
      ];
      const outcomes = await Promise.all(
        cases.map(([, bytes]) => sendAndAwaitClose(server.port, bytes, within)),
      );
      for (const [index, [what, , status]] of cases.entries()) {
        if (status === undefined) assertEquals(outcomes[index], "", what);
        else assertStringIncludes(outcomes[index], `HTTP/1.1 ${status}`, what);
      }
      assertStringIncludes(outcomes[2], "the request body stopped arriving");
      await assertServes(server.url);
      // A stream quieter than the idle timeout is in flight, not idle: it runs to its end.
      const stream = await fetch(`${server.url}/v2/models/stream_text/generate_stream`, {
        method: "POST",
        body: JSON.stringify({ TEXT: "slow words keep coming", parameters: { delay_ms: 1500 } }),
      });
      const events = (await stream.text()).split("\n\n").filter((event) => event !== "");
      assertEquals(events.length, 4, events.join("\n"));
      assertStringIncludes(events[3], '"TOKEN":"coming"');
    } finally {
      const { code, log } = await server.stop("SIGTERM");
      assertEquals(code, 0, log);
    }
  },
});

Deno.test({
  name:
    "serve abuse: 1,100 idle connections under ulimit -n 1024 neither kill the server nor its stubs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServeProcess({
      repository: "models",
      args: ["--model", "add_sub"],
      openFilesLimit: 1024,
    });
    const conns: Deno.TcpConn[] = [];
    try {
      assertStringIncludes(server.log(), "(open-files limit 1024)");
      await assertServes(server.url);
      for (let i = 0; i < 1100; i++) {
        try {
          conns.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
        } catch (error) {
          throw new Error(
            `connection ${i} was refused: ${(error as Error).message}\n${server.log()}`,
          );
        }
      }
      // New clients are served: the idle connections longest idle make room.
      await assertServes(server.url);
      await assertServes(server.url);
      assert(!server.log().includes("Too many open files\n"), server.log());
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed by the server */ }
      }
      const { code, log } = await server.stop("SIGTERM");
      assertEquals(code, 0, log);
      assertStringIncludes(log, "[serve] stopped");
    }
  },
});

Deno.test({
  name: "serve abuse: a connection cap above the open-files limit is survived; serving resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServeProcess({
      repository: "models",
      args: ["--model", "add_sub", "--http-max-connections", "5000"],
      openFilesLimit: 1024,
    });
    const conns: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < 1100; i++) {
        try {
          conns.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
        } catch { /* refused once the backlog is full: fine */ }
      }
      // Let the server take them all in (and run out of descriptors).
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed by the server */ }
      }
    }
    try {
      let served = false;
      for (let attempt = 0; attempt < 20 && !served; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        served = await assertServes(server.url).then(() => true, () => false);
      }
      assert(served, server.log());
    } finally {
      const { code, log } = await server.stop("SIGTERM");
      assertEquals(code, 0, log);
    }
  },
});
