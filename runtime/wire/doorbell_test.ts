import { assertEquals } from "../api/_test_assert.ts";
import { DOORBELL_BYTE } from "./layout.ts";
import { stdioDoorbell } from "./doorbell.ts";

/** What a sleep reports when one read returns `bytes`. */
function wakeFor(bytes: number[]): string {
  const doorbell = stdioDoorbell((buffer) => {
    buffer.set(bytes);
    return bytes.length;
  }, () => 1);
  return doorbell.sleep();
}

Deno.test("doorbell: each byte says what woke the Worker", () => {
  const { RECORD, TICK, COMING, SOON } = DOORBELL_BYTE;
  assertEquals(wakeFor([RECORD]), "record");
  assertEquals(wakeFor([TICK]), "tick");
  assertEquals(wakeFor([COMING]), "coming");
  assertEquals(wakeFor([SOON]), "soon");
  // The batch that the early wake-up expected came before the Worker read.
  assertEquals(wakeFor([SOON, RECORD]), "record");
  assertEquals(wakeFor([SOON, COMING]), "coming");
  assertEquals(wakeFor([SOON, TICK]), "tick");
  // Announced and then published before the Worker read: the record is there.
  assertEquals(wakeFor([COMING, RECORD]), "record");
  // A tick lets the event loop turn first, whatever else came.
  assertEquals(wakeFor([COMING, TICK]), "tick");
  assertEquals(wakeFor([RECORD, TICK]), "tick");
  // A byte of no meaning (a model found a way to write one) is a spurious record wake-up.
  assertEquals(wakeFor([0x00]), "record");
});

Deno.test("doorbell: no writer left, or a failed read, is closed", () => {
  assertEquals(stdioDoorbell(() => null, () => 1).sleep(), "closed");
  assertEquals(stdioDoorbell(() => 0, () => 1).sleep(), "closed");
  assertEquals(
    stdioDoorbell(() => {
      throw new Error("bad descriptor");
    }, () => 1).sleep(),
    "closed",
  );
});

Deno.test("doorbell: the event-loop sleep reads the same bytes through the asynchronous read", async () => {
  const { RECORD, TICK, COMING } = DOORBELL_BYTE;
  const asleep = (result: () => Promise<number | null>, bytes: number[] = []) =>
    stdioDoorbell(() => 0, () => 1, async (buffer) => {
      buffer.set(bytes);
      return await result();
    }).sleepAsync();
  assertEquals(await asleep(() => Promise.resolve(1), [RECORD]), "record");
  assertEquals(await asleep(() => Promise.resolve(1), [TICK]), "tick");
  assertEquals(await asleep(() => Promise.resolve(1), [COMING]), "coming");
  assertEquals(await asleep(() => Promise.resolve(null)), "closed");
  assertEquals(await asleep(() => Promise.reject(new Error("bad descriptor"))), "closed");
});
