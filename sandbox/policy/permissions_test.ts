import { assertEquals, assertThrows } from "../../runtime/api/_test_assert.ts";
import { baselinePolicy, workerPermissions } from "./permissions.ts";

Deno.test("permissions: the baseline reads the model directory and nothing else", () => {
  assertEquals(workerPermissions(baselinePolicy("/models/add_sub")), {
    read: ["/models/add_sub"],
    write: false,
    net: false,
    env: false,
    sys: false,
    run: false,
    ffi: false,
    import: false,
  });
});

Deno.test("permissions: a relative model directory is refused", () => {
  assertThrows(() => baselinePolicy("models/add_sub"), TypeError, "absolute");
});

Deno.test("permissions: a Worker with the baseline can read its directory only", async () => {
  const root = await Deno.makeTempDir({ prefix: "tdn_permissions_" });
  try {
    await Deno.mkdir(`${root}/model`);
    await Deno.writeTextFile(`${root}/model/inside.txt`, "inside");
    await Deno.writeTextFile(`${root}/outside.txt`, "outside");
    const probe = `
      const tryIt = async (f) => { try { await f(); return "allowed"; } catch (e) { return e.name; } };
      postMessage({
        inside: await tryIt(() => Deno.readTextFile(${JSON.stringify(`${root}/model/inside.txt`)})),
        outside: await tryIt(() => Deno.readTextFile(${JSON.stringify(`${root}/outside.txt`)})),
        write: await tryIt(() => Deno.writeTextFile(${JSON.stringify(`${root}/model/w.txt`)}, "x")),
        env: await tryIt(() => Deno.env.get("HOME")),
        net: await tryIt(() => Deno.connect({ hostname: "127.0.0.1", port: 9 })),
        run: await tryIt(() => new Deno.Command("true").output()),
        ffi: await tryIt(() => Deno.dlopen("libc.so.6", {})),
      });`;
    const worker = new Worker(`data:application/javascript,${encodeURIComponent(probe)}`, {
      type: "module",
      deno: { permissions: workerPermissions(baselinePolicy(`${root}/model`)) },
    });
    const result = await new Promise((resolve) => worker.onmessage = (e) => resolve(e.data));
    worker.terminate();
    assertEquals(result, {
      inside: "allowed",
      outside: "NotCapable",
      write: "NotCapable",
      env: "NotCapable",
      net: "NotCapable",
      run: "NotCapable",
      ffi: "NotCapable",
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
