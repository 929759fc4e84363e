import { assert, assertEquals } from "../api/_test_assert.ts";
import { CLIENT_TEXT_LIMIT, clientPaths, clientText } from "./client_text.ts";

const DIR = "/models/tenant_a/vision";

Deno.test("client text: the model's frames stay, relative; the runtime's go; server paths are hidden", () => {
  const full = [
    "Failed to process the request(s) for model 'vision', message: cannot read /etc/shadow",
    `    at load (file://${DIR}/1/lib/util.ts:3:9)`,
    `    at Vision.execute (file://${DIR}/1/model.ts:12:5)`,
    "    at runBatch (file:///opt/tritonserver/backends/deno/runtime/worker/run_batch.ts:139:36)",
    "    at ext:core/01_core.js:381:17",
  ].join("\n");
  assertEquals(
    clientText(full, DIR),
    [
      "Failed to process the request(s) for model 'vision', message: cannot read <server path>",
      "    at load (1/lib/util.ts:3:9)",
      "    at Vision.execute (1/model.ts:12:5)",
    ].join("\n"),
  );
});

Deno.test("client text: paths in the message itself are treated the same way", () => {
  assertEquals(
    clientText(`wrote ${DIR}/1/cache.bin and file:///var/lib/x; see /`, DIR),
    "wrote 1/cache.bin and <server path>; see /",
  );
  assertEquals(clientText("no paths here: 3/4 done, a/b", DIR), "no paths here: 3/4 done, a/b");
});

Deno.test("client text: a huge message is capped, on a character boundary", () => {
  const text = clientText("é".repeat(40_000), DIR);
  assert(new TextEncoder().encode(text).length <= CLIENT_TEXT_LIMIT);
  assert(text.endsWith("(truncated; the whole message is in the server's log)"));
  assert(!text.includes("\uFFFD"));
});

interface ClientTextCase {
  name: string;
  directory: string;
  text: string;
  client: string;
}

const CASES: ClientTextCase[] = JSON.parse(
  Deno.readTextFileSync(new URL("../../tests/fixtures/client_text_cases.json", import.meta.url)),
).cases;

Deno.test("client paths: the cases the parent's C answers alike (tests/units/client_text_check.c)", () => {
  assert(CASES.length >= 8, "the shared cases file lost its cases");
  for (const { name, directory, text, client } of CASES) {
    assertEquals(clientPaths(text, directory), client, name);
    // The parent applies the rule again to what the Worker sent: no change.
    assertEquals(clientPaths(client, directory), client, `${name} (again)`);
    assertEquals(clientPaths(clientText(text, directory), directory), clientText(text, directory));
  }
});

Deno.test("client text: no model directory ('' or '/') hides every absolute path", () => {
  for (const directory of ["", "/"]) {
    assertEquals(
      clientText("at /models/m/1/model.ts and file:///x/y", directory),
      "at <server path> and <server path>",
    );
  }
});
