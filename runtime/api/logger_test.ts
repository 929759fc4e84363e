import { assertEquals, assertStringIncludes, assertThrows } from "./_test_assert.ts";
import { ErrorCode, TritonError } from "./error.ts";
import { droppedLogLines, logger, LogLevel, PENDING_LOG_LINES, setLogSink } from "./logger.ts";

type Line = [LogLevel, string];

// The logger is one per Worker: each test disconnects it when done.
function collect(): { lines: Line[]; sink: (level: LogLevel, message: string) => void } {
  const lines: Line[] = [];
  return { lines, sink: (level, message) => lines.push([level, message]) };
}

Deno.test("levels carry TRITONSERVER_LogLevel values", () => {
  assertEquals(
    [LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR, LogLevel.VERBOSE],
    [0, 1, 2, 3],
  );
});

Deno.test("each method writes its level to the sink", () => {
  const { lines, sink } = collect();
  setLogSink(sink);
  try {
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    logger.verbose("v");
  } finally {
    setLogSink(undefined);
  }
  assertEquals(lines, [[0, "i"], [1, "w"], [2, "e"], [3, "v"]]);
});

Deno.test("non-string messages are String()-ed, even hostile ones", () => {
  const { lines, sink } = collect();
  setLogSink(sink);
  try {
    logger.info(42 as unknown as string);
    logger.info({ toString: () => "custom" } as unknown as string);
    logger.info(Symbol("s") as unknown as string);
    logger.info(
      {
        toString() {
          throw new Error("no");
        },
      } as unknown as string,
    );
    logger.info(null as unknown as string);
  } finally {
    setLogSink(undefined);
  }
  assertEquals(lines.map(([, message]) => message), [
    "42",
    "custom",
    "Symbol(s)",
    "an object that is not one of this API's classes",
    "null",
  ]);
});

Deno.test("lines before the sink is set are kept (32), then counted and reported", () => {
  setLogSink(undefined);
  for (let i = 0; i < PENDING_LOG_LINES + 5; i++) logger.warn(`early ${i}`);
  assertEquals(droppedLogLines(), 5);
  const { lines, sink } = collect();
  setLogSink(sink);
  setLogSink(undefined);
  assertEquals(lines.length, PENDING_LOG_LINES + 1);
  assertEquals(lines[0], [LogLevel.WARN, "early 0"]);
  assertEquals(lines[PENDING_LOG_LINES - 1], [LogLevel.WARN, `early ${PENDING_LOG_LINES - 1}`]);
  assertEquals(lines[PENDING_LOG_LINES], [
    LogLevel.WARN,
    "5 model log lines were dropped (more than 32 written before the log was connected, " +
    "or the log failed)",
  ]);
  assertEquals(droppedLogLines(), 0);
});

Deno.test("a failing sink does not break the caller; the failure is counted", () => {
  setLogSink(() => {
    throw new Error("log pipe closed");
  });
  logger.error("lost");
  assertEquals(droppedLogLines(), 1);
  const { lines, sink } = collect();
  setLogSink(sink);
  setLogSink(undefined);
  assertEquals(lines, [[LogLevel.WARN, lines[0][1]]]);
  assertEquals(lines[0][1].startsWith("1 model log line was dropped"), true);
});

Deno.test("after disconnecting, lines are kept again", () => {
  setLogSink(undefined);
  logger.info("while away");
  const { lines, sink } = collect();
  setLogSink(sink);
  logger.info("connected");
  setLogSink(undefined);
  assertEquals(lines, [[0, "while away"], [0, "connected"]]);
});

Deno.test("log(message, level) writes at that level, INFO by default", () => {
  const { lines, sink } = collect();
  setLogSink(sink);
  try {
    logger.log("default");
    logger.log("warned", LogLevel.WARN);
    logger.log("failed", LogLevel.ERROR);
    logger.log("detail", LogLevel.VERBOSE);
    logger.log("info", LogLevel.INFO);
  } finally {
    setLogSink(undefined);
  }
  assertEquals(lines, [[0, "default"], [1, "warned"], [2, "failed"], [3, "detail"], [0, "info"]]);
});

Deno.test("log() refuses a level that is not a LogLevel, naming it", () => {
  const { lines, sink } = collect();
  setLogSink(sink);
  try {
    for (const level of [4, -1, 1.5, "WARN", null]) {
      const error = assertThrows(
        () => logger.log("x", level as unknown as LogLevel),
        TritonError,
      );
      assertEquals(error.code, ErrorCode.INVALID_ARG);
      assertStringIncludes(error.message, "level must be LogLevel.INFO (0)");
    }
  } finally {
    setLogSink(undefined);
  }
  assertEquals(lines, []);
});
