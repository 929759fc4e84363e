/**
 * `make install` makes a backend directory that needs nothing else: after
 * the install it is moved to another path (as Triton's containers put it at
 * /opt/tritonserver/backends/deno), and a server loads every example model
 * from it and serves requests where
 *
 * - the checkout, npm's cache, the user's Deno cache and ~/.npmrc are hidden
 *   (empty read-only mounts over them, in a mount namespace),
 * - the install itself is read-only,
 * - there is no network (a network namespace with only loopback up),
 * - HOME and DENO_DIR of the server are empty directories of its own,
 *
 * and every file and network system call of the server, the backend and its
 * stubs is recorded with strace and checked: nothing reaches below the
 * hidden paths, nothing connects to an IP address. On top of that the test
 * reads each process's executable, mapped files, descriptors, command line
 * and environment from /proc while it serves.
 *
 * The server is `deno task serve`'s main, run from a copy outside the
 * checkout, with `--backend-directory` naming the install: through Triton's
 * own core when `TRITON_HOME` is set (`--triton-home`), through the stand-in
 * core otherwise. Root (for the namespaces), `ip` and `strace` are needed
 * for the strongest form; without them the test runs what it can and says
 * which layers it could not enforce.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "../harness/assert.ts";
import { buildPaths, REPOSITORY_ROOT } from "../harness/paths.ts";
import { tritonHome } from "../../runtime/core/triton_home.ts";
import {
  isolatedCommand,
  type Isolation,
  isUnder,
  probeIsolation,
  traceCommand,
  traceViolations,
} from "./isolation.ts";
import type { ScenarioConfig, ScenarioReport } from "./offline_scenario.ts";

const HOME = tritonHome();
/** The ASan phase builds elsewhere; the install is the normal build's. */
const ASAN_PHASE = (Deno.env.get("TRITON_DENO_BUILD") ?? "build") !== "build";
const EXAMPLES = `${REPOSITORY_ROOT}/models`;

function copyTree(from: string, to: string, skip: (name: string) => boolean = () => false): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (skip(entry.name)) continue;
    const source = `${from}/${entry.name}`;
    const target = `${to}/${entry.name}`;
    if (entry.isSymlink) Deno.symlinkSync(Deno.readLinkSync(source), target);
    else if (entry.isDirectory) copyTree(source, target, skip);
    else Deno.copyFileSync(source, target);
  }
}

function exampleModels(): string[] {
  return [...Deno.readDirSync(EXAMPLES)]
    .filter((entry) => entry.isDirectory)
    .map((entry) => entry.name)
    .filter((name) => {
      try {
        return Deno.statSync(`${EXAMPLES}/${name}/config.pbtxt`).isFile;
      } catch {
        return false;
      }
    })
    .sort();
}

/** The user's caches and npm configuration, wherever this environment keeps them. */
function userCaches(): { directories: string[]; files: string[] } {
  const home = Deno.env.get("HOME") ?? "/root";
  const cacheHome = Deno.env.get("XDG_CACHE_HOME") ?? `${home}/.cache`;
  return {
    directories: [
      Deno.env.get("DENO_DIR") ?? `${cacheHome}/deno`,
      Deno.env.get("NPM_CONFIG_CACHE") ?? `${home}/.npm`,
      `${home}/.deno`,
    ],
    files: [`${home}/.npmrc`],
  };
}

async function run(command: string[], options: Deno.CommandOptions = {}): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(command[0], {
    args: command.slice(1),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...options,
  }).output();
  const text = new TextDecoder().decode(stdout);
  const errors = new TextDecoder().decode(stderr);
  if (code !== 0) throw new Error(`${command.join(" ")} exited with ${code}:\n${text}${errors}`);
  return text;
}

function describeIsolation(isolation: Isolation): void {
  const enforced = [
    isolation.mount ? "checkout and caches hidden, install read-only" : "",
    isolation.network ? "no network" : "",
    isolation.trace ? "every file and network call traced" : "",
  ].filter(Boolean);
  console.log(`install test: enforced: ${enforced.join("; ") || "only /proc checks"}`);
  for (const line of isolation.missing) {
    console.log(`install test: not enforced here: ${line}`);
  }
}

