import { assertEquals } from "../api/_test_assert.ts";
import { FieldReader } from "./json_fields.ts";

Deno.test("json fields: values come back, problems are collected with their paths", () => {
  const fields = new FieldReader({ a: "x", n: "12", empty: "", inner: { p: "/abs", q: 3 } });
  assertEquals(fields.string("a"), "x");
  assertEquals(fields.string("n", { pattern: /^\d+$/ }), "12");
  assertEquals(fields.string("gone", { optional: true }), undefined);
  assertEquals(fields.problems, []);
  fields.string("empty", { nonEmpty: true });
  fields.string("missing");
  fields.string("a", { pattern: /^\d+$/, patternMessage: "must be digits" });
  const inner = fields.object("inner");
  assertEquals(inner.string("p", { pattern: /^\// }), "/abs");
  inner.string("q");
  fields.object("absent").string("deep");
  assertEquals(fields.problems, [
    "empty: must not be empty",
    "missing: Required",
    "a: must be digits",
    "inner.q: Expected string",
    "absent: Required",
    "absent.deep: Required",
  ]);
  assertEquals(fields.unknownFields(["a", "n", "inner"]), ["empty"]);
});

Deno.test("json fields: anything but an object is one problem", () => {
  for (const value of [[], null, "text", 3]) {
    assertEquals(new FieldReader(value).problems, ["(the whole object): Expected object"]);
  }
});
