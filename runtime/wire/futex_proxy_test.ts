import { assert, assertEquals, assertThrows } from "../api/_test_assert.ts";
import {
  createFutexProxy,
  FutexProxyClient,
  FutexProxyHost,
  PARK_WORDS,
  PARKED,
  PROXY,
  WAKE_BIT,
} from "./futex_proxy.ts";
import { CONTROL, CONTROL_SIZE, MSG, RING, SLEEP } from "./layout.ts";
import { atomicsWaiter, Ring } from "./ring.ts";
import type { Doorbell, DoorbellWake } from "./doorbell.ts";
import type { ProxyWorkerReport, ProxyWorkerStart } from "./testdata/proxy_worker.ts";

const TO_STUB_TAIL = (CONTROL.TO_STUB + RING.TAIL) / 4;
const TO_STUB_HEAD = (CONTROL.TO_STUB + RING.HEAD) / 4;
const TO_PARENT_TAIL = (CONTROL.TO_PARENT + RING.TAIL) / 4;
const TO_PARENT_HEAD = (CONTROL.TO_PARENT + RING.HEAD) / 4;

/** A doorbell's event-loop sleep, where a test expects none. */
function notInEventLoop(): Promise<DoorbellWake> {
  return Promise.reject(new Error("the Worker slept in its event loop"));
}

Deno.test("futex proxy: the Worker may park on the words it consumes or produces on, only", () => {
  assertEquals([...PARK_WORDS].sort(), [TO_STUB_TAIL, TO_PARENT_HEAD].sort());
  const client = new FutexProxyClient(createFutexProxy());
  const words = new Int32Array(CONTROL_SIZE / 4);
  // Refused before anything blocks.
  assertThrows(() => client.waiter.wait(words, TO_PARENT_TAIL, 0, Infinity), RangeError);
  assertThrows(() => client.waiter.wake(words, TO_STUB_TAIL), RangeError);
});

Deno.test("futex proxy: wakes and exits reach the host, each ringing the bell", () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  const client = new FutexProxyClient(buffer);
  const words = new Int32Array(CONTROL_SIZE / 4);
  assertEquals([host.takeWakes(), host.exitRequest()], [0, undefined]);

  const bell = host.bell();
  client.waiter.wake(words, TO_PARENT_TAIL);
  client.waiter.wake(words, TO_STUB_HEAD);
  assertEquals(host.bell(), bell + 2);
  assertEquals(host.waitForBell(bell, 1000), "ok", "a rung bell does not sleep");
  assertEquals(host.takeWakes(), WAKE_BIT.TO_PARENT_TAIL | WAKE_BIT.TO_STUB_HEAD);
  assertEquals(host.takeWakes(), 0);

  client.requestExit(0);
  assertEquals(host.exitRequest(), 0);
  client.requestExit(1);
  assertEquals(host.exitRequest(), 1);
});

Deno.test("futex proxy: the host does not trust the buffer", () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  const words = new Int32Array(buffer);
  // A forged park on the parent's own word is completed at once, never slept on.
  Atomics.store(words, PROXY.PARK_WORD, TO_STUB_HEAD);
  Atomics.store(words, PROXY.PARK_SEQ, 5);
  assertEquals(host.pendingPark(), undefined);
  assertEquals(Atomics.load(words, PROXY.PARK_DONE), 5);
  // Unknown wake bits are dropped; an unknown exit value means "restart".
  Atomics.store(words, PROXY.WAKE, -1);
  assertEquals(host.takeWakes(), WAKE_BIT.TO_PARENT_TAIL | WAKE_BIT.TO_STUB_HEAD);
  Atomics.store(words, PROXY.EXIT, 77);
  assertEquals(host.exitRequest(), 1);
  assertThrows(() => new FutexProxyHost(new SharedArrayBuffer(8)), RangeError);
});

