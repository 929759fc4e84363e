/**
 * The README's listings of repository files are those files: a code block
 * whose first line names a file (`// models/add_sub/1/model.ts`,
 * `# models/add_sub/config.pbtxt`) holds exactly that file's text, unless
 * it says "(abridged)".
 */

import { assert, assertEquals } from "./harness/assert.ts";
import { REPOSITORY_ROOT } from "./harness/paths.ts";

const README = Deno.readTextFileSync(`${REPOSITORY_ROOT}/README.md`);

/** [path, listed text] of each unabridged listing. */
function listings(): [string, string][] {
  const found: [string, string][] = [];
  const block = /```[a-z]*\n(?:\/\/|#) ((?:models|tests|runtime)\/[^\s]+)([^\n]*)\n([\s\S]*?)```/g;
  for (const match of README.matchAll(block)) {
    const [, path, rest, body] = match;
    if (rest.includes("(abridged)")) continue;
    found.push([path, body]);
  }
  return found;
}

Deno.test("README: every unabridged listing of a file is that file", () => {
  const found = listings();
  assert(found.some(([path]) => path === "models/add_sub/1/model.ts"), "no add_sub listing");
  assert(found.some(([path]) => path === "models/add_sub/config.pbtxt"), "no config listing");
  for (const [path, body] of found) {
    assertEquals(body, Deno.readTextFileSync(`${REPOSITORY_ROOT}/${path}`), `README's ${path}`);
  }
});