function assertExchanges(report: ScenarioReport, models: string[]): void {
  const byName = new Map(report.exchanges.map((exchange) => [exchange.name, exchange]));
  for (const name of ["server ready", "server live", ...models.map((m) => `${m} ready`)]) {
    assertEquals(byName.get(name)?.status, 200, `${name}: ${JSON.stringify(byName.get(name))}`);
  }
  for (const model of ["add_sub", "bls_add_sub"]) {
    const answer = byName.get(model)!;
    assertEquals(answer.status, 200, answer.body);
    const outputs = JSON.parse(answer.body).outputs as { name: string; data: number[] }[];
    assertEquals(outputs.find((o) => o.name === "OUTPUT0")?.data, [11, 22, 33, 44], model);
    assertEquals(outputs.find((o) => o.name === "OUTPUT1")?.data, [-9, -18, -27, -36], model);
  }
  const strings = byName.get("add_sub_string")!;
  assertEquals(strings.status, 200, strings.body);
  const stringOutputs = JSON.parse(strings.body).outputs as { name: string; data: string[] }[];
  assertEquals(stringOutputs.find((o) => o.name === "OUTPUT0")?.data, ["3", "25"]);
  const stream = byName.get("stream_text")!;
  assertEquals(stream.status, 200, stream.body);
  const tokens = stream.body.split("\n").filter((line) => line.startsWith("data: "))
    .map((line) => JSON.parse(line.slice(6)).TOKEN);
  assertEquals(tokens, ["offline", "and", "alone"]);
}

function assertProcesses(
  report: ScenarioReport,
  install: string,
  models: string[],
  forbidden: string[],
): void {
  const stubs = report.processes.filter((process) =>
    process.cmdline.includes(`${install}/runtime/stub/main.ts`)
  );
  assert(
    stubs.length >= models.length,
    `${stubs.length} stubs from the install for ${models.length} models: ` +
      JSON.stringify(report.processes.map((process) => process.cmdline.slice(0, 3))),
  );
  for (const stub of stubs) {
    assertEquals(stub.exe, `${install}/deno`, `stub ${stub.pid}'s executable`);
    assert(stub.environ.includes(`DENO_DIR=${install}/deno_dir`), stub.environ.join(" "));
    assert(stub.environ.includes(`HOME=${install}/deno_dir`), stub.environ.join(" "));
    assert(
      stub.maps.includes(`${install}/libtriton_deno_stub.so`),
      `stub ${stub.pid} maps no ${install}/libtriton_deno_stub.so`,
    );
  }
  const server = report.processes.find((process) => process.pid === report.serverPid);
  assert(server !== undefined, "the server is not among the recorded processes");
  assert(
    server.maps.includes(`${install}/libtriton_deno.so`),
    `the server does not map ${install}/libtriton_deno.so: ${server.maps.join(" ")}`,
  );
  for (const process of report.processes) {
    const seen = [
      process.exe,
      process.cwd,
      ...process.cmdline,
      ...process.environ.map((entry) => entry.slice(entry.indexOf("=") + 1)),
      ...process.maps,
      ...process.fds,
    ];
    for (const path of seen) {
      for (const root of forbidden) {
        assert(
          !isUnder(path, root) && !path.includes(`${root}/`),
          `process ${process.pid} (${process.cmdline.slice(0, 2).join(" ")}) refers to ` +
            `${path}, under ${root}`,
        );
      }
    }
  }
}

