/**
 * End-to-end: `deno task init-model` (runtime/scaffold/init_model.ts) makes
 * models that live outside the checkout and work there as a new user
 * would use them: `deno task check` and `deno task test` in the model's own
 * directory (its deno.json maps `@triton/deno` and `@triton/deno/testing`
 * to this runtime), formatted and lint-clean, and loaded as they are (with
 * their deno.json and deno.lock) by the backend.
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { exampleModelDir } from "./harness/fixtures.ts";
import type { RequestResult } from "./harness/host.ts";
import { REPOSITORY_ROOT } from "./harness/paths.ts";
import { withHost } from "./harness/session.ts";

const DENO = Deno.execPath();
const SCRIPT = `${REPOSITORY_ROOT}/runtime/scaffold/init_model.ts`;

async function run(cwd: string, args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(DENO, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  return { code: output.code, text };
}

const VARIANTS = {
  doubler: [],
  streamer: ["--decoupled"],
  caller: ["--bls"],
  stream_caller: ["--bls", "--decoupled"],
} as const;

const parent = Deno.makeTempDirSync({ prefix: "tdn_init_model_" });
globalThis.addEventListener("unload", () => Deno.removeSync(parent, { recursive: true }));

// As `deno task init-model <dir>` runs it: in the checkout, INIT_CWD the caller's.
for (const [name, flags] of Object.entries(VARIANTS)) {
  const made = await run(REPOSITORY_ROOT, [
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env=INIT_CWD",
    SCRIPT,
    name,
    ...flags,
  ], { INIT_CWD: parent });
  if (made.code !== 0 || !made.text.includes(`created ${parent}/${name}/deno.json`)) {
    throw new Error(`init-model ${name} failed:\n${made.text}`);
  }
}

Deno.test({
  name: "init-model's models pass their own check and test, in their own directory",
  // Type-checking four projects takes a minute; the sanitizer run (which
  // changes nothing here) leaves it out.
  ignore: Deno.env.get("TRITON_DENO_BUILD") === "build-asan",
  async fn() {
    for (const name of Object.keys(VARIANTS)) {
      // `deno test` type-checks the model and its test; `deno task check` once.
      const result = await run(`${parent}/${name}`, ["task", "-q", "test"]);
      assertEquals(result.code, 0, `${name}: deno task test\n${result.text}`);
    }
    const check = await run(`${parent}/stream_caller`, ["task", "-q", "check"]);
    assertEquals(check.code, 0, check.text);
    const fmt = await run(parent, ["fmt", "--check", "."]);
    assertEquals(fmt.code, 0, fmt.text);
    const lint = await run(parent, ["lint", "."]);
    assertEquals(lint.code, 0, lint.text);
  },
});

Deno.test("init-model leaves existing files alone and refuses a name that is not a model's", async () => {
  const dir = `${parent}/existing`;
  Deno.mkdirSync(`${dir}/1`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/config.pbtxt`, "# mine\n");
  const again = await run(REPOSITORY_ROOT, ["run", "-A", SCRIPT, dir]);
  assertEquals(again.code, 0, again.text);
  assertStringIncludes(again.text, `kept    ${dir}/config.pbtxt (it exists)`);
  assertEquals(Deno.readTextFileSync(`${dir}/config.pbtxt`), "# mine\n");
  assert(Deno.statSync(`${dir}/deno.json`).isFile);
  const bad = await run(REPOSITORY_ROOT, ["run", "-A", SCRIPT, `${parent}/no spaces`]);
  assertEquals(bad.code, 1);
  assertStringIncludes(bad.text, "'no spaces' cannot be a model name");
});

function firstValue(result: RequestResult): number[] {
  const output = result.outputs.get("OUTPUT0");
  assert(output?.kind === "numeric", JSON.stringify(result.error));
  return Array.from(output.data as Float32Array);
}

Deno.test({
  name: "scaffolded models load as they are, with their deno.json, and serve",
  sanitizeOps: false,
  fn: () =>
    withHost(async (host) => {
      const input = {
        id: "r",
        inputs: [{
          name: "INPUT0",
          datatype: "FP32" as const,
          shape: [3],
          data: new Float32Array([1, 2, 3]),
        }],
      };
      const doubler = host.loadModel(`${parent}/doubler`);
      assertEquals(firstValue(doubler.execute(0, [input])[0]), [2, 4, 6]);
      const streamer = host.loadModel(`${parent}/streamer`);
      const [stream] = streamer.execute(0, [input]);
      assertEquals(
        stream.responses.filter((r) => !r.flagsOnly).map((r) => {
          const output = r.outputs[0];
          return output.kind === "numeric" ? Number(output.data[0]) : NaN;
        }),
        [2, 4, 6],
      );
      // The caller reaches the repository's add_sub, loaded beside it.
      const addSub = host.loadModel(exampleModelDir("add_sub"), { instanceCount: 1 });
      const caller = host.loadModel(`${parent}/caller`);
      const [called] = await caller.executeAsync(0, [input]);
      assertEquals(firstValue(called), [2, 4, 6]);
      for (const model of [caller, addSub, streamer, doubler]) model.unload();
    }),
});
