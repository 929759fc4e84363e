/**
 * The operator's side: `--backend-config=deno,policy=...` and the sandbox
 * options are checked when the backend starts, so a broken policy stops the
 * backend with a message naming the file and the field instead of failing
 * every model load later.
 */

import { assertStringIncludes } from "../harness/assert.ts";
import { exampleModelDir } from "../harness/fixtures.ts";
import { Host } from "../harness/host.ts";
import { uniqueShmPrefix } from "../harness/session.ts";

function openError(options: Record<string, string>): string {
  try {
    Host.open({ options: { "shm-region-prefix-name": uniqueShmPrefix(), ...options } }).close();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error(`the backend started with ${JSON.stringify(options)}`);
}

Deno.test("policy option: an invalid policy file stops the backend, naming file and field", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tdn_policy_" });
  try {
    const cases: [string, string][] = [
      ["{", "is not JSON"],
      ['{"version":1,"default":{"allow_run":["/bin/sh"]}}', "allow_run"],
      ['{"version":1,"default":{"allow_net":["*:443"]}}', "default.allow_net.0"],
      ['{"version":1,"models":[{"match":"a","max_heap_mb":1}]}', "models.0.max_heap_mb"],
    ];
    for (const [index, [text, field]] of cases.entries()) {
      const path = `${dir}/policy_${index}.json`;
      await Deno.writeTextFile(path, text);
      const message = openError({ policy: path });
      assertStringIncludes(message, path);
      assertStringIncludes(message, field);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("policy option: a valid policy lets the backend start", async () => {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, '{"version":1,"default":{"allow_read":["/srv"]}}');
    Host.open({ options: { "shm-region-prefix-name": uniqueShmPrefix(), policy: path } })
      .close();
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("backend config: a value that is not a string is refused, naming the key and kind", () => {
  // Triton writes every value as a string; the reader takes numbers, arrays
  // and booleans, and the options check refuses them.
  const cases: [unknown, string][] = [
    [5, "backend config key 'stub-heap-mb' has a number value; values are strings"],
    [true, "backend config key 'stub-heap-mb' has a boolean value; values are strings"],
    [["x"], "cannot read the backend config: invalid JSON at byte"],
  ];
  for (const [value, expected] of cases) {
    assertStringIncludes(openError({ "stub-heap-mb": value as string }), expected);
  }
});

Deno.test("sandbox options: missing policy files and bad values name the key", () => {
  const cases: [Record<string, string>, string][] = [
    [{ policy: "/nonexistent/policy.json" }, "readable policy file"],
    [{ policy: "relative.json" }, "readable policy file"],
    [{ "stub-seccomp": "maybe" }, "on or off"],
    [{ "stub-memory-mb": "-1" }, "decimal integer from 0 to"],
  ];
  for (const [options, expected] of cases) {
    const message = openError(options);
    const [key] = Object.keys(options);
    assertStringIncludes(message, `'${key}'`);
    assertStringIncludes(message, expected);
  }
});

Deno.test("policy evaluator: a failing, hanging or garbling evaluator fails the load clearly", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tdn_evaluator_" });
  try {
    const cases: [string, string][] = [
      ["exit 3", "exited with status 3"],
      ["sleep 30", "did not answer in time"],
      ["echo 'not json'", "answered malformed JSON"],
      [`echo '{"status":"ok","read":"/x"}'`, "answered an invalid 'write'"],
      // JSON the reader takes but the evaluator's answer never holds.
      [`echo '{"status":"ok","read":5}'`, "answered an invalid 'read'"],
      [`echo '{"status":"ok","read":["/x"]}'`, "objects and arrays nested too deeply"],
      [`echo '{"status":true}'`, "answered without a status"],
      [`echo '{"status":"ok","read":null}'`, "answered malformed JSON"],
    ];
    for (const [index, [body, expected]] of cases.entries()) {
      // Stands in for deno: the backend starts the evaluator through deno-path.
      const fake = `${dir}/fake_deno_${index}`;
      await Deno.writeTextFile(fake, `#!/bin/sh\ncat > /dev/null\n${body}\n`);
      await Deno.chmod(fake, 0o755);
      const host = Host.open({
        options: {
          "shm-region-prefix-name": uniqueShmPrefix(),
          "deno-path": fake,
          "stub-timeout-seconds": "1",
        },
      });
      try {
        let message = "";
        try {
          host.loadModel(exampleModelDir("add_sub"));
        } catch (error) {
          message = error instanceof Error ? error.message : String(error);
        }
        assertStringIncludes(message, "sandbox policy evaluator");
        assertStringIncludes(message, expected);
      } finally {
        host.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
