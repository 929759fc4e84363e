/**
 * `deno task serve` prints Triton's log on standard error by default, in
 * Triton's format, as tritonserver does: a model's logger lines and the
 * backend's own; `--log-info false` keeps the info lines out, warnings stay.
 *
 * @module
 */

import { assert, assertMatch } from "../harness/assert.ts";
import { makeFixtureRepository, startServeProcess } from "./server_process.ts";

/** Streams "one two" through stream_text and reads the whole answer. */
async function streamTwoWords(url: string): Promise<void> {
  const response = await fetch(`${url}/v2/models/stream_text/generate_stream`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ TEXT: "one two", id: "log-1" }),
  });
  await response.text();
}

/** Triton's line: level, MMDD, time with microseconds, pid, file:line, quoted message. */
const TRITON_LINE = /^[IWEV]\d{4} \d\d:\d\d:\d\d\.\d{6} \d+ [^\s:]+:\d+\] ".*"$/;

Deno.test("serve log: Triton's log on standard error in Triton's format, models' lines included", async () => {
  const repository = makeFixtureRepository(["stream_text"], false);
  try {
    const server = await startServeProcess({ repository });
    let log: string;
    try {
      await streamTwoWords(server.url);
      // The line is written as the model logs it; give it a moment to arrive.
      for (let i = 0; i < 50 && !server.log().includes("streaming 2 words"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      log = (await server.stop()).log;
    }
    const line = log.split("\n").find((text) => text.includes("streaming 2 words"));
    assert(line !== undefined, `the model's logger line is in serve's output:\n${log}`);
    assertMatch(line, TRITON_LINE);
    assert(line.startsWith("I"), line);
    assert(line.includes("request 'log-1'"), line);
  } finally {
    Deno.removeSync(repository, { recursive: true });
  }
});

Deno.test("serve log: --log-info false leaves the info lines out", async () => {
  const repository = makeFixtureRepository(["stream_text"], false);
  try {
    const server = await startServeProcess({ repository, args: ["--log-info", "false"] });
    let log: string;
    try {
      await streamTwoWords(server.url);
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      log = (await server.stop()).log;
    }
    assert(!log.includes("streaming 2 words"), log);
  } finally {
    Deno.removeSync(repository, { recursive: true });
  }
});

Deno.test("serve log: POST /v2/logging switches Triton's info lines as the server runs", async () => {
  const repository = makeFixtureRepository(["stream_text"], false);
  try {
    const server = await startServeProcess({ repository });
    let log: string;
    try {
      const off = await fetch(`${server.url}/v2/logging`, {
        method: "POST",
        body: JSON.stringify({ log_info: false }),
      });
      assert((await off.json()).log_info === false);
      await streamTwoWords(server.url);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert(!server.log().includes("streaming 2 words"), server.log());
      const on = await fetch(`${server.url}/v2/logging`, {
        method: "POST",
        body: JSON.stringify({ log_info: true }),
      });
      await on.body?.cancel();
      await streamTwoWords(server.url);
      for (let i = 0; i < 50 && !server.log().includes("streaming 2 words"); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      log = (await server.stop()).log;
    }
    assert(log.includes("streaming 2 words"), log);
  } finally {
    Deno.removeSync(repository, { recursive: true });
  }
});
