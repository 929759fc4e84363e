/**
 * End-to-end: `deno task serve` stops within a bound when streams stay
 * open. At SIGTERM it waits `--exit-timeout-secs` for in-flight requests,
 * then cancels the open streams (each model sees its request cancelled; a
 * model that ignores that has its request ended by the backend after 5 s)
 * and exits 0. Before, one stream that never ended kept the server waiting
 * forever.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { fixtureDir } from "../harness/fixtures.ts";
import { startServeProcess } from "./server_process.ts";

Deno.test({
  name:
    "serve shutdown: streams still open after --exit-timeout-secs are cancelled, and serve exits",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = Deno.makeTempDirSync({ prefix: "serve_shutdown_" });
    Deno.mkdirSync(`${repository}/stubborn/1`, { recursive: true });
    const fixture = fixtureDir("decoupled_stubborn");
    Deno.copyFileSync(`${fixture}/1/model.ts`, `${repository}/stubborn/1/model.ts`);
    Deno.writeTextFileSync(
      `${repository}/stubborn/config.pbtxt`,
      // No silence limit that a busy machine could reach: only the
      // shutdown ends this stream.
      Deno.readTextFileSync(`${fixture}/config.pbtxt`)
        .replace('name: "decoupled_stubborn"', 'name: "stubborn"')
        .replace('string_value: "400"', 'string_value: "60000"'),
    );
    const server = await startServeProcess({ repository, args: ["--exit-timeout-secs", "1"] });
    try {
      // A stream the model keeps feeding and never closes, even when cancelled.
      const response = await fetch(`${server.url}/v2/models/stubborn/generate_stream`, {
        method: "POST",
        body: JSON.stringify({ INPUT0: 3, mode: "stream" }),
      });
      assertEquals(response.status, 200);
      const reader = response.body!.getReader();
      const first = await reader.read();
      assert(!first.done, "no first event");
      const body = (async () => {
        let text = new TextDecoder().decode(first.value);
        for (;;) {
          const { done, value } = await reader.read().catch(() => ({
            done: true,
            value: undefined,
          }));
          if (done) return text;
          text += new TextDecoder().decode(value);
        }
      })();
      const stopped = await server.stop("SIGTERM");
      assertEquals(stopped.code, 0, stopped.log);
      assertStringIncludes(
        stopped.log,
        "requests still in flight after 1 s; cancelled 1 open stream(s)",
      );
      assertStringIncludes(stopped.log, "[serve] stopped");
      // The client saw its stream end with the cancellation.
      assertStringIncludes(await body, "cancelled");
    } finally {
      Deno.removeSync(repository, { recursive: true });
    }
  },
});
