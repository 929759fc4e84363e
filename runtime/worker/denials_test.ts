import { assertEquals } from "../api/_test_assert.ts";
import {
  denialOf,
  explainDenial,
  formatDenial,
  limitHitOf,
  parseDenial,
  workerRefusalOf,
} from "./denials.ts";

Deno.test("denials: Deno's permission messages are parsed", () => {
  assertEquals(
    parseDenial('Requires read access to "/etc/passwd", run again with the --allow-read flag'),
    { permission: "read", target: "/etc/passwd" },
  );
  assertEquals(
    parseDenial('Requires net access to "10.0.0.5:443", run again with the --allow-net flag'),
    { permission: "net", target: "10.0.0.5:443" },
  );
  assertEquals(parseDenial("Requires run access, run again with the --allow-run flag"), {
    permission: "run",
    target: "",
  });
  assertEquals(parseDenial("something else"), undefined);
  assertEquals(
    parseDenial(
      "Deno.symlinkSync() requires unscoped --allow-read and --allow-write permissions; ...",
    ),
    { permission: "read+write", target: "Deno.symlinkSync()" },
  );
  assertEquals(
    parseDenial(
      'Failed loading https://x/left-pad for package "left-pad"\n    0: npm package not found ' +
        'in cache: "left-pad", --cached-only is specified.',
    ),
    { permission: "import", target: "npm:left-pad" },
  );
  assertEquals(
    formatDenial({ permission: "env", target: "HOME" }),
    'denied env access to "HOME"',
  );
  assertEquals(formatDenial({ permission: "run", target: "" }), "denied run access");
});

Deno.test("denials: a denied import is recognised, a NotCapable is left to the hook", () => {
  const imported = new TypeError(
    'Requires read access to "/tmp/x.ts", run again with the --allow-read flag',
  );
  assertEquals(denialOf(imported), { permission: "read", target: "/tmp/x.ts" });
  assertEquals(denialOf(new Deno.errors.NotCapable(imported.message)), undefined);
  assertEquals(denialOf("a string"), undefined);
});

Deno.test("denials: node's chdir and abort, refused in a Worker, are named for the log", async () => {
  const probe = `
    const outcome = {};
    for (const call of ["chdir", "abort"]) {
      try { call === "chdir" ? process.chdir("/") : process.abort(); outcome[call] = "reached"; }
      catch (error) { outcome[call] = error.message; }
    }
    postMessage(outcome);`;
  const worker = new Worker(`data:application/javascript,${encodeURIComponent(probe)}`, {
    type: "module",
    deno: { permissions: "none" },
  });
  const messages = await new Promise<Record<string, string>>((resolve) =>
    worker.onmessage = (event) => resolve(event.data)
  );
  worker.terminate();
  assertEquals(workerRefusalOf(new TypeError(messages.chdir)), {
    permission: "chdir",
    target: "process.chdir",
  });
  assertEquals(workerRefusalOf(new TypeError(messages.abort)), {
    permission: "exit",
    target: "process.abort",
  });
  assertEquals(
    workerRefusalOf(new TypeError("process.umask() is not supported in workers")),
    undefined,
  );
  // Not a permission denial: the work in flight goes on.
  assertEquals(denialOf(new TypeError(messages.chdir)), undefined);
});

Deno.test("denials: a Worker reports every NotCapable, caught or not, and cannot unhook", async () => {
  const source = `
    import { installDenialReporter } from ${
    JSON.stringify(new URL("./denials.ts", import.meta.url).href)
  };
    const seen = [];
    installDenialReporter((denial) => seen.push(denial));
    const attempts = [
      () => Deno.readTextFileSync("/etc/passwd"),
      () => Deno.env.get("HOME"),
      () => Deno.hostname(),
      () => fetch("http://127.0.0.1:8080/"),
    ];
    for (const attempt of attempts) { try { await attempt(); } catch { /* caught by the model */ } }
    let unhooked = "no";
    try { Object.setPrototypeOf(Deno.errors.NotCapable, Error); unhooked = "yes"; } catch { /* frozen */ }
    try { Deno.readTextFileSync("/etc/hostname"); } catch (error) {
      seen.push({ stillNotCapable: error instanceof Deno.errors.NotCapable });
    }
    postMessage({ seen, unhooked });
  `;
  const worker = new Worker(`data:application/javascript,${encodeURIComponent(source)}`, {
    type: "module",
    deno: {
      permissions: {
        read: [new URL("./", import.meta.url).pathname],
        write: false,
        net: false,
        env: false,
        sys: false,
        run: false,
        ffi: false,
        import: false,
      },
    },
  });
  const { seen, unhooked } = await new Promise<{ seen: unknown[]; unhooked: string }>((resolve) =>
    worker.onmessage = (event) => resolve(event.data)
  );
  worker.terminate();
  assertEquals(unhooked, "no");
  assertEquals(seen, [
    { permission: "read", target: "/etc/passwd" },
    { permission: "env", target: "HOME" },
    { permission: "sys", target: "hostname" },
    { permission: "net", target: "127.0.0.1:8080" },
    { permission: "read", target: "/etc/hostname" },
    { stillNotCapable: true },
  ]);
});

Deno.test("denials: resource limits are recognised for the log", () => {
  assertEquals(
    limitHitOf(new RangeError("Array buffer allocation failed")),
    "resource limit reached (deno.max_memory_mb or the descriptor limit): " +
      "Array buffer allocation failed",
  );
  assertEquals(limitHitOf(new Error("Too many open files (os error 24)"))?.includes("24"), true);
  assertEquals(limitHitOf(new Error("ordinary")), undefined);
});

Deno.test("denials: Deno's advice becomes the parameter a model author declares", () => {
  assertEquals(
    explainDenial('Requires read access to "/etc/passwd", run again with the --allow-read flag'),
    'Requires read access to "/etc/passwd": declare it in the model\'s config.pbtxt as ' +
      "deno.allow_read (within the operator's policy)",
  );
  assertEquals(
    explainDenial('Requires net access to "0.0.0.0:0", run again with the --allow-net flag'),
    'Requires net access to "0.0.0.0:0": declare it in the model\'s config.pbtxt as ' +
      "deno.allow_net (within the operator's policy)",
  );
  assertEquals(
    explainDenial('Requires run access to "sh", run again with the --allow-run flag'),
    'Requires run access to "sh": a model is never granted run access',
  );
  assertEquals(explainDenial("something else"), "something else");
});
