/**
 * The Worker loads what a model needs: the modules it imports for their
 * values (type-only imports are erased) hold no configuration text parser,
 * no zod and no protobuf-es. Configurations reach it as Triton's JSON,
 * decoded by model_config/from_json.ts; `DataType` comes from
 * model_config/data_type.ts, the generated enum the schema re-exports.
 * The stub's trusted thread (runtime/stub/main.ts) loads no npm package at
 * all: resolving one costs every stub start a few milliseconds.
 *
 * @module
 */

import { assert, assertEquals } from "../api/_test_assert.ts";

interface Dependency {
  code?: { specifier: string };
}

interface Info {
  roots: string[];
  redirects: Record<string, string>;
  modules: { specifier: string; dependencies?: Dependency[] }[];
}

/** Every module `entry` imports for its value, transitively. */
async function valueGraph(entry: URL): Promise<Set<string>> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry.pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(output.code, 0, new TextDecoder().decode(output.stderr));
  const info: Info = JSON.parse(new TextDecoder().decode(output.stdout));
  const modules = new Map(info.modules.map((module) => [module.specifier, module]));
  const seen = new Set<string>();
  const pending = [...info.roots];
  while (pending.length > 0) {
    const raw = pending.pop() as string;
    const specifier = info.redirects[raw] ?? raw;
    if (seen.has(specifier)) continue;
    seen.add(specifier);
    for (const dependency of modules.get(specifier)?.dependencies ?? []) {
      if (dependency.code !== undefined) pending.push(dependency.code.specifier);
    }
  }
  return seen;
}

Deno.test("the Worker's runtime imports hold no pbtxt parser, zod or protobuf-es", async () => {
  const graph = await valueGraph(new URL("./main.ts", import.meta.url));
  assert(graph.has(new URL("../model_config/from_json.ts", import.meta.url).href), "graph read");
  assert(graph.has(new URL("../model_config/data_type.ts", import.meta.url).href), "graph read");
  const unwanted = [...graph].filter((specifier) =>
    specifier.endsWith("/text_format.ts") || specifier.endsWith("/model_config_pb.ts") ||
    specifier.includes("zod") || specifier.includes("@bufbuild/protobuf")
  );
  assertEquals(unwanted, []);
});

Deno.test("the stub's trusted thread imports no npm package", async () => {
  const graph = await valueGraph(new URL("../stub/main.ts", import.meta.url));
  assert(graph.has(new URL("../../sandbox/checks/check_verdicts.ts", import.meta.url).href));
  assertEquals([...graph].filter((specifier) => specifier.startsWith("npm:")), []);
});
