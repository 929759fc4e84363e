import { assert, assertEquals } from "../api/_test_assert.ts";
import { createFutexProxy, PARKED, PROXY, WAKE_BIT } from "../wire/futex_proxy.ts";
import { CONTROL, CONTROL_SIZE, ERROR_CODE, MSG, RING } from "../wire/layout.ts";
import { atomicsWaiter, Ring, type RingWaiter, type WireRecord } from "../wire/ring.ts";
import type { ProxyWorkerStart } from "../wire/testdata/proxy_worker.ts";
import { FutexService, type ServiceHooks, type ServiceRegion } from "./futex_service.ts";

const FAST = { watchSliceMs: 5, parkSliceMs: 5, idleTickMs: 5, callTickMs: 5 };
const TO_STUB_TAIL = (CONTROL.TO_STUB + RING.TAIL) / 4;
const TO_PARENT_TAIL = (CONTROL.TO_PARENT + RING.TAIL) / 4;
const ALIVE: ServiceHooks = { parentAlive: () => true, workerFailure: () => undefined };

function rec(kind: number, id = 0n): WireRecord {
  return { kind, flags: 0, aux: 0, id, offset: 0, length: 0 };
}

/**
 * A control page in a SharedArrayBuffer. Its "futex" records what the
 * service asks; the first wait plays the parent sending EXECUTE 41.
 */
function fakeRegion() {
  const control = new SharedArrayBuffer(CONTROL_SIZE);
  const controlWords = new Int32Array(control);
  const waits: [number, number][] = [];
  const wakes: number[] = [];
  const parentToStub = new Ring(control, CONTROL.TO_STUB, atomicsWaiter);
  const futexWaiter: RingWaiter = {
    wait(_words, index, expected) {
      waits.push([index, expected]);
      if (waits.length === 1) parentToStub.push(rec(MSG.EXECUTE, 41n));
      return "ok";
    },
    wake(_words, index) {
      wakes.push(index);
    },
  };
  const ticks: number[] = [];
  const region: ServiceRegion = {
    controlWords,
    futexWaiter,
    toParent: new Ring(control, CONTROL.TO_PARENT, atomicsWaiter),
    arena: new ArrayBuffer(1 << 16),
    startArenaSize: 1 << 16,
    // The parent's doorbell: recorded as a wake of the word it sleeps for.
    ringParent: () => wakes.push(TO_PARENT_TAIL),
    tickWorker: () => ticks.push(performance.now()),
  };
  return { control, controlWords, region, waits, wakes, ticks };
}

Deno.test("futex service: parks for the Worker, wakes the parent for it, exits when asked", async () => {
  const { control, controlWords, region, waits, wakes } = fakeRegion();
  // The parent sleeps on to_parent: the Worker's answer must wake it.
  Atomics.store(controlWords, (CONTROL.TO_PARENT + RING.CONSUMER_SLEEPING) / 4, 1);
  const proxy = createFutexProxy();
  const worker = new Worker(new URL("../wire/testdata/proxy_worker.ts", import.meta.url), {
    type: "module",
  });
  try {
    const start: ProxyWorkerStart = { proxy, control, script: "echo" };
    worker.postMessage(start);
    const code = await new FutexService(region, proxy, ALIVE, FAST).run(0);
    assertEquals(code, 0);
    assertEquals(waits, [[TO_STUB_TAIL, 0]]);
    assertEquals(wakes, [TO_PARENT_TAIL]);
    const answer = region.toParent.tryPop();
    assertEquals([answer?.kind, answer?.id], [MSG.EXECUTE, 42n]);
  } finally {
    worker.terminate();
  }
});

Deno.test("futex service: a dead Worker is answered for with ERROR (batch id 0), and the stub exits 1", async () => {
  const { region } = fakeRegion();
  const hooks: ServiceHooks = {
    parentAlive: () => true,
    workerFailure: () => "the model's Worker died: out of stack",
  };
  const code = await new FutexService(region, createFutexProxy(), hooks, FAST).run(128);
  assertEquals(code, 1);
  const error = region.toParent.tryPop();
  assert(error !== undefined, "no ERROR was sent");
  assertEquals([error.kind, error.id, error.aux, error.offset], [
    MSG.ERROR,
    0n,
    ERROR_CODE.INTERNAL,
    128,
  ]);
  assertEquals(
    new TextDecoder().decode(new Uint8Array(region.arena, error.offset, error.length)),
    "the model's Worker died: out of stack",
  );
});

Deno.test("futex service: the stub exits when the parent is gone", async () => {
  const { region } = fakeRegion();
  const started = performance.now();
  const hooks: ServiceHooks = {
    parentAlive: () => performance.now() - started < 20,
    workerFailure: () => undefined,
  };
  assertEquals(await new FutexService(region, createFutexProxy(), hooks, FAST).run(0), 1);
  assert(performance.now() - started < 1000);
  assertEquals(region.toParent.tryPop(), undefined, "nothing is sent for a parent that is gone");
});