Deno.test("futex proxy: a parked Worker sleeps until the host completes the park, and its timers run meanwhile", async () => {
  const proxy = createFutexProxy();
  const control = new SharedArrayBuffer(CONTROL_SIZE);
  const flags = new SharedArrayBuffer(4);
  const host = new FutexProxyHost(proxy);
  const worker = new Worker(new URL("./testdata/proxy_worker.ts", import.meta.url), {
    type: "module",
  });
  const report = new Promise<ProxyWorkerReport>((resolve) => {
    worker.addEventListener("message", (event) => resolve(event.data), { once: true });
  });
  // Long slices, and a timer that comes due during the first one: it must
  // run at that slice's end. When the event loop only turned between
  // slices, Deno ran it after about 130 of them (26 s here), so the bound
  // below tells the two apart on any machine that is not 50 times slower
  // than needed.
  const sliceMs = 200;
  const start: ProxyWorkerStart = {
    proxy,
    control,
    script: "pop-async",
    sliceMs,
    flags,
    timerMs: sliceMs / 4,
  };
  worker.postMessage(start);
  try {
    let park = host.pendingPark();
    for (let tries = 0; park === undefined && tries < 100; tries++) {
      host.waitForBell(host.bell(), 100);
      park = host.pendingPark();
    }
    assert(park !== undefined, "the Worker never asked to park");
    assertEquals([park.word, park.value], [TO_STUB_TAIL, 0]);
    const words = new Int32Array(control);
    assertEquals(Atomics.load(words, (CONTROL.TO_STUB + RING.CONSUMER_SLEEPING) / 4), 1);

    // The Worker stays parked, and its timer runs, until the record arrives
    // and the park is completed, as the main thread would.
    const fired = new Int32Array(flags);
    const waitedMs = await pollUntil(() => Atomics.load(fired, 0) === 1, 50 * sliceMs);
    assert(waitedMs !== undefined, `the parked Worker's timer did not run in ${50 * sliceMs} ms`);
    assertEquals(host.pendingPark()?.seq, park.seq, "the park ended before the record came");
    const toStub = new Ring(control, CONTROL.TO_STUB, atomicsWaiter);
    toStub.push({ kind: MSG.EXECUTE, flags: 0, aux: 0, id: 7n, offset: 0, length: 0 });
    host.completePark(park.seq);
    assertEquals(await report, { id: 7n, timerFired: true });
  } finally {
    worker.terminate();
  }
});

/** Checks `done` every 10 ms; the milliseconds it took, or undefined after `limitMs`. */
async function pollUntil(done: () => boolean, limitMs: number): Promise<number | undefined> {
  const started = performance.now();
  while (!done()) {
    if (performance.now() - started > limitMs) return undefined;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - started;
}

Deno.test("futex proxy: a park counts as done once a later one is, and busy reaches the host", async () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  const client = new FutexProxyClient(buffer);
  const words = new Int32Array(CONTROL_SIZE / 4);
  assertEquals(host.busy(), false);
  client.setEventLoopBusy(true);
  assertEquals(host.busy(), true);
  // An asynchronous park (busy: it waits through the event loop) ...
  const parked = client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity);
  const first = host.pendingPark();
  assert(first !== undefined);
  // ... is over when the host completes a later request instead.
  Atomics.store(new Int32Array(buffer), PROXY.PARK_SEQ, first.seq + 1);
  host.completePark(first.seq + 1);
  assertEquals(await parked, "ok");
  client.setEventLoopBusy(false);
  assertEquals(host.busy(), false);
});

Deno.test("futex proxy: a blocking wait during an asynchronous park polls instead of parking", async () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  const client = new FutexProxyClient(buffer);
  client.setEventLoopBusy(true);
  const control = new SharedArrayBuffer(CONTROL_SIZE);
  const words = new Int32Array(control);
  const parked = client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity);
  const park = host.pendingPark();
  assert(park !== undefined);
  // Another thread (the parent) moves to_parent.head in a moment.
  const mover = new Worker(
    `data:text/javascript,onmessage = (e) => { const w = new Int32Array(e.data); ` +
      `Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30); ` +
      `Atomics.store(w, ${TO_PARENT_HEAD}, 1); postMessage(0); };`,
    { type: "module" },
  );
  try {
    mover.postMessage(control);
    assertEquals(client.waiter.wait(words, TO_PARENT_HEAD, 0, Infinity), "ok");
    assertEquals(Atomics.load(words, TO_PARENT_HEAD), 1);
    // It asked for no park of its own: the asynchronous one is still the pending one.
    assertEquals(host.pendingPark()?.seq, park.seq);
    host.completePark(park.seq);
    assertEquals(await parked, "ok");
  } finally {
    mover.terminate();
  }
});

