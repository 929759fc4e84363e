import { assert, assertEquals, assertStrictEquals, assertThrows } from "../api/_test_assert.ts";
import { MSG, RING, RING_CAPACITY, SOON_SPIN_US } from "./layout.ts";
import { atomicsWaiter, Ring, RingCorruptedError, type WireRecord } from "./ring.ts";

function record(id: number, extra: Partial<WireRecord> = {}): WireRecord {
  return { kind: MSG.EXECUTE, flags: 0, aux: 0, id: BigInt(id), offset: 0, length: 0, ...extra };
}

function newRing(): { ring: Ring; words: Int32Array } {
  const buffer = new SharedArrayBuffer(RING.SIZE);
  return { ring: new Ring(buffer, 0, atomicsWaiter), words: new Int32Array(buffer) };
}

Deno.test("ring: every record field survives a push and a pop", () => {
  const { ring } = newRing();
  const sent: WireRecord = {
    kind: MSG.CANCEL,
    flags: 7,
    aux: 0xffff_ffff,
    id: 0xffff_ffff_ffff_fffen,
    offset: 2 ** 40 + 64,
    length: Number.MAX_SAFE_INTEGER,
  };
  assert(ring.tryPush(sent));
  assertEquals(ring.pending, 1);
  assertEquals(ring.tryPop(), sent);
  assertStrictEquals(ring.tryPop(), undefined);
});

Deno.test("ring: the record layout is tdn_record's", () => {
  const buffer = new SharedArrayBuffer(RING.SIZE);
  const ring = new Ring(buffer, 0, atomicsWaiter);
  ring.push({ kind: 2, flags: 0, aux: 3, id: 5n, offset: 64, length: 2 ** 32 + 1 });
  const view = new DataView(buffer);
  assertEquals(view.getUint32(RING.TAIL, true), 1);
  assertEquals(view.getUint16(RING.RECORDS, true), 2);
  assertEquals(view.getUint32(RING.RECORDS + 4, true), 3);
  assertEquals(view.getBigUint64(RING.RECORDS + 8, true), 5n);
  assertEquals(view.getBigUint64(RING.RECORDS + 16, true), 64n);
  assertEquals(view.getBigUint64(RING.RECORDS + 24, true), 2n ** 32n + 1n);
});

Deno.test("ring: wraps around its slots and its u32 counters", () => {
  const { ring, words } = newRing();
  // Start just below 2^32 so the free-running counters wrap during the test.
  const start = 0xffff_fff0 | 0;
  Atomics.store(words, RING.TAIL / 4, start);
  Atomics.store(words, RING.HEAD / 4, start);
  for (let i = 0; i < 5 * RING_CAPACITY; i++) {
    assert(ring.tryPush(record(i)));
    if (i % 3 === 2) {
      assertEquals(ring.tryPop()?.id, BigInt(i - 2));
      assertEquals(ring.tryPop()?.id, BigInt(i - 1));
      assertEquals(ring.tryPop()?.id, BigInt(i));
    }
  }
  assert(Atomics.load(words, RING.TAIL / 4) >>> 0 < 0xffff_fff0, "tail wrapped");
});

Deno.test("ring: a full ring refuses a record and push times out", () => {
  const { ring } = newRing();
  for (let i = 0; i < RING_CAPACITY; i++) assert(ring.tryPush(record(i)));
  assertEquals(ring.tryPush(record(99)), false);
  const started = performance.now();
  assertEquals(ring.push(record(99), 20), false);
  assert(performance.now() - started >= 19);
  assertEquals(ring.tryPop()?.id, 0n);
  assert(ring.tryPush(record(99)));
  assertEquals(ring.pending, RING_CAPACITY);
});

Deno.test("ring: pop times out on an empty ring and leaves consumer_sleeping clear", () => {
  const { ring, words } = newRing();
  const started = performance.now();
  assertStrictEquals(ring.pop(20), undefined);
  assert(performance.now() - started >= 19);
  assertEquals(Atomics.load(words, RING.CONSUMER_SLEEPING / 4), 0);
});