Deno.test("futex service: a wake asked for before a park is done before the park sleeps", async () => {
  const { region, wakes } = fakeRegion();
  const proxy = createFutexProxy();
  const words = new Int32Array(proxy);
  // As the Worker leaves them after answering a sleeping parent and then
  // finding nothing to do: a wake, then a park, both before the service looks.
  Atomics.or(words, PROXY.WAKE, WAKE_BIT.TO_PARENT_TAIL);
  Atomics.store(words, PROXY.PARK_WORD, TO_STUB_TAIL);
  Atomics.store(words, PROXY.PARK_VALUE, 0);
  Atomics.store(words, PROXY.PARK_SEQ, 1);
  const wakesBeforeSleeping: number[] = [];
  const futexWaiter = region.futexWaiter;
  const service = new FutexService(
    {
      ...region,
      futexWaiter: {
        wait(controlWords, index, expected, timeoutMs) {
          wakesBeforeSleeping.push(wakes.length);
          // Done: the Worker would ask to exit after this batch.
          Atomics.store(words, PROXY.EXIT, 1);
          return futexWaiter.wait(controlWords, index, expected, timeoutMs);
        },
        wake: futexWaiter.wake,
      },
    },
    proxy,
    ALIVE,
    FAST,
  );
  assertEquals(await service.run(0), 0);
  assertEquals(wakesBeforeSleeping, [1]);
  assertEquals(Atomics.load(words, PROXY.PARK_DONE), 1);
});

Deno.test("futex service: while the Worker is busy, its wakes are served during a park", async () => {
  const { region, wakes } = fakeRegion();
  const proxy = createFutexProxy();
  const words = new Int32Array(proxy);
  // A Worker with calls in flight, parked on to_stub, that publishes for
  // the sleeping parent while the park lasts.
  Atomics.store(words, PROXY.BUSY, 1);
  Atomics.store(words, PROXY.PARK_WORD, TO_STUB_TAIL);
  Atomics.store(words, PROXY.PARK_VALUE, 0);
  Atomics.store(words, PROXY.PARK_SEQ, 1);
  const slices: number[] = [];
  const wakesAtSlice: number[] = [];
  const service = new FutexService(
    {
      ...region,
      futexWaiter: {
        wait(_controlWords, _index, _expected, timeoutMs) {
          slices.push(timeoutMs);
          wakesAtSlice.push(wakes.length);
          if (slices.length === 1) Atomics.or(words, PROXY.WAKE, WAKE_BIT.TO_PARENT_TAIL);
          if (slices.length === 2) Atomics.store(words, PROXY.EXIT, 1);
          if (slices.length === 3) region.controlWords[TO_STUB_TAIL] = 1; // the park ends
          return "timed-out";
        },
        wake: region.futexWaiter.wake,
      },
    },
    proxy,
    ALIVE,
    { watchSliceMs: 5, parkSliceMs: 1000, idleTickMs: 1000, callTickMs: 1000 },
  );
  assertEquals(await service.run(0), 0);
  assertEquals(wakes, [TO_PARENT_TAIL]);
  assertEquals(wakesAtSlice, [0, 1, 1], "the wake went out while the park went on");
  assert(slices.every((slice) => slice <= 8), `busy parks sleep in short slices: ${slices}`);
});

Deno.test("futex service: a Worker asleep awaiting other models is ticked every callTickMs", async () => {
  const { region, ticks } = fakeRegion();
  const proxy = createFutexProxy();
  Atomics.store(new Int32Array(proxy), PROXY.DOORBELL_PARKED, PARKED.CALL);
  // The other slices are long: only the call tick can be this quick.
  const timing = { watchSliceMs: 5000, parkSliceMs: 5000, idleTickMs: 5000, callTickMs: 5 };
  const started = performance.now();
  const code = await new FutexService(region, proxy, {
    parentAlive: () => ticks.length < 4,
    workerFailure: () => undefined,
  }, timing).run(0);
  assertEquals(code, 1);
  assertEquals(ticks.length, 4);
  assert(performance.now() - started < 2000, "ticked on the short slice");
});

