/**
 * The wire format's numbers are declared twice: in `ffi/include/tdn_wire.h`
 * (the source of truth) and in `runtime/wire/layout.ts`. This reads every
 * `#define TDN_*` of the header and checks the TypeScript mirror holds the
 * same value under the same name, and that the mirror's record kinds,
 * flags, trace events, PROGRESS phases and operations are all declared in C.
 *
 * @module
 */

import { assertEquals } from "../harness/assert.ts";
import * as layout from "../../runtime/wire/layout.ts";

const HEADER = new URL("../../ffi/include/tdn_wire.h", import.meta.url);

/** `#define TDN_<name> <number>` lines, value parsed (u suffix dropped). */
function cDefines(): Map<string, number> {
  const defines = new Map<string, number>();
  const text = Deno.readTextFileSync(HEADER);
  for (const match of text.matchAll(/^#define TDN_([A-Z0-9_]+)\s+(0x[0-9A-Fa-f]+|[0-9]+)u?\b/gm)) {
    defines.set(match[1], Number(match[2]));
  }
  return defines;
}

/** Groups of constants: the C prefix and the TypeScript object. */
const GROUPS: [string, Record<string, unknown>][] = [
  ["MSG_", layout.MSG],
  ["FLAG_", layout.RECORD_FLAG],
  ["SLEEP_", layout.SLEEP],
  ["DOORBELL_", layout.DOORBELL_BYTE],
  ["STATUS_", layout.STATUS],
  ["TRACE_", layout.TRACE_EVENT],
  ["PROGRESS_", layout.PROGRESS_PHASE],
  ["READY_", layout.READY_FLAG],
  ["CONTROL_FLAG_", layout.CONTROL_FLAG],
  ["RESPONSE_", layout.RESPONSE_FLAG],
  ["METRIC_OP_", layout.METRIC_OP],
];
// TDN_CONTROL_SIZE is a size; the other TDN_CONTROL_* are CONTROL operations.
const CONTROL_OPERATIONS = ["LOAD", "UNLOAD", "IS_READY"];

/** Where the mirror keeps `TDN_<name>`, and its value there. */
function mirrored(name: string): { where: string; value: unknown } {
  for (const [prefix, group] of GROUPS) {
    if (name.startsWith(prefix)) {
      const key = name.slice(prefix.length);
      return { where: `${prefix}${key}`, value: group[key] };
    }
  }
  const operation = name.startsWith("CONTROL_") ? name.slice("CONTROL_".length) : "";
  if (CONTROL_OPERATIONS.includes(operation)) {
    return { where: `CONTROL_OP.${operation}`, value: layout.CONTROL_OP[operation as "LOAD"] };
  }
  return { where: name, value: (layout as Record<string, unknown>)[name] };
}

Deno.test("wire constants: every number of tdn_wire.h has its twin in layout.ts", () => {
  const defines = cDefines();
  // Enough of the header was read to mean something.
  assertEquals(defines.has("MSG_EXECUTE") && defines.has("FLAG_FINAL"), true);
  for (const [name, value] of defines) {
    const twin = mirrored(name);
    assertEquals(twin.value, value, `TDN_${name} is ${value} in C, ${twin.value} as ${twin.where}`);
  }
});

Deno.test("wire constants: every record kind, flag and operation of layout.ts is declared in C", () => {
  const defines = cDefines();
  for (const [prefix, group] of GROUPS) {
    for (const [key, value] of Object.entries(group)) {
      assertEquals(defines.get(`${prefix}${key}`), value, `TDN_${prefix}${key}`);
    }
  }
  for (const [key, value] of Object.entries(layout.CONTROL_OP)) {
    assertEquals(defines.get(`CONTROL_${key}`), value, `TDN_CONTROL_${key}`);
  }
});
