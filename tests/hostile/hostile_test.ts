/**
 * The hostile-model suite: every fixture under tests/hostile/models/ is an
 * attack (hostile_cases.ts says which and what must stop it). For each:
 * the attack fails where it should (load or request, with a clear error),
 * the denial or failure is in Triton's log, the same model answers a benign
 * request afterwards (restarted if it had to be), a healthy add_sub loaded
 * beside keeps answering, and no stub process, shared-memory object or
 * file is left behind.
 *
 * The fixtures are copied to a temporary directory first, where the test
 * adds what must not live in the repository: a symbolic link to
 * /etc/passwd, a hard link to a file outside, a module outside by absolute
 * path, a fake native addon. (models/outside_module.js is the module beside
 * the model directories that the relative imports try.) A local HTTP server stands for an
 * undeclared host; no attack may reach it.
 */

import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { exampleModelDir } from "../harness/fixtures.ts";
import type { Host, InferRequest, LoadedModel, RequestResult } from "../harness/host.ts";
import { buildPaths, REPOSITORY_ROOT } from "../harness/paths.ts";
import { findStubPids, listSharedMemory, waitFor } from "../harness/processes.ts";
import { withHost } from "../harness/session.ts";
import { HOSTILE_CASES, type HostileCase } from "./hostile_cases.ts";

const FIXTURES = `${REPOSITORY_ROOT}/tests/hostile/models`;
/** Files an attack would leave if it worked. */
const SENTINELS = ["/tmp/tdn_hostile_written", "/tmp/tdn_hostile_ran"];
/** Written by the test: a module outside every model directory, by absolute path. */
const OUTSIDE_ABSOLUTE = "/tmp/tdn_hostile_outside.js";

function request(id: string, first: number): InferRequest {
  return {
    id,
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [4], data: new Float32Array([first, 2, 3, 4]) },
      { name: "INPUT1", datatype: "FP32", shape: [4], data: new Float32Array([1, 1, 1, 1]) },
    ],
  };
}

function sums(result: RequestResult): number[] {
  const output = result.outputs.get("OUTPUT0");
  assert(output !== undefined && output.kind === "numeric", `request '${result.id}': no OUTPUT0`);
  return Array.from(output.data as Float32Array);
}

function assertAnsweredOnce(result: RequestResult, what: string): void {
  assertEquals(result.releaseCount, 1, `${what}: release count`);
  assert(result.final, `${what}: no final response`);
  assertEquals(result.statsReports, 1, `${what}: statistics reports`);
}

function assertServes(model: LoadedModel, what: string): void {
  const [result] = model.execute(0, [request("benign", 1)]);
  assertEquals(result.error, null, `${what}: ${result.error?.message}`);
  assertEquals(sums(result), [2, 3, 4, 5], `${what}: wrong sums`);
}

/** Copies the fixtures and adds the generated pieces; returns the copy's root. */
async function prepareFixtures(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "tdn_hostile_" });
  await new Deno.Command("cp", { args: ["-R", `${FIXTURES}/.`, root] }).output();
  // Each fixture is its attack; the model around it is shared (hostile_shell.js)
  // and must sit in the model's own directory, the only one it may read.
  for (const entry of Deno.readDirSync(root)) {
    if (!entry.isDirectory) continue;
    const version = `${root}/${entry.name}/1`;
    const source = await Deno.readTextFile(`${version}/model.js`).catch(() => "");
    if (source.includes("./hostile_shell.js")) {
      await Deno.copyFile(
        `${REPOSITORY_ROOT}/tests/hostile/hostile_shell.js`,
        `${version}/hostile_shell.js`,
      );
    }
  }
  await Deno.symlink("/etc/passwd", `${root}/read_symlink/1/leak`);
  await Deno.writeTextFile(`${root}/outside_secret.txt`, "a secret outside every model");
  await Deno.link(`${root}/outside_secret.txt`, `${root}/read_hardlink/1/hard`);
  await Deno.writeTextFile(OUTSIDE_ABSOLUTE, "export const stolen = true;\n");
  // Not a real addon: the load must be refused before its bytes matter.
  await Deno.writeFile(`${root}/ffi_native_addon/1/addon.node`, new Uint8Array([0x7f, 0x45, 0x4c]));
  await Deno.writeTextFile(
    `${root}/policy.json`,
    JSON.stringify({
      version: 1,
      models: [
        { match: "net_other_port", allow_net: ["127.0.0.1:9"] },
        { match: "net_localhost_alias", allow_net: ["localhost:9"] },
      ],
    }),
  );
  return root;
}

