/**
 * The layers below Deno (ffi/src/sandbox_layers.c): the seccomp filter and
 * rlimits tried directly by a small C probe, and a live stub checked
 * through /proc (filter, no_new_privs, limits, environment, heap flag).
 */

import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { exampleModelDir } from "../harness/fixtures.ts";
import { REPOSITORY_ROOT } from "../harness/paths.ts";
import { findStubPids } from "../harness/processes.ts";
import { withHost } from "../harness/session.ts";

/** Runs the probe (built here: it links the backend's own layer code). */
async function probe(): Promise<Map<string, string>> {
  const dir = await Deno.makeTempDir({ prefix: "tdn_layers_" });
  try {
    const binary = `${dir}/layers_probe`;
    const build = await new Deno.Command("gcc", {
      clearEnv: true,
      env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin" },
      args: [
        "-std=c11",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-D_GNU_SOURCE",
        `-I${REPOSITORY_ROOT}/ffi/include`,
        `-I${REPOSITORY_ROOT}/ffi/src`,
        `${REPOSITORY_ROOT}/tests/hostile/layers_probe.c`,
        `${REPOSITORY_ROOT}/ffi/src/sandbox_layers.c`,
        "-o",
        binary,
        "-lpthread",
      ],
    }).output();
    assertEquals(build.code, 0, new TextDecoder().decode(build.stderr));
    // The probe's outsider is this test process: the probe must not reach it.
    // A clean environment: under the ASan run, a preloaded sanitizer would
    // not fit the probe's own 256 MiB data limit.
    const run = await new Deno.Command(binary, { args: [String(Deno.pid)], clearEnv: true })
      .output();
    assertEquals(run.code, 0, new TextDecoder().decode(run.stderr));
    const lines = new TextDecoder().decode(run.stdout).trim().split("\n");
    return new Map(lines.map((line) => {
      const space = line.indexOf(" ");
      return [line.slice(0, space), line.slice(space + 1)];
    }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("layers: the filter refuses debugging, signals out, namespaces and kernel surfaces", async () => {
  const results = await probe();
  assertEquals(results.get("applied"), "7 of 7");
  const expected: Record<string, string> = {
    ptrace_traceme: "EPERM",
    kill_outsider: "EPERM",
    kill_all: "EPERM",
    tgkill_outsider: "EPERM",
    unshare_user: "EPERM",
    process_vm_readv: "EPERM",
    bpf: "EPERM",
    perf_event_open: "EPERM",
    io_uring_setup: "EPERM",
    mount: "EPERM",
    keyctl: "EPERM",
    personality_no_aslr: "EPERM",
    x32_getpid: "EPERM",
    clone3: "ENOSYS",
    // What a Deno process needs keeps working.
    kill_self: "ok",
    kill_own_group: "ok",
    tgkill_self: "ok",
    personality_query: "ok",
    thread: "ok",
    fork: "ok",
    // RLIMIT_DATA of 256 MiB refuses a 512 MiB private mapping; no core files.
    mmap_over_data_limit: "ENOMEM",
    core_limit: "0",
  };
  for (const [name, outcome] of Object.entries(expected)) {
    assertEquals(results.get(name), outcome, name);
  }
});

function statusField(pid: number, field: string): string {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return status.match(new RegExp(`^${field}:\\s*(\\S+)`, "m"))?.[1] ?? "";
}

function softLimit(pid: number, name: string): string {
  const limits = Deno.readTextFileSync(`/proc/${pid}/limits`);
  const line = limits.split("\n").find((candidate) => candidate.startsWith(name));
  assert(line !== undefined, `no ${name} in /proc/${pid}/limits`);
  return line.slice(name.length).trim().split(/\s+/)[0];
}

const HEAP_PARAMETERS = `
parameters { key: "deno.max_heap_mb" value { string_value: "64" } }
parameters { key: "deno.max_memory_mb" value { string_value: "128" } }
`;

Deno.test("layers: a stub runs filtered, without new privileges, within its limits and environment", () =>
  withHost((host) => {
    const dir = exampleModelDir("add_sub");
    const model = host.loadModel(dir, {
      instanceCount: 1,
      configText: Deno.readTextFileSync(`${dir}/config.pbtxt`) + HEAP_PARAMETERS,
    });
    const [pid] = findStubPids(dir);
    assert(pid !== undefined, "no stub");
    assertEquals(statusField(pid, "Seccomp"), "2");
    assertEquals(statusField(pid, "NoNewPrivs"), "1");
    // sandbox/policy/layers.ts: 1536 MiB for the runtime, plus the heap and memory budgets.
    assertEquals(softLimit(pid, "Max data size"), String((1536 + 64 + 128) * 1024 * 1024));
    assertEquals(softLimit(pid, "Max open files"), "1024");
    assertEquals(softLimit(pid, "Max core file size"), "0");
    const environ = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0").filter(Boolean);
    const environment = environ.map((entry) => entry.slice(0, entry.indexOf("="))).sort();
    assertEquals(environment, [
      "DENO_DIR",
      "DENO_NO_UPDATE_CHECK",
      "DENO_WEBGPU_BACKEND",
      "HOME",
      "NO_COLOR",
    ]);
    // Deno reads $HOME/.npmrc: the backend's cache directory, never Triton's user's home.
    const denoDir = environ.find((entry) => entry.startsWith("DENO_DIR="))!.slice(9);
    assertEquals(environ.find((entry) => entry.startsWith("HOME=")), `HOME=${denoDir}`);
    const commandLine = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    assert(commandLine.includes("--v8-flags=--max-old-space-size=64"), commandLine.join(" "));
    assertMatch(commandLine.find((arg) => arg.startsWith("--allow-read=")) ?? "", /add_sub/);
    // The trusted thread may write the type check's verdicts, and nothing else.
    const writes = commandLine.filter((arg) => arg.startsWith("--allow-write"));
    assertEquals(writes.length, 1, writes.join(" "));
    assertMatch(writes[0], /^--allow-write=[^,]+\/deno_dir\/check_verdicts$/);
    assertEquals(commandLine.some((arg) => arg.startsWith("--allow-net")), false);
    model.unload();
  }));

Deno.test("layers: stub-seccomp=off leaves the filter out and keeps the rest", () =>
  withHost((host) => {
    const dir = exampleModelDir("add_sub");
    const model = host.loadModel(dir, { instanceCount: 1 });
    const [pid] = findStubPids(dir);
    assertEquals(statusField(pid, "Seccomp"), "0");
    assertEquals(statusField(pid, "NoNewPrivs"), "1");
    assertEquals(softLimit(pid, "Max open files"), "1024");
    model.unload();
  }, { "stub-seccomp": "off" }));

Deno.test("layers: a model granted HOME sees Triton's HOME, not the backend's", async () => {
  const root = await Deno.makeTempDir({ prefix: "layers_home_" });
  const home = Deno.env.get("HOME");
  try {
    Deno.env.set("HOME", `${root}/triton_home`);
    await Deno.writeTextFile(
      `${root}/policy.json`,
      JSON.stringify({ version: 1, default: { allow_env: ["HOME"] } }),
    );
    await withHost((host) => {
      const dir = exampleModelDir("add_sub");
      const model = host.loadModel(dir, {
        instanceCount: 1,
        configText: Deno.readTextFileSync(`${dir}/config.pbtxt`) +
          'parameters { key: "deno.allow_env" value { string_value: "HOME" } }\n',
      });
      const [pid] = findStubPids(dir);
      const environ = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
      assertEquals(environ.filter((entry) => entry.startsWith("HOME=")), [
        `HOME=${root}/triton_home`,
      ]);
      model.unload();
    }, { policy: `${root}/policy.json` });
  } finally {
    if (home === undefined) Deno.env.delete("HOME");
    else Deno.env.set("HOME", home);
    await Deno.remove(root, { recursive: true });
  }
});
