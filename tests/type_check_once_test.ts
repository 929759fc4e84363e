/**
 * End-to-end: a model is type-checked once per set of sources, not once per
 * stub start. The backend runs Deno through a wrapper (`deno-path`) that
 * notes every `deno check`; a model with sources no check has seen is
 * checked by its first stub only (not by its second instance, nor when it
 * is loaded again), a model with the same sources in another directory is
 * not checked at all, and neither is one prepared with
 * `deno task prepare-model`. TypeScript's native compiler, which looks
 * first, passes add_sub without any `deno check`; the copies here also name
 * Node's `Buffer`, which it does not declare, so that `deno check` decides,
 * as it does for models the native compiler cannot pass.
 */

import { assertEquals } from "./harness/assert.ts";
import { exampleModelDir, removeTemporaryCopy, temporaryCopy } from "./harness/fixtures.ts";
import { buildPaths, REPOSITORY_ROOT } from "./harness/paths.ts";
import { withHost } from "./harness/session.ts";

/**
 * A copy of add_sub whose sources no check has seen: a fresh comment. With
 * `nodeGlobal`, it also names Node's `Buffer`: only `deno check` passes it.
 */
function freshAddSub(comment = crypto.randomUUID(), nodeGlobal = true): string {
  const dir = temporaryCopy(exampleModelDir("add_sub"));
  const extra = nodeGlobal ? "export type NodeBuffer = typeof Buffer;\n" : "";
  Deno.writeTextFileSync(`${dir}/1/model.ts`, `// ${comment}\n${extra}`, { append: true });
  return dir;
}

/** A deno-path wrapper that appends each subcommand to `log`, then runs Deno. */
function noteTaker(log: string): string {
  const wrapper = Deno.makeTempFileSync({ prefix: "tdn_deno_wrapper_" });
  Deno.writeTextFileSync(
    wrapper,
    `#!/bin/sh\necho "$1" >> '${log}'\nexec '${Deno.execPath()}' "$@"\n`,
  );
  Deno.chmodSync(wrapper, 0o755);
  return wrapper;
}

function checks(log: string): number {
  return Deno.readTextFileSync(log).split("\n").filter((line) => line === "check").length;
}

Deno.test("type check: once per set of sources, whichever instance, load or model asks", async () => {
  const log = Deno.makeTempFileSync({ prefix: "tdn_deno_calls_" });
  const wrapper = noteTaker(log);
  const comment = crypto.randomUUID();
  const first = freshAddSub(comment);
  const twin = freshAddSub(comment);
  try {
    await withHost((host) => {
      host.loadModel(first, { instanceCount: 2 }).unload();
      assertEquals(checks(log), 1, "the first load: one check for two instances");
      host.loadModel(first, { instanceCount: 1 }).unload();
      host.loadModel(twin, { instanceCount: 1 }).unload();
      assertEquals(checks(log), 1, "a reload and a twin model: no further check");
    }, { "deno-path": wrapper });
  } finally {
    for (const path of [log, wrapper]) Deno.removeSync(path);
    removeTemporaryCopy(first);
    removeTemporaryCopy(twin);
  }
});

Deno.test("type check: a model the native compiler passes loads without deno check", async () => {
  const log = Deno.makeTempFileSync({ prefix: "tdn_deno_calls_" });
  const wrapper = noteTaker(log);
  const dir = freshAddSub(crypto.randomUUID(), false);
  try {
    await withHost((host) => {
      host.loadModel(dir, { instanceCount: 2 }).unload();
      assertEquals(checks(log), 0);
    }, { "deno-path": wrapper });
  } finally {
    for (const path of [log, wrapper]) Deno.removeSync(path);
    removeTemporaryCopy(dir);
  }
});

Deno.test("type check: a model prepared with prepare-model loads without a check", async () => {
  const log = Deno.makeTempFileSync({ prefix: "tdn_deno_calls_" });
  const wrapper = noteTaker(log);
  const dir = freshAddSub();
  try {
    const prepare = await new Deno.Command(Deno.execPath(), {
      // The backend the test host loads (build-asan/deno in the sanitizer run).
      args: ["task", "-q", "prepare-model", "--backend-dir", buildPaths().backendDir, dir],
      cwd: REPOSITORY_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const said = new TextDecoder().decode(prepare.stdout);
    assertEquals(prepare.code, 0, new TextDecoder().decode(prepare.stderr));
    assertEquals(said.includes("1/model.ts: type-checked (verdict kept)"), true, said);
    await withHost((host) => {
      host.loadModel(dir).unload();
      assertEquals(checks(log), 0);
    }, { "deno-path": wrapper });
  } finally {
    for (const path of [log, wrapper]) Deno.removeSync(path);
    removeTemporaryCopy(dir);
  }
});
