import { assertEquals } from "../api/_test_assert.ts";
import { CONTROL, CONTROL_SIZE, MSG } from "../wire/layout.ts";
import { atomicsWaiter, Ring, type WireRecord } from "../wire/ring.ts";
import { Cancellations } from "./cancellations.ts";
import { Inbox } from "./inbox.ts";

/** A to_stub ring in ordinary memory, the inbox over it, and a way to send. */
function setup(): {
  cancellations: Cancellations;
  inbox: Inbox;
  send: (record: WireRecord) => void;
} {
  const page = new ArrayBuffer(CONTROL_SIZE);
  const ring = new Ring(page, CONTROL.TO_STUB, atomicsWaiter);
  const inbox = new Inbox(ring);
  const cancellations = new Cancellations(inbox);
  const send = (record: WireRecord) => assertEquals(ring.tryPush(record), true);
  return { cancellations, inbox, send };
}

const cancel = (batchId: bigint, index: number): WireRecord => ({
  kind: MSG.CANCEL,
  flags: 0,
  aux: index,
  id: batchId,
  offset: 0,
  length: 0,
});

Deno.test("cancellations: a CANCEL handed over before its batch opens applies when it opens", () => {
  const { cancellations, inbox, send } = setup();
  // The parent sent EXECUTE 1 and the CANCEL for its request 1 behind it:
  // the inbox takes both before the batch runs.
  send(cancel(1n, 1));
  inbox.drain();
  cancellations.open(1n, 3);
  assertEquals([0, 1, 2].map((i) => cancellations.isCancelled(1n, i)), [false, true, false]);
});

Deno.test("cancellations: a CANCEL for a batch already answered, or out of range, changes nothing", () => {
  const { cancellations, inbox, send } = setup();
  cancellations.open(5n, 2);
  cancellations.forget(5n);
  send(cancel(5n, 0)); // answered already
  send(cancel(4n, 0)); // older still
  inbox.drain();
  cancellations.open(6n, 2);
  assertEquals([cancellations.isCancelled(6n, 0), cancellations.isCancelled(6n, 1)], [
    false,
    false,
  ]);
  send(cancel(6n, 7)); // no request 7
  assertEquals([cancellations.isCancelled(6n, 0), cancellations.isCancelled(6n, 1)], [
    false,
    false,
  ]);
  send(cancel(6n, 1));
  assertEquals(cancellations.isCancelled(6n, 1), true);
});
