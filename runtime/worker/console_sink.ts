/**
 * Sends everything a model prints to Triton's log instead of the stub's
 * standard output and error, which are Triton's own: `console.*`,
 * `Deno.stdout`/`Deno.stderr` and `process.stdout`/`process.stderr` all
 * go to one sink, a line per call (node's streams write through the objects
 * that were `Deno.stdout` and `Deno.stderr`, which are redirected too). The stub passes each line to the parent
 * (a `LOG` record), which prefixes it with the model and instance and
 * rate-limits it, so a model that prints in a loop cannot flood the log or
 * Triton's terminal.
 *
 * @example
 * ```ts ignore
 * import { redirectOutput } from "./console_sink.ts";
 *
 * redirectOutput((level, text) => logSlot.send(level, text));
 * console.log("goes to Triton's log as INFO");
 * ```
 *
 * @module
 */

/** `TRITONSERVER_LogLevel` values the sink uses. */
export const SINK_LEVEL = { INFO: 0, WARN: 1, ERROR: 2 } as const;

/** Receives one line: a `TRITONSERVER_LogLevel` and the text. */
export type OutputSink = (level: number, text: string) => void;

const CONSOLE_LEVELS: Record<string, number> = {
  log: SINK_LEVEL.INFO,
  info: SINK_LEVEL.INFO,
  debug: SINK_LEVEL.INFO,
  trace: SINK_LEVEL.INFO,
  dir: SINK_LEVEL.INFO,
  dirxml: SINK_LEVEL.INFO,
  table: SINK_LEVEL.INFO,
  warn: SINK_LEVEL.WARN,
  error: SINK_LEVEL.ERROR,
};

/** Quiet counterparts of the console methods that print nothing by themselves. */
const CONSOLE_NO_OPS = [
  "group",
  "groupCollapsed",
  "groupEnd",
  "time",
  "timeLog",
  "timeEnd",
  "count",
  "countReset",
  "clear",
  "profile",
  "profileEnd",
  "timeStamp",
];

let redirected = false;

/**
 * Replaces the realm's output channels with `sink`. Idempotent.
 *
 * @param sink Where each printed line goes.
 */
export function redirectOutput(sink: OutputSink): void {
  if (redirected) return;
  redirected = true;
  // node's process.stdout and process.stderr, whenever the model loads
  // them, write through these objects (their `writeSync`): they are kept
  // and redirected below rather than node's `process` read here, which
  // would load Deno's Node compatibility layer on every start.
  const stdout: object = Deno.stdout;
  const stderr: object = Deno.stderr;
  const inspect = Deno.inspect;
  const decoder = new TextDecoder();
  const join = (args: unknown[]): string => {
    let text = "";
    for (let i = 0; i < args.length; i++) {
      const value = args[i];
      text += (i > 0 ? " " : "") + (typeof value === "string" ? value : inspect(value));
    }
    return text;
  };
  const emit = (level: number, text: string) => {
    try {
      sink(level, text.endsWith("\n") ? text.slice(0, -1) : text);
    } catch {
      // Printing never fails the model.
    }
  };
  const quietConsole: Record<string, unknown> = {};
  for (const [name, level] of Object.entries(CONSOLE_LEVELS)) {
    quietConsole[name] = (...args: unknown[]) => emit(level, join(args));
  }
  quietConsole.assert = (condition: unknown, ...args: unknown[]) => {
    if (!condition) {
      emit(SINK_LEVEL.ERROR, `Assertion failed${args.length ? `: ${join(args)}` : ""}`);
    }
  };
  for (const name of CONSOLE_NO_OPS) quietConsole[name] = () => {};
  // Not frozen: node's process, once loaded, adds its stream getters to
  // the console it finds (this one); its methods cannot be replaced.
  for (const name of Object.keys(quietConsole)) {
    Object.defineProperty(quietConsole, name, { writable: false, configurable: false });
  }
  Object.defineProperty(globalThis, "console", {
    value: quietConsole,
    writable: false,
    configurable: false,
    enumerable: false,
  });

  const stream = (level: number) => {
    const text = (chunk: unknown): string =>
      typeof chunk === "string"
        ? chunk
        : chunk instanceof Uint8Array
        ? decoder.decode(chunk)
        : String(chunk);
    // Made on first use: the first WritableStream of a realm costs about
    // 2 ms (Deno loads its streams then), on every stub start otherwise.
    let writable: WritableStream<Uint8Array> | undefined;
    return Object.freeze({
      write: (chunk: Uint8Array): Promise<number> => {
        emit(level, text(chunk));
        return Promise.resolve(chunk.byteLength);
      },
      writeSync: (chunk: Uint8Array): number => {
        emit(level, text(chunk));
        return chunk.byteLength;
      },
      get writable(): WritableStream<Uint8Array> {
        writable ??= new WritableStream<Uint8Array>({ write: (chunk) => emit(level, text(chunk)) });
        return writable;
      },
      isTerminal: () => false,
      close: () => {},
      [Symbol.dispose]: () => {},
    });
  };
  const out = stream(SINK_LEVEL.INFO);
  const err = stream(SINK_LEVEL.ERROR);
  for (const [key, value] of [["stdout", out], ["stderr", err]] as const) {
    Object.defineProperty(Deno, key, {
      value,
      writable: false,
      configurable: false,
      enumerable: true,
    });
  }
  for (const [target, value] of [[stdout, out], [stderr, err]] as const) {
    for (const key of ["write", "writeSync", "close"] as const) {
      Object.defineProperty(target, key, {
        value: value[key],
        writable: false,
        configurable: false,
        enumerable: false,
      });
    }
    Object.defineProperty(target, "writable", {
      get: () => value.writable,
      configurable: false,
      enumerable: false,
    });
  }
}
