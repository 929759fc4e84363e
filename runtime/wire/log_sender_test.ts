import { assertEquals } from "../api/_test_assert.ts";
import { LOG_QUEUE_LIMIT, LogSender } from "./log_sender.ts";
import { MAX_LOG_LENGTH, MSG } from "./layout.ts";
import type { WireRecord } from "./ring.ts";
import { StubArena } from "./stub_arena.ts";

function setup(room: number) {
  const arena = new ArrayBuffer(1 << 16);
  let done = 0;
  const stubArena = new StubArena({ arena, base: 1 << 15, size: 1 << 15, parentDone: () => done });
  const records: WireRecord[] = [];
  let published = 0;
  const ring = {
    tryPush(record: WireRecord): boolean {
      if (records.length >= room) return false;
      records.push(record);
      published++;
      return true;
    },
    get published() {
      return published;
    },
  };
  const text = (record: WireRecord) =>
    new TextDecoder().decode(new Uint8Array(arena, record.offset, record.length));
  const consume = () => {
    const taken = records.splice(0);
    done = published;
    return taken;
  };
  return {
    log: new LogSender(stubArena, ring),
    records,
    text,
    consume,
    setRoom: (n: number) => (room = n),
  };
}

Deno.test("log sender: a burst of lines goes out at once, each in its own block", () => {
  const { log, records, text } = setup(32);
  for (let i = 0; i < 10; i++) log.send(0, `line ${i}`);
  assertEquals(records.length, 10);
  assertEquals(records.map(text), Array.from({ length: 10 }, (_, i) => `line ${i}`));
  assertEquals(
    records.every((record) => record.kind === MSG.LOG && record.offset >= 1 << 15),
    true,
  );
  assertEquals(log.pending, 0);
});

Deno.test("log sender: a full ring queues, flush sends later, repeats and drops are counted", () => {
  const { log, records, text, consume, setRoom } = setup(1);
  log.send(1, "first");
  log.send(1, "again");
  log.send(1, "again");
  for (let i = 0; i < LOG_QUEUE_LIMIT + 5; i++) log.send(1, `extra ${i}`);
  assertEquals(records.length, 1);
  consume();
  setRoom(1000);
  log.flush();
  const sent = records.map(text);
  assertEquals(sent[0], "again (and 1 more time(s))");
  assertEquals(sent.length, LOG_QUEUE_LIMIT);
  assertEquals(
    sent.at(-1)?.endsWith("[6 more line(s) dropped: the stub's log queue was full]"),
    true,
  );
});

Deno.test("log sender: long lines are cut on a character boundary", () => {
  const { log, records, text } = setup(4);
  log.send(0, "é".repeat(MAX_LOG_LENGTH));
  assertEquals(text(records[0]), "é".repeat(MAX_LOG_LENGTH / 2));
});
