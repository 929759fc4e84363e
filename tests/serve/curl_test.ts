/**
 * Runs tests/serve/readme_examples.sh, the curl commands the README shows,
 * against the server serving models/add_sub, and checks what they print.
 */
import { assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { ROOT, startServeProcess } from "./server_process.ts";

Deno.test({
  name: "serve: the README's curl examples work as written",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const server = await startServeProcess({
      repository: `${ROOT}models`,
      args: [
        "--model-control-mode",
        "explicit",
        "--load-model",
        "add_sub",
        "--load-model",
        "stream_text",
      ],
    });
    let output: string;
    let code: number;
    try {
      const result = await new Deno.Command("bash", {
        args: [`${ROOT}tests/serve/readme_examples.sh`],
        // The ASan run preloads libasan for Deno; curl must not inherit it (it hangs).
        env: { URL: `127.0.0.1:${server.port}`, LD_PRELOAD: "" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const decoder = new TextDecoder();
      output = decoder.decode(result.stdout) + decoder.decode(result.stderr);
      code = result.code;
    } finally {
      // Ctrl-C in a terminal: SIGINT drains and exits 0 like SIGTERM.
      const stopped = await server.stop("SIGINT");
      assertEquals(stopped.code, 0, stopped.log);
      assertStringIncludes(stopped.log, "SIGINT received");
    }
    assertEquals(code, 0, output);
    for (
      const expected of [
        "server live",
        "add_sub ready",
        '"platform":"deno"',
        '"backend":"deno"',
        '{"id":"example-1","model_name":"add_sub","model_version":"1","outputs":[' +
        '{"name":"OUTPUT0","datatype":"FP32","shape":[4],"data":[11,22,33,44]},' +
        '{"name":"OUTPUT1","datatype":"FP32","shape":[4],"data":[-9,-18,-27,-36]}]}',
        '"outputs":[{"name":"OUTPUT0","datatype":"FP32","shape":[2],"data":[4,6]}]',
        "missing required input(s) ['INPUT1']",
        "(HTTP 400)",
        '"inference_count":2',
        '{"name":"add_sub","version":"1","state":"READY","reason":""}',
        "add_sub unloaded",
        "add_sub loaded",
        'data: {"TOKEN":"tokens"',
        'data: {"TOKEN":"by"',
        'data: {"TOKEN":"one"',
      ]
    ) {
      assertStringIncludes(output, expected);
    }
  },
});

Deno.test("serve: the README shows exactly the commands readme_examples.sh runs", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const script = await Deno.readTextFile(`${ROOT}tests/serve/readme_examples.sh`);
  const start = readme.indexOf("URL=${URL:-localhost:8000}");
  const end = readme.indexOf("```", start);
  const shown = readme.slice(start, end).trim();
  const run = script.slice(script.indexOf("URL=${URL:-localhost:8000}")).trim();
  assertEquals(shown, run, "README.md and tests/serve/readme_examples.sh differ");
});
