import { assertEquals } from "../runtime/api/_test_assert.ts";

Deno.test("harden realm: WebGPU, nested Workers and exits are gone from a hardened Worker", async () => {
  const worker = new Worker(new URL("./testdata/harden_probe.ts", import.meta.url), {
    type: "module",
    deno: { permissions: "none" },
  });
  const results = await new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(event.message));
    };
  });
  worker.terminate();
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
