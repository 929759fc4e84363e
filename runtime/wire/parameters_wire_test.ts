import { assertEquals, assertThrows } from "../api/_test_assert.ts";
import { entriesFromWire, wireFromEntries } from "./parameters_wire.ts";

Deno.test("parameters wire: the parent's object form becomes typed entries and back", () => {
  const wire =
    '{"s":{"type":"STRING","value":"x"},"i":{"type":"INT","value":"-9007199254740993"},' +
    '"b":{"type":"BOOL","value":"true"},"d":{"type":"DOUBLE","value":"0.25"}}';
  const entries = entriesFromWire(wire);
  assertEquals(entries, [
    { key: "s", type: "STRING", value: "x" },
    { key: "i", type: "INT", value: "-9007199254740993" },
    { key: "b", type: "BOOL", value: true },
    { key: "d", type: "DOUBLE", value: 0.25 },
  ]);
  assertEquals(wireFromEntries(entries), wire);
});

Deno.test("parameters wire: non-finite doubles use the C spellings", () => {
  assertEquals(
    entriesFromWire('{"n":{"type":"DOUBLE","value":"nan"},"p":{"type":"DOUBLE","value":"inf"}}'),
    [{ key: "n", type: "DOUBLE", value: "NaN" }, { key: "p", type: "DOUBLE", value: "Infinity" }],
  );
  assertEquals(
    wireFromEntries([{ key: "m", type: "DOUBLE", value: -Infinity }]),
    '{"m":{"type":"DOUBLE","value":"-inf"}}',
  );
});

Deno.test("parameters wire: none is the empty string, and bad input is refused", () => {
  assertEquals(entriesFromWire(""), []);
  assertEquals(wireFromEntries([]), "");
  assertThrows(() => entriesFromWire("[]"), TypeError, "object");
  assertThrows(() => entriesFromWire('{"k":{"type":"BYTES","value":"x"}}'), TypeError, "BYTES");
});
