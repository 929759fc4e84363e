import { assertEquals } from "../api/_test_assert.ts";
import { runProbe } from "./testdata/run_probe.ts";

Deno.test("harden realm: WebGPU, nested Workers and exits are gone from a hardened Worker", async () => {
  const results = await runProbe("harden_probe.ts");
  assertEquals(results, {
    navigatorGpu: "blocked: Error",
    gpuGetterOnPrototype: "blocked: Error",
    gpuClass: "blocked: Error",
    denoInternal: "blocked: Error",
    webWorker: "blocked: TypeError",
    nodeWorkerImport: "blocked: NestedWorkerError",
    nodeWorkerBuiltin: "blocked: NestedWorkerError",
    nodeWorkerSubclass: "blocked: NestedWorkerError",
    eventEmitterStillWorks: "reached: object",
    reinitPatch: "blocked: TypeError",
    denoExit: "blocked: ExitDisabledError",
    close: "blocked: ExitDisabledError",
    processExit: "blocked: ExitDisabledError",
    restoreExit: "blocked: TypeError",
  });
});

Deno.test("harden realm: an unhardened Worker does reach WebGPU (the probe can tell)", async () => {
  const probe = "postMessage(typeof navigator.gpu)";
  const worker = new Worker(`data:application/javascript,${encodeURIComponent(probe)}`, {
    type: "module",
    deno: { permissions: "none" },
  });
  const seen = await new Promise((resolve) => worker.onmessage = (event) => resolve(event.data));
  worker.terminate();
  assertEquals(seen, "object");
});

Deno.test("harden realm: signals and the Cache API are blocked, and every block is reported", async () => {
  const seen = await runProbe<{ results: unknown; reported: unknown }>("harden_report_probe.ts");
  assertEquals(seen.results, {
    denoSignal: "blocked: SignalListenerError",
    processSignal: "blocked: SignalListenerError",
    processOtherEvent: "reached: object",
    caches: "blocked: TypeError",
    gpu: "blocked: TypeError",
    internal: "blocked: TypeError",
    worker: "blocked: TypeError",
    exit: "blocked: ExitDisabledError",
    stdin: "blocked: TypeError",
    processStdin: "blocked: StdinDisabledError",
    read: "blocked: NotCapable",
  });
  assertEquals(seen.reported, [
    { permission: "signal", target: "SIGTERM" },
    { permission: "signal", target: "SIGINT" },
    { permission: "storage", target: "caches" },
    { permission: "gpu", target: "navigator.gpu" },
    { permission: "internal", target: "Deno[Deno.internal]" },
    { permission: "worker", target: "Worker" },
    { permission: "exit", target: "Deno.exit" },
    { permission: "stdio", target: "Deno.stdin" },
    { permission: "stdio", target: "standard input" },
    { permission: "read", target: "/etc/hostname" },
  ]);
});

Deno.test("harden realm: node's process, loaded only after hardening, cannot undo it", async () => {
  const seen = await runProbe<{ results: unknown; reported: unknown; printed: unknown }>(
    "harden_node_probe.ts",
  );
  assertEquals(seen.results, {
    loadedEarly: "false",
    sameObject: "true",
    signal: "blocked: SignalListenerError",
    signalOnce: "blocked: SignalListenerError",
    signalPrepend: "blocked: SignalListenerError",
    otherEvent: "reached: object",
    exit: "blocked: ExitDisabledError",
    reallyExit: "blocked: ExitDisabledError",
    abort: "blocked: TypeError",
    chdir: "blocked: TypeError",
    stdinRead: "blocked: StdinDisabledError",
    stdoutWrite: "reached: boolean",
    stderrWrite: "reached: boolean",
    nodeWorker: "blocked: NestedWorkerError",
    nodeWorkerBuiltin: "blocked: NestedWorkerError",
    consoleLog: "reached: undefined",
  });
  assertEquals(seen.reported, [
    { permission: "signal", target: "SIGTERM" },
    { permission: "signal", target: "SIGINT" },
    { permission: "signal", target: "SIGHUP" },
    { permission: "exit", target: "Deno.exit" },
    { permission: "exit", target: "Deno.exit" },
    { permission: "stdio", target: "standard input" },
    { permission: "worker", target: "node:worker_threads Worker" },
    { permission: "worker", target: "node:worker_threads Worker" },
  ]);
  // Its streams write to the sink, not to the stub's descriptors 1 and 2.
  assertEquals(seen.printed, [
    [0, "process stdout"],
    [2, "process stderr"],
    [0, "console after process"],
  ]);
});
