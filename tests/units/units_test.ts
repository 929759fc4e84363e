/**
 * Runs the C unit tests that `make build` links into build/units/ (see
 * tests/units/*.c): each exits with its number of failed checks and prints
 * them on stderr.
 */

import { assertEquals } from "../harness/assert.ts";
import { buildPaths } from "../harness/paths.ts";

for (
  const name of [
    "json_reader_check",
    "metrics_check",
    "arena_alloc_check",
    "channel_check",
    "stub_log_check",
  ]
) {
  Deno.test(`C unit tests: ${name}`, async () => {
    const binary = `${buildPaths().buildDir}/units/${name}`;
    const { code, stdout, stderr } = await new Deno.Command(binary, {
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder();
    assertEquals(code, 0, `${name} failed:\n${text.decode(stderr)}`);
    assertEquals(text.decode(stdout), `${name}: all checks passed\n`);
  });
}