function locationDataEntries(): number {
  try {
    return Array.from(Deno.readDirSync(`${buildPaths().backendDir}/deno_dir/location_data`)).length;
  } catch {
    return 0;
  }
}

function npmCacheHas(name: string): boolean {
  try {
    for (const registry of Deno.readDirSync(`${buildPaths().backendDir}/deno_dir/npm`)) {
      try {
        Deno.statSync(`${buildPaths().backendDir}/deno_dir/npm/${registry.name}/${name}`);
        return true;
      } catch {
        // Not in this registry's folder.
      }
    }
  } catch {
    // No npm cache.
  }
  return false;
}

async function runCase(
  host: Host,
  healthy: LoadedModel,
  root: string,
  port: number,
  shmPrefix: string,
  item: HostileCase,
): Promise<void> {
  const dir = `${root}/${item.name}`;
  host.clearLog();
  let model: LoadedModel | undefined;
  let loadError = "";
  try {
    model = host.loadModel(dir);
  } catch (error) {
    loadError = error instanceof Error ? error.message : String(error);
  }
  if (item.outcome === "load") {
    assertEquals(model, undefined, `${item.name} loaded`);
    assertMatch(loadError, item.error!);
  } else {
    assert(model !== undefined, `${item.name} did not load: ${loadError}`);
    const [attack] = model.execute(0, [request("attack", port)]);
    assertAnsweredOnce(attack, `${item.name}: the attack request`);
    if (item.outcome === "request") {
      assert(attack.error !== null, `${item.name}: the attack request succeeded`);
      assertMatch(attack.error.message, item.error!, `${item.name}: the request's error`);
    } else if (item.outcome === "answered") {
      assertEquals(attack.error, null, `${item.name}: ${attack.error?.message}`);
    } else if (attack.error !== null) {
      assert(attack.error.message.length > 0, `${item.name}: an error without a message`);
    }
    if (item.servesAfterwards ?? true) assertServes(model, `${item.name} afterwards`);
  }
  if (item.maxLogLines !== undefined) {
    const lines = host.log().split("\n").filter((line) =>
      line.includes(`instance '${item.name}_0'`)
    );
    assert(lines.length <= item.maxLogLines, `${item.name}: ${lines.length} log lines`);
  }
  if (item.log !== undefined) {
    const log = host.log();
    const prefixed = new RegExp(
      `model '${item.name}', instance '${item.name}_0': ${item.log.source}`,
    );
    assert(
      prefixed.test(log) || (item.log.test(log) && log.includes(item.name)),
      `${item.name}: the log does not say ${item.log}:\n${log.slice(-3000)}`,
    );
  }
  if (model !== undefined) {
    model.unload();
    assert(await waitFor(() => findStubPids(dir).length === 0, 5_000), `${item.name}: stub left`);
  }
  assertEquals(listSharedMemory(shmPrefix), [], `${item.name}: shared memory left`);
  for (const sentinel of SENTINELS) {
    assertEquals(await exists(sentinel), false, `${item.name}: ${sentinel} exists`);
  }
  assertServes(healthy, `add_sub beside ${item.name}`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "hostile models: every attack fails, is logged, and leaves the rest serving",
  // The healthy model's stub and the test's server outlive single steps.
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async (t) => {
    const fixtureNames = Array.from(Deno.readDirSync(FIXTURES))
      .filter((entry) => entry.isDirectory)
      .map((entry) => entry.name)
      .sort();
    assertEquals(
      fixtureNames,
      HOSTILE_CASES.map((item) => item.name).sort(),
      "every fixture has exactly one case",
    );
    assert(HOSTILE_CASES.length >= 40, "at least 40 attacks");

    const root = await prepareFixtures();
    let reached = 0;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
      reached++;
      return new Response("reached");
    });
    const locationsBefore = locationDataEntries();
    try {
      await withHost(async (host, { shmPrefix }) => {
        const healthy = host.loadModel(exampleModelDir("add_sub"), { instanceCount: 1 });
        assertServes(healthy, "add_sub before the attacks");
        for (const item of HOSTILE_CASES) {
          await t.step(
            `${item.category}: ${item.name}`,
            () => runCase(host, healthy, root, server.addr.port, shmPrefix, item),
          );
        }
        healthy.unload();
      }, { policy: `${root}/policy.json`, "stub-timeout-seconds": "30" });
    } finally {
      await server.shutdown();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(OUTSIDE_ABSOLUTE).catch(() => {});
    }
    assertEquals(reached, 0, "an attack reached the test's server");
    assertEquals(locationDataEntries(), locationsBefore, "a model stored data in deno_dir");
    assertEquals(npmCacheHas("left-pad"), false, "a model fetched an npm package");
  },
});
