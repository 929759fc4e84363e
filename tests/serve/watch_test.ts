/**
 * End to end over real HTTP: `deno task serve --watch` reloads a model when
 * its files change, keeps serving the previous version while a change does
 * not load (and says why, with file:line), and serve binds its port before
 * it loads anything.
 */
import { assert, assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { scaffold } from "../../runtime/scaffold/init_model.ts";
import { DENO, ROOT, startServeProcess } from "./server_process.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

async function infer(url: string, values: number[]): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${url}/v2/models/doubler/infer`, {
    method: "POST",
    body: JSON.stringify({
      inputs: [{ name: "INPUT0", datatype: "FP32", shape: [values.length], data: values }],
    }),
  });
  return { status: response.status, json: await response.json() };
}

/** Waits (up to 60 s) until the log has `text` after `from`; returns the log's length then. */
async function logged(log: () => string, text: string, from: number): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const index = log().indexOf(text, from);
    if (index >= 0) return index + text.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the log never said ${JSON.stringify(text)}:\n${log().slice(from)}`);
}

Deno.test({
  name: "serve --watch: an edit reloads the model; a broken edit keeps the previous version",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = Deno.makeTempDirSync({ prefix: "serve_watch_" });
    scaffold(`${repository}/doubler`, { decoupled: false, bls: false });
    const model = `${repository}/doubler/1/model.ts`;
    const source = Deno.readTextFileSync(model);
    const server = await startServeProcess({ repository, args: ["--watch"] });
    try {
      assertStringIncludes(server.log(), "watching");
      assertEquals((await infer(server.url, [1, 2])).json.outputs[0].data, [2, 4]);

      // An edit: three times instead of twice.
      let at = server.log().length;
      Deno.writeTextFileSync(model, source.replace("2 * input.data[i]", "3 * input.data[i]"));
      at = await logged(server.log, "model doubler reloaded", at);
      assertEquals((await infer(server.url, [1, 2])).json.outputs[0].data, [3, 6]);

      // A type error: reported with file:line; the tripler keeps serving.
      const broken = source.replace("2 * input.data[i]", '"two" * input.data[i]');
      Deno.writeTextFileSync(model, broken);
      at = await logged(server.log, "model doubler failed to load; version 1 keeps serving", at);
      const line = broken.split("\n").findIndex((text) => text.includes('"two"')) + 1;
      assertStringIncludes(server.log().slice(at), `model.ts:${line}`);
      assertEquals((await infer(server.url, [1, 2])).json.outputs[0].data, [3, 6]);

      // Fixed again.
      Deno.writeTextFileSync(model, source);
      await logged(server.log, "model doubler reloaded", at);
      assertEquals((await infer(server.url, [5])).json.outputs[0].data, [10]);
    } finally {
      const { code, log } = await server.stop("SIGTERM");
      assertEquals(code, 0, log);
      Deno.removeSync(repository, { recursive: true });
    }
  },
});

Deno.test({
  name: "serve binds its port first: a port in use fails before any model loads",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const repository = Deno.makeTempDirSync({ prefix: "serve_port_" });
    scaffold(`${repository}/doubler`, { decoupled: false, bls: false });
    try {
      const port = (taken.addr as Deno.NetAddr).port;
      const started = performance.now();
      const output = await new Deno.Command(DENO, {
        args: [
          "run",
          "-A",
          "--unstable-worker-options",
          `${ROOT}runtime/serve/main.ts`,
          "--model-repository",
          repository,
          "--http-port",
          String(port),
        ],
        cwd: ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(output.stderr);
      assertEquals(output.code, 1, log);
      assertStringIncludes(log, `127.0.0.1:${port} is in use`);
      assertStringIncludes(log, "nothing was loaded");
      assert(!log.includes("model doubler"), log);
      assert(performance.now() - started < 20_000, "serve did not fail at once");
    } finally {
      taken.close();
      Deno.removeSync(repository, { recursive: true });
    }
  },
});