Deno.test("futex proxy: a doorbell sleep says whether timers are pending, and waking timers ring the bell", () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  let timers = false;
  const seen: { parked: number; bell: number }[] = [];
  const doorbell: Doorbell = {
    sleep(): DoorbellWake {
      seen.push({ parked: host.doorbellParked(), bell: host.bell() });
      return "tick";
    },
    ringParent() {},
    sleepAsync: notInEventLoop,
  };
  const client = new FutexProxyClient(
    buffer,
    { eventLoopSliceMs: 5, timersPending: () => timers },
    doorbell,
  );
  const bell = host.bell();
  assertEquals(client.sleepOnDoorbellNow(), "tick");
  assertEquals(
    seen.at(-1),
    { parked: PARKED.IDLE, bell: bell + 1 },
    "the first sleep wakes the main thread: the start is over",
  );
  assertEquals(host.doorbellParked(), PARKED.NO);
  assertEquals(client.sleepOnDoorbellNow(), "tick");
  assertEquals(
    seen.at(-1),
    { parked: PARKED.IDLE, bell: bell + 1 },
    "no timers: ticked rarely, nobody woken",
  );
  // A timer made since: the main thread may be in its long wait, and is
  // woken to choose the short one.
  timers = true;
  assertEquals(client.sleepOnDoorbellNow(), "tick");
  assertEquals(seen.at(-1), { parked: PARKED.TIMERS, bell: bell + 2 });
  assertEquals(client.sleepOnDoorbellNow(), "tick");
  assertEquals(seen.at(-1), { parked: PARKED.TIMERS, bell: bell + 2 }, "already short: no ring");
  // Without a tracker, a sleep always counts as having timers.
  const untracked = new FutexProxyClient(buffer, { eventLoopSliceMs: 5 }, doorbell);
  untracked.sleepOnDoorbellNow();
  assertEquals(seen.at(-1)?.parked, PARKED.TIMERS);
  // Garbage in the word reads as "tick often", never as "not asleep".
  new Int32Array(buffer)[PROXY.DOORBELL_PARKED] = 77;
  assertEquals(host.doorbellParked(), PARKED.TIMERS);
});

Deno.test("futex proxy: awaiting calls to other models, the Worker blocks on its doorbell once the model's ready work ran", async () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  const words = new Int32Array(CONTROL_SIZE / 4);
  const order: string[] = [];
  let wake: DoorbellWake = "record";
  const doorbell: Doorbell = {
    sleep(): DoorbellWake {
      order.push(`sleep parked=${host.doorbellParked()}`);
      if (wake === "record") Atomics.store(words, TO_STUB_TAIL, 1); // the parent published
      return wake;
    },
    ringParent() {},
    sleepAsync: notInEventLoop,
  };
  const client = new FutexProxyClient(
    buffer,
    { eventLoopSliceMs: 5, timersPending: () => false },
    doorbell,
  );
  client.setEventLoopBusy(false, true);
  assertEquals(host.busy(), true, "the main thread parks in short slices meanwhile");
  assertEquals(client.waiter.sleepMark(true), SLEEP.DOORBELL, "the parent rings, not futex-wakes");
  const waited = client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity);
  // Not inside the model's call: its synchronous code and microtasks first.
  order.push("model goes on");
  await Promise.resolve();
  order.push("model's microtask");
  assertEquals(await waited, "ok");
  assertEquals(order, ["model goes on", "model's microtask", `sleep parked=${PARKED.CALL}`]);
  assertEquals(host.doorbellParked(), PARKED.NO);
  assertEquals(host.pendingPark(), undefined, "no futex park through the main thread");
  // A tick: the event loop goes idle once (a due timer runs) before the
  // wait returns and the caller sleeps again.
  wake = "tick";
  Atomics.store(words, TO_STUB_TAIL, 0);
  let fired = false;
  setTimeout(() => (fired = true), 0);
  const due = performance.now() + 5;
  while (performance.now() < due) { /* the timer is due, and cannot run yet */ }
  assertEquals(await client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity), "ok");
  assert(fired, "the model's timer ran after the tick");
  // A record already there: no sleep at all.
  order.length = 0;
  Atomics.store(words, TO_STUB_TAIL, 5);
  assertEquals(await client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity), "ok");
  assertEquals(order, []);
});

Deno.test("futex proxy: calls in flight beside other model work wait through the main thread, never blocking", async () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  const words = new Int32Array(CONTROL_SIZE / 4);
  const doorbell: Doorbell = {
    sleep(): DoorbellWake {
      throw new Error("must not block");
    },
    ringParent() {},
    sleepAsync: notInEventLoop,
  };
  const client = new FutexProxyClient(buffer, { eventLoopSliceMs: 5 }, doorbell);
  client.setEventLoopBusy(true, true); // a decoupled batch streams, and calls are in flight
  assertEquals(client.waiter.sleepMark(true), SLEEP.FUTEX);
  const parked = client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity);
  const park = host.pendingPark();
  assert(park !== undefined);
  host.completePark(park.seq);
  assertEquals(await parked, "ok");
});

