import { assert, assertEquals } from "../../runtime/api/_test_assert.ts";
import {
  envNameProblem,
  formatNetEntry,
  isWithin,
  modelGlob,
  modelPatternCovered,
  modelPatternProblem,
  netCovers,
  normalizePath,
  parseNetEntry,
  pathProblem,
  resolvePath,
} from "./rules.ts";

Deno.test("rules: paths normalize lexically and resolve against a base", () => {
  assertEquals(normalizePath("/a//b/./c/../d/"), "/a/b/d");
  assertEquals(normalizePath("/../.."), "/");
  assertEquals(resolvePath("/models/m", "data/x"), "/models/m/data/x");
  assertEquals(resolvePath("/models/m", "../other"), "/models/other");
  assertEquals(resolvePath("/models/m", "/srv/../etc"), "/etc");
});

Deno.test("rules: containment is by whole segments", () => {
  assert(isWithin("/data", "/data"));
  assert(isWithin("/data", "/data/a/b"));
  assert(!isWithin("/data", "/database"));
  assert(!isWithin("/data/a", "/data"));
  assert(isWithin("/", "/anything"));
});

Deno.test("rules: paths with commas, control characters or ~ are refused", () => {
  assertEquals(pathProblem("/ok/path"), undefined);
  assert(pathProblem("/a,b")?.includes("comma"));
  assert(pathProblem("/a\nb")?.includes("control"));
  assert(pathProblem("~/x")?.includes("~"));
  assert(pathProblem("")?.includes("empty"));
});

Deno.test("rules: network entries", () => {
  assertEquals(parseNetEntry("API.Internal:8080"), { host: "api.internal", port: 8080 });
  assertEquals(parseNetEntry("10.0.0.5:443"), { host: "10.0.0.5", port: 443 });
  assertEquals(parseNetEntry("[::1]:80"), { host: "[::1]", port: 80 });
  assertEquals(parseNetEntry("localhost"), { host: "localhost" });
  for (
    const bad of ["", ":80", "host:0", "host:65536", "host:080", "a b:1", "10.0.0.256", "*.x:1"]
  ) {
    assertEquals(parseNetEntry(bad), undefined, bad);
  }
  const any = parseNetEntry("api.internal")!;
  const exact = parseNetEntry("api.internal:8080")!;
  assert(netCovers(any, exact));
  assert(!netCovers(exact, any));
  assert(!netCovers(parseNetEntry("localhost:80")!, parseNetEntry("127.0.0.1:80")!));
  assertEquals(formatNetEntry(exact), "api.internal:8080");
});

Deno.test("rules: environment names; runtime variables are reserved", () => {
  assertEquals(envNameProblem("API_TOKEN"), undefined);
  assert(envNameProblem("1BAD")?.includes("not a variable name"));
  for (const reserved of ["DENO_DIR", "LD_PRELOAD", "deno_dir", "NO_COLOR", "GLIBC_TUNABLES"]) {
    assert(envNameProblem(reserved)?.includes("reserved"), reserved);
  }
});

Deno.test("rules: model patterns are names or globs, checked for balance", () => {
  for (const good of ["add_sub", "tenant_a.*", "m[0-9]?", "m[!x]", "[a]", "*"]) {
    assertEquals(modelPatternProblem(good), undefined, good);
  }
  for (const bad of ["", "a b", "x,y", "a]b", "a[b", "bad!", "../m", "m/1", "[]a]", "[!]a]"]) {
    assert(modelPatternProblem(bad) !== undefined, bad);
  }
  assert(modelGlob("tenant_a_*").test("tenant_a_x"));
  assert(!modelGlob("a.b").test("axb"), "a dot is a dot");
  assert(modelGlob("m[!x]?").test("mya") && !modelGlob("m[!x]?").test("mxa"));
  assertEquals(modelPatternProblem("[]a]"), "a glob whose [ ] class starts with ]");
});

Deno.test("rules: model globs match plain names as the parent's fnmatch does", () => {
  // [glob, name, fnmatch(glob, name, FNM_NOESCAPE) == 0]; braces and the
  // like never get here (modelPatternProblem refuses them).
  const cases: [string, string, boolean][] = [
    ["*", "any.model-1", true],
    ["*", "", true],
    ["a?c", "abc", true],
    ["a?c", "ac", false],
    ["a.b", "a.b", true],
    ["a.b", "axb", false],
    ["x[a-c]y", "xby", true],
    ["x[a-c]y", "xdy", false],
    ["x[!a-c]y", "xdy", true],
    ["a-b*", "a-bcd", true],
    ["tenant_[0-9]_*", "tenant_3_m", true],
    ["tenant_[0-9]_*", "tenant_x_m", false],
  ];
  for (const [glob, name, matches] of cases) {
    assertEquals(modelGlob(glob).test(name), matches, `${glob} on ${name}`);
  }
});

Deno.test("rules: a declared model pattern must lie within the ceiling's", () => {
  assert(modelPatternCovered(["*"], "anything*"));
  assert(modelPatternCovered(["tenant_a_*"], "tenant_a_x"), "a name the glob matches");
  assert(modelPatternCovered(["tenant_a_*"], "tenant_a_*"), "the same glob");
  assert(!modelPatternCovered(["tenant_a_*"], "tenant_a_x*"), "a narrower glob is not proven");
  assert(!modelPatternCovered(["tenant_a_*"], "tenant_b_x"));
  assert(!modelPatternCovered([], "m"));
});
