/**
 * The record kinds and PROGRESS phases of `ffi/include/tdn_wire.h` (the
 * source of truth) against their mirror in `runtime/wire/layout.ts`: every
 * `TDN_MSG_*` and `TDN_PROGRESS_*` define must have the same value under the
 * same name (the `TDN_` prefix, and the group's, dropped), and nothing more.
 *
 * @module
 */

import { assertEquals } from "../../runtime/api/_test_assert.ts";
import { MSG, PROGRESS_PHASE } from "../../runtime/wire/layout.ts";

const header = Deno.readTextFileSync(new URL("../../ffi/include/tdn_wire.h", import.meta.url));

/** `#define <prefix>NAME <n>u` lines of the header, as { NAME: n }. */
function defines(prefix: string): Record<string, number> {
  const found: Record<string, number> = {};
  const pattern = new RegExp(`^#define ${prefix}([A-Z_0-9]+) (\\d+)u\\b`, "gm");
  for (const match of header.matchAll(pattern)) found[match[1]] = Number(match[2]);
  return found;
}

Deno.test("wire constants: record kinds match tdn_wire.h", () => {
  assertEquals({ ...MSG }, defines("TDN_MSG_"));
});

Deno.test("wire constants: PROGRESS phases match tdn_wire.h", () => {
  assertEquals({ ...PROGRESS_PHASE }, defines("TDN_PROGRESS_"));
});