Deno.test("futex service: a park the Worker cancelled ends at the next slice, the word unchanged", async () => {
  const { region } = fakeRegion();
  const proxy = createFutexProxy();
  const words = new Int32Array(proxy);
  Atomics.store(words, PROXY.BUSY, 1);
  Atomics.store(words, PROXY.PARK_WORD, TO_STUB_TAIL);
  Atomics.store(words, PROXY.PARK_VALUE, 0);
  Atomics.store(words, PROXY.PARK_SEQ, 1);
  let slices = 0;
  const service = new FutexService(
    {
      ...region,
      futexWaiter: {
        wait() {
          slices++;
          if (slices === 2) {
            // The Worker's work ended: it cancels the park and sleeps on its doorbell.
            Atomics.store(words, PROXY.BUSY, 0);
            Atomics.store(words, PROXY.PARK_CANCEL, 1);
          }
          // Without the cancel the park would go on: end it, so the test fails instead of hanging.
          if (slices === 10) region.controlWords[TO_STUB_TAIL] = 1;
          return "timed-out";
        },
        wake: region.futexWaiter.wake,
      },
    },
    proxy,
    ALIVE,
    { watchSliceMs: 5, parkSliceMs: 1000, idleTickMs: 1000, callTickMs: 1000 },
  );
  // The fake futex never blocks: the park runs to its end before run() returns.
  const run = service.run(0);
  assertEquals(Atomics.load(words, PROXY.PARK_DONE), 1, "the cancelled park was completed");
  assertEquals(slices, 2, "ended at the slice that saw the cancel");
  Atomics.store(words, PROXY.EXIT, 1);
  Atomics.add(words, PROXY.BELL, 1);
  Atomics.notify(words, PROXY.BELL);
  assertEquals(await run, 0);
});

Deno.test("futex service: settled runs when the Worker first sleeps on its doorbell, and each time it falls idle", async () => {
  for (const parks of [false, true]) {
    const { region } = fakeRegion();
    const proxy = createFutexProxy();
    if (parks) Atomics.store(new Int32Array(proxy), PROXY.DOORBELL_PARKED, PARKED.IDLE);
    const started = performance.now();
    let calls = 0;
    const hooks: ServiceHooks = {
      parentAlive: () => performance.now() - started < 60,
      workerFailure: () => undefined,
      settled: () => calls++,
    };
    assertEquals(await new FutexService(region, proxy, hooks, FAST).run(0), 1);
    assertEquals(calls, parks ? 1 : 0, `parks: ${parks}`);
  }
  // Blocked, then idle in its event loop twice, with work in between.
  const { region } = fakeRegion();
  const proxy = createFutexProxy();
  const words = new Int32Array(proxy);
  const states = [PARKED.IDLE, PARKED.LOOP, PARKED.LOOP, PARKED.NO, PARKED.IDLE, PARKED.LOOP];
  let calls = 0;
  const seen: number[] = [];
  const hooks: ServiceHooks = {
    parentAlive: () => {
      const next = states.shift();
      if (next === undefined) return false;
      Atomics.store(words, PROXY.DOORBELL_PARKED, next);
      return true;
    },
    workerFailure: () => undefined,
    settled: () => seen.push(++calls),
  };
  assertEquals(await new FutexService(region, proxy, hooks, FAST).run(0), 1);
  assertEquals(seen, [1, 2, 3], "the start, then each fall into idleness (not each look at it)");
});

Deno.test("futex service: a Worker asleep in its event loop gets no ticks; both ends are checked each idleTickMs", async () => {
  const { region, ticks } = fakeRegion();
  const proxy = createFutexProxy();
  Atomics.store(new Int32Array(proxy), PROXY.DOORBELL_PARKED, PARKED.LOOP);
  let checks = 0;
  const code = await new FutexService(region, proxy, {
    parentAlive: () => ++checks < 4,
    workerFailure: () => undefined,
  }, FAST).run(0);
  assertEquals(code, 1);
  assertEquals(checks, 4);
  assertEquals(ticks.length, 0, "a Worker in its event loop runs its timers itself");
});

Deno.test("futex service: with ended, a Worker asleep in its event loop leaves the main thread asleep until the bell or an end", async () => {
  const { region, ticks } = fakeRegion();
  const proxy = createFutexProxy();
  const words = new Int32Array(proxy);
  Atomics.store(words, PROXY.DOORBELL_PARKED, PARKED.LOOP);
  let endSeen = () => {};
  const ended = new Promise<void>((resolve) => endSeen = resolve);
  let checks = 0;
  let gone = false;
  const service = new FutexService(region, proxy, {
    parentAlive: () => {
      checks++;
      return !gone;
    },
    workerFailure: () => undefined,
    ended: () => ended,
  }, FAST);
  const run = service.run(0);
  // With 5 ms slices, a timed wait would have checked about 40 times by now.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assertEquals(checks, 0, "no wake-up while nothing happened");
  // The bell (the Worker left its event-loop sleep and blocks now): the
  // service looks again, and ticks the blocked Worker on its slice.
  Atomics.store(words, PROXY.DOORBELL_PARKED, PARKED.IDLE);
  Atomics.add(words, PROXY.BELL, 1);
  Atomics.notify(words, PROXY.BELL);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert(checks >= 1, "the bell woke the service");
  assert(ticks.length >= 1, "a blocked Worker is ticked again");
  // Back in the event loop; then the parent goes.
  Atomics.store(words, PROXY.DOORBELL_PARKED, PARKED.LOOP);
  await new Promise((resolve) => setTimeout(resolve, 50));
  const ticked = ticks.length;
  gone = true;
  endSeen();
  assertEquals(await run, 1);
  assertEquals(ticks.length, ticked, "no ticks while the Worker slept in its event loop");
});
