import { assertEquals } from "../api/_test_assert.ts";
import { CONTROL, CONTROL_SIZE, MSG } from "../wire/layout.ts";
import { atomicsWaiter, Ring, type WireRecord } from "../wire/ring.ts";
import { StubArena } from "../wire/stub_arena.ts";
import type { LoadedModel } from "./load_model.ts";
import { ReadinessProbes } from "./readiness.ts";

function setup(isReady?: () => unknown) {
  const page = new ArrayBuffer(CONTROL_SIZE);
  const toParent = new Ring(page, CONTROL.TO_PARENT, atomicsWaiter);
  const reader = new Ring(page, CONTROL.TO_PARENT, atomicsWaiter);
  const arena = new ArrayBuffer(8192);
  const stubArena = new StubArena({ arena, base: 4096, size: 4096, parentDone: () => 0 });
  const busy: boolean[] = [];
  const model: LoadedModel = { execute: () => [], ...(isReady ? { isReady } : {}) };
  const probes = new ReadinessProbes(model, { stubArena, toParent, setBusy: (b) => busy.push(b) });
  const answers = async (count: number) => {
    const got: [WireRecord, string][] = [];
    for (let i = 0; i < 200 && got.length < count; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      for (let record = reader.tryPop(); record !== undefined; record = reader.tryPop()) {
        const text = new TextDecoder().decode(new Uint8Array(arena, record.offset, record.length));
        got.push([record, text]);
      }
    }
    return got.map(([record, text]) => [record.kind, record.id, record.aux, text]);
  };
  return { probes, answers, busy };
}

Deno.test("readiness: true, false, throws and odd values become READINESS answers", async () => {
  const values: unknown[] = [true, false, "yes"];
  const { probes, answers } = setup(() => {
    if (values.length === 0) throw new Error("no database");
    return values.shift();
  });
  assertEquals(probes.hooked, true);
  for (const id of [1n, 2n, 3n, 4n]) {
    probes.probe(id);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assertEquals(await answers(4), [
    [MSG.READINESS, 1n, 0, ""],
    [MSG.READINESS, 2n, 1, ""],
    [MSG.READINESS, 3n, 1, "isReady() must return true or false; it returned string yes"],
    [MSG.READINESS, 4n, 1, "isReady() threw: no database"],
  ]);
});

Deno.test("readiness: probes during a pending call are answered once, with the newest id", async () => {
  let calls = 0;
  const { probes, answers, busy } = setup(() => {
    calls++;
    return new Promise((resolve) => setTimeout(() => resolve(true), 20));
  });
  probes.probe(1n);
  probes.probe(2n);
  probes.probe(3n);
  const got = await answers(1);
  // The first call answers probe 3 (the newest), and no second call is needed.
  assertEquals(got, [[MSG.READINESS, 3n, 0, ""]]);
  assertEquals(calls, 1);
  assertEquals(busy, [true, false]);
});

Deno.test("readiness: a model without isReady() is not hooked", () => {
  assertEquals(setup().probes.hooked, false);
});
