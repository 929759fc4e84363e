import { assert, assertEquals } from "./_test_assert.ts";
import { ResponseChannel } from "./response_channel.ts";
import type { InferResult } from "./types.ts";

const result = (message: string): InferResult => ({ ok: false, code: 0, message });

Deno.test("response_channel: buffered and awaited responses come out in order, then it ends", async () => {
  const channel = new ResponseChannel();
  channel.push(result("a"));
  const reading = (async () => {
    const seen: string[] = [];
    for await (const item of channel) seen.push(item.ok ? "" : item.message);
    return seen;
  })();
  await new Promise((resolve) => setTimeout(resolve, 0));
  channel.push(result("b"));
  channel.end();
  channel.push(result("ignored after end"));
  channel.end();
  assertEquals(await reading, ["a", "b"]);
  assert(channel.ended);
  assertEquals(await channel.next(), undefined);
});

Deno.test("response_channel: cancel runs the listeners once, late listeners at once", () => {
  const channel = new ResponseChannel();
  let calls = 0;
  channel.onCancel(() => calls++);
  assert(!channel.cancelled);
  channel.cancel();
  channel.cancel();
  assertEquals(calls, 1);
  channel.onCancel(() => calls++);
  assertEquals(calls, 2);
  assert(channel.cancelled);
});