Deno.test("ring: impossible counters are reported, not trusted", () => {
  const { ring, words } = newRing();
  Atomics.store(words, RING.TAIL / 4, RING_CAPACITY + 1);
  assertThrows(() => ring.tryPop(), RingCorruptedError, "impossible");
  assertThrows(() => ring.tryPush(record(1)), RingCorruptedError);
});

Deno.test("ring: a ring that does not fit its buffer is refused", () => {
  assertThrows(() => new Ring(new SharedArrayBuffer(RING.SIZE), 4, atomicsWaiter), RangeError);
});

Deno.test("ring: the producer wakes only a consumer that said it sleeps", () => {
  let wakes = 0;
  const buffer = new SharedArrayBuffer(RING.SIZE);
  const words = new Int32Array(buffer);
  const ring = new Ring(buffer, 0, { ...atomicsWaiter, wake: () => void wakes++ });
  ring.push(record(1));
  assertEquals(wakes, 0);
  Atomics.store(words, RING.CONSUMER_SLEEPING / 4, 1);
  ring.push(record(2));
  assertEquals(wakes, 1);
});

/**
 * Runs `body` while a test Worker (testdata/) that shares `buffer` runs:
 * it says it is ready once it has the buffer.
 */
async function withProducer(script: string, buffer: SharedArrayBuffer, body: () => void) {
  const producer = new Worker(new URL(`./testdata/${script}`, import.meta.url), { type: "module" });
  try {
    const ready = new Promise((resolve) => producer.onmessage = resolve);
    producer.postMessage({ buffer });
    await ready;
    body();
  } finally {
    producer.terminate();
  }
}

Deno.test("ring: a consumer woken by an announcement spins for the record instead of sleeping again", async () => {
  // The ring, then one word: "announced", set by the consumer's doorbell sleep.
  const buffer = new SharedArrayBuffer(RING.SIZE + 4);
  const words = new Int32Array(buffer);
  const ring = new Ring(buffer, 0, atomicsWaiter);
  await withProducer("announce_worker.ts", buffer, () => {
    let sleeps = 0;
    const got = ring.popOnDoorbell(() => {
      sleeps++;
      if (sleeps > 1) return "closed"; // slept again: the announcement was ignored
      Atomics.store(words, RING.SIZE / 4, 1);
      Atomics.notify(words, RING.SIZE / 4);
      return "coming";
    }, 10_000_000); // a generous spin: the producer thread may start late on a busy machine
    assertEquals(sleeps, 1);
    assertEquals((got as WireRecord).id, 7n);
    assertEquals(Atomics.load(words, RING.CONSUMER_SLEEPING / 4), 0);
  });
});

Deno.test("ring: an announced record that does not come in time leaves the consumer asleep again", () => {
  const { ring } = newRing();
  const wakes: string[] = [];
  const got = ring.popOnDoorbell(() => {
    if (wakes.length === 0) {
      wakes.push("coming");
      return "coming"; // announced, never written: the spin gives up
    }
    wakes.push("record");
    ring.push(record(8));
    return "record";
  });
  // The second byte (the record's own) woke it from a second sleep.
  assertEquals(wakes, ["coming", "record"]);
  assertEquals((got as WireRecord).id, 8n);
});

Deno.test("ring: a consumer woken ahead of a batch spins for it a while, then sleeps again", () => {
  const { ring, words } = newRing();
  Atomics.store(words, RING.SOON / 4, 1); // the parent's wake-up stands
  const wakes: string[] = [];
  const started = performance.now();
  let spun = 0;
  const got = ring.popOnDoorbell(() => {
    if (wakes.length === 0) {
      wakes.push("soon");
      return "soon"; // another instance answered, but this batch went elsewhere
    }
    spun = (performance.now() - started) * 1000;
    wakes.push("record");
    ring.push(record(9));
    return "record";
  });
  assertEquals(wakes, ["soon", "record"]);
  assertEquals((got as WireRecord).id, 9n);
  // It spun for the batch before it slept again.
  assert(spun >= SOON_SPIN_US, `slept again after ${spun} us`);
});

