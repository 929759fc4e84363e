/**
 * Runs the C unit tests that `make build` links into build/units/ (see
 * tests/units/*.c): each exits with its number of failed checks and prints
 * them on stderr.
 */

import { assertEquals } from "../harness/assert.ts";
import { buildPaths } from "../harness/paths.ts";

/** Each check's arguments: client_text_check reads the cases the TypeScript side checks too. */
const CHECKS: Record<string, string[]> = {
  json_reader_check: [],
  metrics_check: [],
  arena_alloc_check: [],
  channel_check: [],
  buffer_pool_check: [],
  policy_cache_check: [],
  siblings_check: [],
  tensor_copy_check: [],
  stub_log_check: [],
  stub_stderr_check: [],
  client_text_check: [
    new URL("../fixtures/client_text_cases.json", import.meta.url).pathname,
  ],
};

for (const [name, args] of Object.entries(CHECKS)) {
  Deno.test(`C unit tests: ${name}`, async () => {
    const binary = `${buildPaths().buildDir}/units/${name}`;
    const { code, stdout, stderr } = await new Deno.Command(binary, {
      args,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    assertEquals(code, 0, `${name} failed:\n${text.decode(stderr)}`);
    assertEquals(text.decode(stdout), `${name}: all checks passed\n`);
  });
}
