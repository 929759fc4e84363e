/**
 * Field-by-field checks of the small JSON objects the trusted side of a
 * stub reads (INIT, the sandbox record), written without a schema library:
 * these modules load in every stub's main thread, and what it does not load
 * costs neither start-up time nor memory. Each problem is named by its path
 * (`backend_options.deno_path: must be an absolute path`).
 *
 * @example
 * ```ts
 * import { FieldReader } from "./json_fields.ts";
 *
 * const fields = new FieldReader({ name: "m", count: "3" });
 * const name = fields.string("name", { nonEmpty: true });
 * const count = fields.string("count", { pattern: /^\d+$/, patternMessage: "must be a decimal" });
 * console.log(name, count, fields.problems); // "m" "3" []
 * ```
 *
 * @module
 */

/** What a string field must be. */
export interface StringRule {
  /** Refuse "" (message: "must not be empty"). */
  nonEmpty?: boolean;
  /** The whole value must match. */
  pattern?: RegExp;
  /** Said when `pattern` does not match. */
  patternMessage?: string;
  /** Absent is allowed (the result is then `undefined`). */
  optional?: boolean;
}

/** Reads the fields of one JSON object, collecting every problem. */
export class FieldReader {
  /** Problems found so far, as `path: message`. */
  readonly problems: string[];
  readonly #object: Record<string, unknown>;
  readonly #prefix: string;

  /**
   * @param value The parsed JSON; anything but an object is a problem.
   * @param prefix The object's own path (`backend_options.`), for messages.
   * @param problems Where problems go (shared with the parent object's reader).
   */
  constructor(value: unknown, prefix = "", problems: string[] = []) {
    this.problems = problems;
    this.#prefix = prefix;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      this.#object = value as Record<string, unknown>;
    } else {
      this.#object = {};
      const where = prefix === "" ? "(the whole object)" : prefix.slice(0, -1);
      problems.push(`${where}: ${value === undefined ? "Required" : "Expected object"}`);
    }
  }

  /** Names that are not among `known` (for strict objects). */
  unknownFields(known: readonly string[]): string[] {
    return Object.keys(this.#object).filter((name) => !known.includes(name));
  }

  /**
   * A string field. On a problem, records it and returns "".
   *
   * @param name The field.
   * @param rule What it must be.
   */
  string(name: string, rule?: StringRule & { optional?: false }): string;
  /**
   * An optional string field: `undefined` when absent.
   *
   * @param name The field.
   * @param rule What it must be when present.
   */
  string(name: string, rule: StringRule & { optional: true }): string | undefined;
  string(name: string, rule: StringRule = {}): string | undefined {
    const value = this.#object[name];
    const path = `${this.#prefix}${name}`;
    if (value === undefined) {
      if (rule.optional) return undefined;
      this.problems.push(`${path}: Required`);
      return "";
    }
    if (typeof value !== "string") {
      this.problems.push(`${path}: Expected string`);
      return "";
    }
    if (rule.nonEmpty && value === "") {
      this.problems.push(`${path}: must not be empty`);
    } else if (rule.pattern !== undefined && !rule.pattern.test(value)) {
      this.problems.push(`${path}: ${rule.patternMessage ?? `must match ${rule.pattern}`}`);
    }
    return value;
  }

  /** A nested object's reader (problems are collected into this one's). */
  object(name: string): FieldReader {
    return new FieldReader(this.#object[name], `${this.#prefix}${name}.`, this.problems);
  }
}
