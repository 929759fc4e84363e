/**
 * Parameters as the C side writes and reads them (`ffi/src/batch_codec.h` writes them,
 * `ffi/src/result_codec.h` reads them):
 * a JSON object whose members are the parameters in order, each
 * `{"type": "STRING"|"INT"|"BOOL"|"DOUBLE", "value": "<text>"}` with every
 * value a string, so the parent's one strict JSON reader parses it. The
 * model API works with the entry-list form of runtime/api/parameters.ts;
 * these two functions translate between the forms, and the model API checks
 * the entries (`parametersFromEntries`): the wire text is parsed once.
 *
 * @example
 * ```ts
 * import { entriesFromWire, wireFromEntries } from "./parameters_wire.ts";
 *
 * const wire = '{"n":{"type":"INT","value":"7"},"x":{"type":"DOUBLE","value":"0.5"}}';
 * const entries = entriesFromWire(wire);
 * console.log(entries); // [{ key: "n", type: "INT", value: "7" }, { key: "x", type: "DOUBLE", value: 0.5 }]
 * console.log(wireFromEntries(entries) === wire); // true
 * ```
 *
 * @module
 */

/** One parameter in the entry-list form (the model API's `WireParameter`). */
export type Entry =
  | { key: string; type: "STRING"; value: string }
  | { key: string; type: "INT"; value: string }
  | { key: string; type: "BOOL"; value: boolean }
  | { key: string; type: "DOUBLE"; value: number | string };

const DOUBLE_WORDS: Record<string, string | number> = {
  nan: "NaN",
  inf: "Infinity",
  "-inf": "-Infinity",
};

/**
 * The object form (from the parent) as a list of entries. Malformed input
 * throws: the parent wrote it, so that would be a bug worth hearing about.
 *
 * @param json The object form, or "" for none.
 * @returns The entries, in order.
 * @throws {TypeError} If the text is not the object form.
 */
export function entriesFromWire(json: string): Entry[] {
  if (json === "") return [];
  const parsed: unknown = JSON.parse(json);
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new TypeError("request parameters must be a JSON object");
  }
  return Object.entries(parsed as Record<string, unknown>).map(([key, raw]) => {
    const { type, value } = (raw ?? {}) as { type?: unknown; value?: unknown };
    if (typeof value !== "string") throw new TypeError(`parameter '${key}' has no string value`);
    switch (type) {
      case "STRING":
      case "INT":
        return { key, type, value } as Entry;
      case "BOOL":
        return { key, type, value: value === "true" } as Entry;
      case "DOUBLE":
        return { key, type, value: DOUBLE_WORDS[value] ?? Number(value) } as Entry;
      default:
        throw new TypeError(`parameter '${key}' has type ${String(type)}`);
    }
  });
}

/**
 * A list of entries (from the model) in the object form.
 *
 * @param entries The entries.
 * @returns The object form, or "" when there are none.
 */
export function wireFromEntries(entries: readonly Entry[]): string {
  if (entries.length === 0) return "";
  const out: Record<string, { type: string; value: string }> = {};
  for (const entry of entries) {
    let value: string;
    if (entry.type === "DOUBLE") {
      const number = typeof entry.value === "number" ? entry.value : Number(entry.value);
      value = Number.isNaN(number)
        ? "nan"
        : number === Infinity
        ? "inf"
        : number === -Infinity
        ? "-inf"
        : String(number);
    } else {
      value = String(entry.value);
    }
    out[entry.key] = { type: entry.type, value };
  }
  return JSON.stringify(out);
}