Deno.test("futex proxy: when the work ends, a wait parked through the main thread is cancelled and returns", async () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  const words = new Int32Array(CONTROL_SIZE / 4);
  const doorbell: Doorbell = {
    sleep: (): DoorbellWake => "record",
    ringParent() {},
    sleepAsync: notInEventLoop,
  };
  const client = new FutexProxyClient(buffer, { eventLoopSliceMs: 5 }, doorbell);
  client.setEventLoopBusy(true); // a decoupled batch streams
  const parked = client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity);
  const park = host.pendingPark();
  assert(park !== undefined);
  assertEquals(host.parkCancelled(park.seq), false);
  // The stream closed: the next record should ring the doorbell, not go
  // through the main thread's futex.
  client.setEventLoopBusy(false);
  assertEquals(await parked, "ok", "the wait returned without the park completing");
  assertEquals(host.parkCancelled(park.seq), true);
  assertEquals(client.waiter.sleepMark(true), SLEEP.DOORBELL);
  // A later park is not cancelled by it.
  assertEquals(host.parkCancelled(park.seq + 1), false);
});

Deno.test("futex proxy: after a tick the idle Worker sleeps in its event loop, needing no ticks, and rings the bell when it blocks again", async () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  const words = new Int32Array(CONTROL_SIZE / 4);
  const seen: { parked: number; bell: number }[] = [];
  let answerLoopSleep = (_wake: DoorbellWake) => {};
  const doorbell: Doorbell = {
    sleep(): DoorbellWake {
      seen.push({ parked: host.doorbellParked(), bell: host.bell() });
      return "tick";
    },
    ringParent() {},
    sleepAsync(): Promise<DoorbellWake> {
      seen.push({ parked: host.doorbellParked(), bell: host.bell() });
      return new Promise((resolve) => answerLoopSleep = resolve);
    },
  };
  const client = new FutexProxyClient(
    buffer,
    { eventLoopSliceMs: 5, timersPending: () => false },
    doorbell,
  );
  assertEquals(client.sleepOnDoorbellNow(), "tick");
  const bell = host.bell();
  client.sleepInEventLoop(true);
  const waited = client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity);
  assertEquals(
    seen.at(-1),
    { parked: PARKED.LOOP, bell },
    "asleep in the event loop; nobody woken",
  );
  assertEquals(client.sleepOnDoorbellNow(), undefined, "one reader of the doorbell at a time");
  assertEquals(client.waiter.sleepMark(true), SLEEP.FUTEX, "others wait through the main thread");
  // The model's timers and I/O run meanwhile: this thread is free.
  let fired = false;
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      fired = true;
      resolve();
    }, 1)
  );
  assert(fired);
  Atomics.store(words, TO_STUB_TAIL, 1); // the parent publishes, and rings
  answerLoopSleep("record");
  assertEquals(await waited, "ok");
  assertEquals(host.doorbellParked(), PARKED.NO);
  client.sleepInEventLoop(false);
  // Blocked again, it needs ticks: the main thread, perhaps waiting with no
  // limit, is woken to choose its wait.
  assertEquals(client.sleepOnDoorbellNow(), "tick");
  assertEquals(seen.at(-1), { parked: PARKED.IDLE, bell: bell + 1 });
  assertEquals(host.doorbellParked(), PARKED.NO);
});

Deno.test("futex proxy: a wait that outlived the model's work sleeps in the event loop after one tick, until a record comes", async () => {
  const buffer = createFutexProxy();
  const host = new FutexProxyHost(buffer);
  const words = new Int32Array(CONTROL_SIZE / 4);
  const seen: number[] = [];
  let answerLoopSleep = (_wake: DoorbellWake) => {};
  const doorbell: Doorbell = {
    sleep(): DoorbellWake {
      seen.push(host.doorbellParked());
      return "tick";
    },
    ringParent() {},
    sleepAsync(): Promise<DoorbellWake> {
      seen.push(host.doorbellParked());
      return new Promise((resolve) => answerLoopSleep = resolve);
    },
  };
  const client = new FutexProxyClient(
    buffer,
    { eventLoopSliceMs: 5, timersPending: () => false },
    doorbell,
  );
  // The work is over; the ring's reader (not the serve loop) waits on.
  assertEquals(await client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity), "ok");
  assertEquals(seen, [PARKED.IDLE], "blocked on the doorbell, and ticked");
  // The reader re-checks the ring and waits again: in the event loop now.
  const waited = client.waiter.waitAsync(words, TO_STUB_TAIL, 0, Infinity);
  assertEquals(seen, [PARKED.IDLE, PARKED.LOOP], "no ticks needed any more");
  Atomics.store(words, TO_STUB_TAIL, 1);
  answerLoopSleep("record");
  assertEquals(await waited, "ok");
  // After the record, the next idle wait blocks again (the fast wake-up).
  assertEquals(await client.waiter.waitAsync(words, TO_STUB_TAIL, 1, Infinity), "ok");
  assertEquals(seen, [PARKED.IDLE, PARKED.LOOP, PARKED.IDLE]);
});
