import { assertEquals } from "./_test_assert.ts";
import { drainWithin, OpenStreams } from "./open_streams.ts";
import { ResponseChannel } from "./response_channel.ts";

function never(): Promise<void> {
  return new Promise(() => {});
}

Deno.test("open streams: a channel counts until its producer ends it", () => {
  const streams = new OpenStreams();
  const first = new ResponseChannel();
  const second = new ResponseChannel();
  streams.track(first);
  streams.track(second);
  assertEquals(streams.size, 2);
  first.end();
  assertEquals(streams.size, 1);
  assertEquals(streams.cancelAll(), 1);
  assertEquals([first.cancelled, second.cancelled], [false, true]);
});

Deno.test("open streams: a drain that finishes in time cancels nothing", async () => {
  const streams = new OpenStreams();
  const channel = new ResponseChannel();
  streams.track(channel);
  const lines: string[] = [];
  const done = drainWithin(Promise.resolve(), streams, {
    timeoutMs: 1000,
    graceMs: 1000,
    log: (line) => lines.push(line),
  });
  assertEquals(await done, true);
  assertEquals([channel.cancelled, lines], [false, []]);
});

Deno.test("open streams: past the timeout the open streams are cancelled, and the drain ends when they do", async () => {
  const streams = new OpenStreams();
  const channel = new ResponseChannel();
  streams.track(channel);
  const { promise: drained, resolve } = Promise.withResolvers<void>();
  // The model closes its stream once cancelled; then the HTTP server drains.
  channel.onCancel(() => {
    channel.end();
    resolve();
  });
  const lines: string[] = [];
  assertEquals(
    await drainWithin(drained, streams, {
      timeoutMs: 20,
      graceMs: 5000,
      log: (line) => lines.push(line),
    }),
    true,
  );
  assertEquals(channel.cancelled, true);
  assertEquals(lines, ["requests still in flight after 0.02 s; cancelled 1 open stream(s)"]);
});

Deno.test("open streams: a drain that never finishes gives up after the grace", async () => {
  const lines: string[] = [];
  const done = await drainWithin(never(), new OpenStreams(), {
    timeoutMs: 10,
    graceMs: 10,
    log: (line) => lines.push(line),
  });
  assertEquals(done, false);
  assertEquals(lines.length, 2);
});