Deno.test("ring: a consumer woken ahead of a batch that was already called off sleeps again at once", () => {
  const { ring, words } = newRing();
  Atomics.store(words, RING.SOON / 4, 2); // woken for a batch that began elsewhere meanwhile
  const wakes: string[] = [];
  const started = performance.now();
  const got = ring.popOnDoorbell(
    () => {
      const woke = wakes.length === 0 ? "soon" : "closed";
      wakes.push(woke);
      return woke;
    },
    undefined,
    60_000_000,
  ); // a spin that would outlast the test
  assertEquals(got, "closed");
  assertEquals(wakes, ["soon", "closed"]);
  const seconds = (performance.now() - started) / 1000;
  assert(seconds < 30, `spun ${seconds} s for a batch called off before the wake-up`);
});

Deno.test("ring: a consumer spinning for a likely batch stops when the producer calls it off", async () => {
  // The ring, then one word: "woken", set by the consumer's doorbell sleep.
  const buffer = new SharedArrayBuffer(RING.SIZE + 4);
  const words = new Int32Array(buffer);
  const ring = new Ring(buffer, 0, atomicsWaiter);
  Atomics.store(words, RING.SOON / 4, 3);
  await withProducer("call_off_worker.ts", buffer, () => {
    let sleeps = 0;
    const started = performance.now();
    const got = ring.popOnDoorbell(
      () => {
        if (++sleeps > 1) return "closed";
        Atomics.store(words, RING.SIZE / 4, 1);
        Atomics.notify(words, RING.SIZE / 4);
        return "soon";
      },
      undefined,
      60_000_000,
    ); // a spin that would outlast the test unless called off
    assertEquals(got, "closed");
    assertEquals(sleeps, 2);
    assertEquals(Atomics.load(words, RING.SOON / 4), 4);
    const seconds = (performance.now() - started) / 1000;
    assert(seconds < 30, `spun ${seconds} s after the call-off`);
  });
});

/** Round trips to an echo Worker (synchronous: the Worker runs on its own thread). */
function echoRoundTrips(blocking: boolean, count: number): number[] {
  // Two rings in one SharedArrayBuffer: to the Worker, then back.
  const buffer = new SharedArrayBuffer(2 * RING.SIZE);
  const toWorker = new Ring(buffer, 0, atomicsWaiter);
  const toMain = new Ring(buffer, RING.SIZE, atomicsWaiter);
  const worker = new Worker(new URL("./testdata/echo_worker.ts", import.meta.url), {
    type: "module",
  });
  worker.postMessage({ buffer, blocking });
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      toWorker.push(record(i));
      const reply = toMain.pop(5000);
      times.push(performance.now() - started);
      assertEquals(reply?.id, BigInt(i) + 1n);
    }
    toWorker.push(record(0, { kind: 0 }));
  } finally {
    worker.terminate();
  }
  return times.sort((a, b) => a - b);
}

Deno.test("ring: records cross to a Worker and back (Atomics.waitAsync in the Worker)", () => {
  const times = echoRoundTrips(false, 2000);
  const median = times[times.length >> 1] * 1000;
  const p99 = times[Math.floor(times.length * 0.99)] * 1000;
  console.log(
    `waitAsync Worker round trip: median ${median.toFixed(1)} us, p99 ${p99.toFixed(1)} us`,
  );
});

Deno.test("ring: records cross to a Worker and back (blocking Atomics.wait in the Worker)", () => {
  const times = echoRoundTrips(true, 2000);
  const median = times[times.length >> 1] * 1000;
  console.log(`blocking Worker round trip: median ${median.toFixed(1)} us`);
});
