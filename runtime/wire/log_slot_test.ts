import { assertEquals } from "../api/_test_assert.ts";
import { CONTROL, CONTROL_SIZE, MSG } from "./layout.ts";
import { LOG_QUEUE_LIMIT, LogSlot } from "./log_slot.ts";
import type { WireRecord } from "./ring.ts";

/** A control page and a parent that takes LOG records when told to. */
function fixture(accept = true) {
  const control = new ArrayBuffer(CONTROL_SIZE);
  const busy = new Int32Array(control, CONTROL.LOG_BUSY, 1);
  const pushed: WireRecord[] = [];
  const slot = new LogSlot(control, (record) => {
    if (!accept) return false;
    pushed.push(record);
    return true;
  });
  /** What the parent does with the record: copy the text, free the slot. */
  const take = (): string => {
    const record = pushed.shift()!;
    const text = new TextDecoder().decode(
      new Uint8Array(control, CONTROL.LOG_TEXT, record.length),
    );
    Atomics.store(busy, 0, 0);
    return `${record.aux}:${text}`;
  };
  return { slot, pushed, busy, take };
}

Deno.test("log slot: one line in flight; the rest wait for the parent", () => {
  const { slot, pushed, busy, take } = fixture();
  slot.send(1, "first");
  slot.send(0, "second");
  assertEquals(pushed.length, 1);
  assertEquals(pushed[0].kind, MSG.LOG);
  assertEquals(Atomics.load(busy, 0), 1);
  assertEquals(take(), "1:first");
  slot.flush();
  assertEquals(take(), "0:second");
  assertEquals(slot.pending, 0);
});

Deno.test("log slot: repeats are counted, a full queue counts what it drops", () => {
  const { slot, take } = fixture();
  slot.send(1, "busy");
  for (let i = 0; i < 3; i++) slot.send(1, "same");
  for (let i = 0; i < LOG_QUEUE_LIMIT + 5; i++) slot.send(0, `line ${i}`);
  assertEquals(take(), "1:busy");
  slot.flush();
  assertEquals(take(), "1:same (and 2 more time(s))");
  const lines: string[] = [];
  while (slot.pending > 0) {
    slot.flush();
    lines.push(take());
  }
  assertEquals(lines.length, LOG_QUEUE_LIMIT - 1);
  assertEquals(
    lines.at(-1),
    `0:line ${LOG_QUEUE_LIMIT - 2} [6 more line(s) dropped: the stub's log queue was full]`,
  );
});

Deno.test("log slot: a full ring keeps the line and frees the slot", () => {
  const { slot, busy, pushed } = fixture(false);
  slot.send(2, "kept");
  assertEquals(pushed.length, 0);
  assertEquals(Atomics.load(busy, 0), 0);
  assertEquals(slot.pending, 1);
});

Deno.test("log slot: text is cut to the slot at a character boundary", () => {
  const { slot, take } = fixture();
  slot.send(0, "é".repeat(CONTROL.LOG_TEXT_CAPACITY));
  const text = take().slice(2);
  assertEquals(text, "é".repeat(CONTROL.LOG_TEXT_CAPACITY / 2));
});
