import { assert, assertEquals, assertStringIncludes } from "../api/_test_assert.ts";
import { ERROR_CODE, MSG, RING } from "../wire/layout.ts";
import { atomicsWaiter, Ring, type WireRecord } from "../wire/ring.ts";
import {
  createWorkerChannel,
  openWorkerChannel,
  type WorkerChannel,
} from "../wire/worker_channel.ts";
import { Relay, type RelayRegion } from "./relay.ts";

const FAST = { spinMicros: 0, busySpinMicros: 0, idleSliceMs: 5, busySliceMs: 5 };

function rec(kind: number, fields: Partial<WireRecord> = {}): WireRecord {
  return { kind, flags: 0, aux: 0, id: 0n, offset: 0, length: 0, ...fields };
}

/** A region over a SharedArrayBuffer, and a channel; the test plays parent and Worker. */
function setup(arenaSize = 1 << 16) {
  const control = new SharedArrayBuffer(2 * RING.SIZE);
  let size = arenaSize;
  const region: RelayRegion & { setArenaSize(bytes: number): void } = {
    toStub: new Ring(control, 0, atomicsWaiter),
    toParent: new Ring(control, RING.SIZE, atomicsWaiter),
    arena: new ArrayBuffer(1 << 20),
    arenaSize: () => size,
    setArenaSize: (bytes) => void (size = bytes),
  };
  const channel = openWorkerChannel(createWorkerChannel(arenaSize));
  return { region, channel };
}

function drain(ring: Ring): WireRecord[] {
  const records: WireRecord[] = [];
  for (let record = ring.tryPop(); record !== undefined; record = ring.tryPop()) {
    records.push(record);
  }
  return records;
}

function errorText(region: RelayRegion, record: WireRecord): string {
  return new TextDecoder().decode(new Uint8Array(region.arena, record.offset, record.length));
}

function relay(region: RelayRegion, channel: WorkerChannel, failure?: () => string | undefined) {
  return new Relay(region, channel, {
    parentAlive: () => true,
    workerFailure: failure ?? (() => undefined),
  }, FAST);
}

Deno.test("relay: a whole life: READY, a batch with GROW, FINALIZE", async () => {
  const { region, channel } = setup();
  // Everything is queued up front; the relay consumes it in protocol order.
  channel.toMain.push(rec(MSG.READY));
  region.toStub.push(rec(MSG.EXECUTE, { id: 7n, offset: 0, length: 16 }));
  channel.toMain.push(rec(MSG.GROW, { length: 1 << 17 }));
  region.toStub.push(rec(MSG.GROWN, { length: 1 << 17 }));
  channel.toMain.push(rec(MSG.RESULT, { id: 7n, offset: 4096, length: 100 }));
  region.toStub.push(rec(MSG.FINALIZE));
  channel.toMain.push(rec(MSG.FINALIZED));
  region.setArenaSize(1 << 17); // what the parent publishes before GROWN

  assertEquals(await relay(region, channel).run(64), 0);
  assertEquals(drain(region.toParent).map((r) => [r.kind, r.id, r.length]), [
    [MSG.READY, 0n, 0],
    [MSG.GROW, 0n, 1 << 17],
    [MSG.RESULT, 7n, 100],
    [MSG.FINALIZED, 0n, 0],
  ]);
  assertEquals(drain(channel.toWorker).map((r) => r.kind), [MSG.EXECUTE, MSG.GROWN, MSG.FINALIZE]);
  assertEquals(channel.arenaSize(), 1 << 17);
});

Deno.test("relay: EXECUTE publishes the arena size the parent grew for the inputs", async () => {
  const { region, channel } = setup(4096);
  channel.toMain.push(rec(MSG.READY));
  region.setArenaSize(1 << 18);
  region.toStub.push(rec(MSG.EXECUTE, { id: 1n }));
  channel.toMain.push(rec(MSG.RESULT, { id: 1n }));
  region.toStub.push(rec(MSG.FINALIZE));
  channel.toMain.push(rec(MSG.FINALIZED));
  assertEquals(await relay(region, channel).run(64), 0);
  assertEquals(channel.arenaSize(), 1 << 18);
});

Deno.test("relay: a Worker record for another batch fails the batch and the stub", async () => {
  const { region, channel } = setup();
  channel.toMain.push(rec(MSG.READY));
  region.toStub.push(rec(MSG.EXECUTE, { id: 5n }));
  channel.toMain.push(rec(MSG.RESULT, { id: 6n }));
  assertEquals(await relay(region, channel).run(64), 1);
  const [, error] = drain(region.toParent);
  assertEquals([error.kind, error.id, error.aux], [MSG.ERROR, 5n, ERROR_CODE.INTERNAL]);
  assertStringIncludes(errorText(region, error), "unexpected record (kind 66, id 6)");
});

Deno.test("relay: an initialization ERROR is forwarded and the stub exits to be restarted", async () => {
  const { region, channel } = setup();
  channel.toMain.push(rec(MSG.ERROR, { aux: 99, offset: 64, length: 5 }));
  assertEquals(await relay(region, channel).run(64), 1);
  const [error] = drain(region.toParent);
  assertEquals([error.kind, error.aux, error.offset, error.length], [MSG.ERROR, 1, 64, 5]);
});

Deno.test("relay: a dead Worker fails the batch in flight, naming what happened", async () => {
  const { region, channel } = setup();
  channel.toMain.push(rec(MSG.READY));
  region.toStub.push(rec(MSG.EXECUTE, { id: 9n }));
  let polls = 0;
  const failure = () => (++polls > 2 ? "the model's Worker died: out of stack" : undefined);
  assertEquals(await relay(region, channel, failure).run(64), 1);
  const [, error] = drain(region.toParent);
  assertEquals([error.kind, error.id], [MSG.ERROR, 9n]);
  assertEquals(errorText(region, error), "the model's Worker died: out of stack");
});

Deno.test("relay: an unknown parent kind is answered with ERROR and the stub goes on", async () => {
  const { region, channel } = setup();
  channel.toMain.push(rec(MSG.READY));
  region.toStub.push(rec(42, { id: 3n }));
  region.toStub.push(rec(MSG.FINALIZE));
  channel.toMain.push(rec(MSG.FINALIZED));
  assertEquals(await relay(region, channel).run(64), 0);
  const [, error, finalized] = drain(region.toParent);
  assertEquals([error.kind, error.id, error.aux], [MSG.ERROR, 3n, ERROR_CODE.UNSUPPORTED]);
  assertStringIncludes(errorText(region, error), "does not know record kind 42");
  assertEquals(finalized.kind, MSG.FINALIZED);
});

Deno.test("relay: the stub exits when the parent is gone", async () => {
  const { region, channel } = setup();
  channel.toMain.push(rec(MSG.READY));
  const started = performance.now();
  const code = await new Relay(region, channel, {
    parentAlive: () => performance.now() - started < 20,
    workerFailure: () => undefined,
  }, FAST).run(64);
  assertEquals(code, 1);
  assert(performance.now() - started < 1000);
});
