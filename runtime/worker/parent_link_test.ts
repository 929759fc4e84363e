import { assertEquals, assertThrows } from "../api/_test_assert.ts";
import { createFutexProxy, FutexProxyHost, WAKE_BIT } from "../wire/futex_proxy.ts";
import { CONTROL, CONTROL_SIZE, MSG, RING } from "../wire/layout.ts";
import { openParentLink } from "./parent_link.ts";

function controlPage(arenaSize: number): ArrayBuffer {
  const control = new ArrayBuffer(CONTROL_SIZE);
  new DataView(control).setBigUint64(CONTROL.ARENA_SIZE, BigInt(arenaSize), true);
  return control;
}

Deno.test("parent link: a record for a sleeping parent is woken through the main thread", () => {
  const control = controlPage(4096);
  const proxy = createFutexProxy();
  const host = new FutexProxyHost(proxy);
  const link = openParentLink(control, proxy);
  const record = { kind: MSG.RESULT, flags: 0, aux: 0, id: 1n, offset: 0, length: 0 };
  link.toParent.push(record);
  assertEquals(host.takeWakes(), 0, "an awake parent is not woken");

  new Int32Array(control)[(CONTROL.TO_PARENT + RING.CONSUMER_SLEEPING) / 4] = 1;
  link.toParent.push(record);
  assertEquals(host.takeWakes(), WAKE_BIT.TO_PARENT_TAIL);
  assertEquals(link.toParent.pending, 2);
});

Deno.test("parent link: only a whole control page is accepted", () => {
  assertThrows(
    () => openParentLink(new ArrayBuffer(64), createFutexProxy()),
    RangeError,
    "control page",
  );
});