Deno.test({
  name: `install: make install serves the example models offline, moved, read-only, without the ` +
    `checkout or caches (${HOME === undefined ? "stand-in core" : "Triton's core"})`,
  ignore: ASAN_PHASE,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const isolation = await probeIsolation();
    describeIsolation(isolation);
    const work = Deno.realPathSync(await Deno.makeTempDir({ prefix: "tdn_install_" }));
    try {
      // Install, with no network when it can be taken away: the build already cached everything.
      const staged = `${work}/stage/deno`;
      const make = ["make", "-s", "install", `PREFIX=${staged}`];
      await run(isolation.network ? ["unshare", "--net", "--", ...make] : make, {
        cwd: REPOSITORY_ROOT,
      });
      // Then move it: the install works at any path.
      const install = `${work}/opt/tritonserver/backends/deno`;
      Deno.mkdirSync(`${work}/opt/tritonserver/backends`, { recursive: true });
      Deno.renameSync(staged, install);
      Deno.removeSync(`${work}/stage`);
      for (const file of walkText(install)) {
        const text = Deno.readTextFileSync(file);
        assert(!text.includes(REPOSITORY_ROOT), `${file} names the checkout ${REPOSITORY_ROOT}`);
      }

      // The server: a copy of serve's sources and the host libraries, outside the checkout.
      const driver = `${work}/driver`;
      for (const tree of ["runtime", "ffi", "sandbox"]) {
        copyTree(`${REPOSITORY_ROOT}/${tree}`, `${driver}/src/${tree}`);
      }
      // The lock file, as `deno task serve` reads it: it resolves the packages' own
      // dependencies (gRPC's), whose registry entries the build's cache does not keep.
      Deno.copyFileSync(`${REPOSITORY_ROOT}/deno.lock`, `${driver}/src/deno.lock`);
      const paths = buildPaths();
      Deno.copyFileSync(paths.hostLibrary, `${driver}/libtriton_host.so`);
      Deno.copyFileSync(paths.clientLibrary, `${driver}/libtriton_deno_client.so`);
      // serve's own dependencies (zod, protobuf-es, @grpc/grpc-js), as the build cached them.
      copyTree(`${paths.backendDir}/deno_dir/npm`, `${driver}/deno_dir/npm`);
      Deno.mkdirSync(`${work}/home`);
      const models = exampleModels();
      copyTree(EXAMPLES, `${work}/models`, (name) => name.endsWith("_test.ts"));

      const caches = userCaches();
      const forbidden = [REPOSITORY_ROOT, ...caches.directories, ...caches.files];
      const traceLog = `${work}/trace.log`;
      const env = {
        HOME: `${work}/home`,
        DENO_DIR: `${driver}/deno_dir`,
        PATH: "/usr/bin:/bin",
        NO_COLOR: "1",
        DENO_NO_UPDATE_CHECK: "1",
      };
      const config: ScenarioConfig = {
        command: [
          ...(isolation.trace ? traceCommand(traceLog) : []),
          `${install}/deno`,
          "run",
          "-A",
          "--unstable-worker-options",
          "--cached-only",
          "--no-config",
          `--lock=${driver}/src/deno.lock`,
          "--frozen",
          `--import-map=${driver}/src/runtime/import_map.json`,
          `${driver}/src/runtime/serve/main.ts`,
          "--build",
          driver,
          "--backend-directory",
          install,
          "--model-repository",
          `${work}/models`,
          "--http-port",
          "0",
          "--grpc-port",
          "0",
          // Every stub type-checks its model from scratch (a read-only cache keeps nothing):
          // seconds of CPU each, all at once on a small machine.
          "--backend-config",
          "stub-timeout-seconds=600",
          ...(HOME === undefined ? [] : ["--triton-home", HOME.prefix]),
        ],
        env,
        models,
        startTimeoutMs: 900_000,
        serverMarker: "runtime/serve/main.ts",
      };
      Deno.writeTextFileSync(`${work}/config.json`, JSON.stringify(config));
      Deno.copyFileSync(
        new URL("./offline_scenario.ts", import.meta.url).pathname,
        `${work}/offline_scenario.ts`,
      );
      const command = isolatedCommand(isolation, {
        hideDirectories: [REPOSITORY_ROOT, ...caches.directories],
        hideFiles: caches.files,
        readOnly: [install],
        command: [
          "env",
          "-i",
          ...Object.entries(env).map(([key, value]) => `${key}=${value}`),
          `${install}/deno`,
          "run",
          "-A",
          "--no-config",
          "--no-lock",
          `${work}/offline_scenario.ts`,
          `${work}/config.json`,
        ],
      });
      const output = await run(command, { cwd: `${work}/home` });
      const report = JSON.parse(output) as ScenarioReport;
      assert(report.url !== "", `the server never listened:\n${report.log}`);
      try {
        assertExchanges(report, models);
        assertProcesses(report, install, models, forbidden);
        assertEquals(report.exitCode, 0, report.log);
        assertStringIncludes(report.log, "[serve] stopped");
      } catch (error) {
        console.log(report.log);
        throw error;
      }
      if (isolation.trace) {
        const violations = traceViolations(Deno.readTextFileSync(traceLog), forbidden, {
          privateLoopback: isolation.network,
        });
        assertEquals(violations.slice(0, 20), [], `${violations.length} calls reached out`);
      }
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

/** The text files of the install outside its dependency cache. */
function* walkText(directory: string): Generator<string> {
  for (const entry of Deno.readDirSync(directory)) {
    const path = `${directory}/${entry.name}`;
    if (entry.isDirectory && entry.name !== "deno_dir") yield* walkText(path);
    else if (entry.isFile && /\.(ts|js|json|md|h)$/.test(entry.name)) yield path;
  }
}
