/**
 * A reader of the subset of Dockerfile syntax the repository's Dockerfile
 * uses, for tests that check it without building it: global `ARG`s, stages
 * (`FROM image AS name`), and each stage's instructions with continuation
 * lines joined and comments dropped; `${NAME}` and `$NAME` expansion.
 *
 * @example
 * ```ts
 * import { expand, parseDockerfile } from "./dockerfile.ts";
 *
 * const file = parseDockerfile("ARG V=1\nFROM base:${V} AS build\nRUN make \\\n  install\n");
 * console.log(expand(file.stages[0].from, file.globalArgs)); // "base:1"
 * console.log(file.stages[0].instructions[0].args); // "make install"
 * ```
 *
 * @module
 */

/** One instruction: its keyword (upper case), its arguments, its first line. */
export interface Instruction {
  /** `RUN`, `COPY`, ... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with one space. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

/** A build stage. */
export interface Stage {
  /** The image it starts from, unexpanded. */
  from: string;
  /** Its name (`AS name`), if any. */
  name?: string;
  /** Its instructions after `FROM`. */
  instructions: Instruction[];
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  /** `ARG`s before the first `FROM`, with their defaults. */
  globalArgs: Map<string, string>;
  /** The stages in order; the last one is the default target. */
  stages: Stage[];
}

/** Thrown for syntax this reader does not know. */
export class DockerfileError extends Error {
  /** @param message What and where. */
  constructor(message: string) {
    super(message);
    this.name = "DockerfileError";
  }
}

/** Joins continuation lines and drops comments and blank lines. */
function instructions(text: string): Instruction[] {
  const result: Instruction[] = [];
  let current: Instruction | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const continued = line.endsWith("\\");
    const body = continued ? line.slice(0, -1).trim() : line;
    if (current === undefined) {
      const match = /^([A-Za-z]+)\s*(.*)$/.exec(body);
      if (match === null) throw new DockerfileError(`line ${index + 1}: no instruction`);
      current = { keyword: match[1].toUpperCase(), args: match[2], line: index + 1 };
    } else {
      current.args = `${current.args} ${body}`.trim();
    }
    if (!continued) {
      result.push(current);
      current = undefined;
    }
  });
  if (current !== undefined) {
    throw new DockerfileError(`line ${current.line}: the last instruction never ends`);
  }
  return result;
}

/**
 * Parses a Dockerfile's text.
 *
 * @throws {DockerfileError} On a line that is not an instruction, or an
 * instruction before the first `FROM` other than `ARG`.
 */
export function parseDockerfile(text: string): Dockerfile {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of instructions(text)) {
    if (instruction.keyword === "FROM") {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args);
      if (match === null) {
        throw new DockerfileError(`line ${instruction.line}: FROM ${instruction.args}`);
      }
      stages.push({ from: match[1], name: match[2], instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword !== "ARG") {
        throw new DockerfileError(
          `line ${instruction.line}: ${instruction.keyword} before the first FROM`,
        );
      }
      const [name, value = ""] = splitArg(instruction.args);
      globalArgs.set(name, expand(value, globalArgs));
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

/** `NAME=value` or `NAME` of an `ARG`. */
export function splitArg(args: string): [string, string | undefined] {
  const equals = args.indexOf("=");
  return equals < 0 ? [args.trim(), undefined] : [args.slice(0, equals), args.slice(equals + 1)];
}

/** Expands `${NAME}` and `$NAME`; an unknown name is an error. */
export function expand(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (_, a, b) => {
    const name = a ?? b;
    const value = values.get(name);
    if (value === undefined) throw new DockerfileError(`$${name} is not defined`);
    return value;
  });
}

/** A `COPY`'s flags, sources and destination. */
export interface CopySpec {
  /** `--from=<stage>`, if any. */
  from?: string;
  /** Source paths. */
  sources: string[];
  /** Destination. */
  destination: string;
}

/** Splits a `COPY` instruction's arguments (shell form only). */
export function parseCopy(args: string): CopySpec {
  const words = args.split(/\s+/).filter((word) => word !== "");
  let from: string | undefined;
  while (words.length > 0 && words[0].startsWith("--")) {
    const flag = words.shift()!;
    if (flag.startsWith("--from=")) from = flag.slice(7);
  }
  if (words.length < 2) throw new DockerfileError(`COPY ${args}: needs a source and a destination`);
  return { from, sources: words.slice(0, -1), destination: words[words.length - 1] };
}
