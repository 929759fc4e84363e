/**
 * The INIT message's JSON (ffi/WIRE_FORMAT.md, "Payloads"), validated field
 * by field (explicitly: the stub's main thread loads no schema library). The parent is trusted, but a mismatch between the two sides
 * should fail the load with the field's name, not with an undefined deep
 * inside the runtime.
 *
 * @example
 * ```ts ignore
 * import { parseInitArgs } from "./init_args.ts";
 *
 * const init = parseInitArgs(jsonText);
 * console.log(init.backend_options.deno_path);
 * ```
 *
 * @module
 */

import { FieldReader } from "../wire/json_fields.ts";

/** The validated INIT arguments; unknown keys are ignored (a newer parent may add some). */
export interface InitArgs {
  /** Triton's model configuration JSON. */
  model_config: string;
  /** The model's name. */
  model_name: string;
  /** The version, a decimal integer. */
  model_version: string;
  /** The model's directory (absolute). */
  model_repository: string;
  /** The instance's name. */
  model_instance_name: string;
  /** `CPU`, `GPU`, `MODEL` or `AUTO`. */
  model_instance_kind: string;
  /** The device id, an integer. */
  model_instance_device_id: string;
  /** The sandbox record (sandbox/policy/sandbox_record.ts), as text. */
  sandbox: string;
  /** The backend's options the stub needs. */
  backend_options: {
    /** The Deno binary (absolute). */
    deno_path: string;
    /** The stub's helper library (absolute). */
    stub_library: string;
    /** The backend directory (absolute). */
    runtime_dir: string;
    /** The model's execute deadline, a decimal integer. */
    execute_timeout_ms: string;
    /** "1": the parent traces every hop (ffi/src/trace.h); the Worker sends TRACE records. */
    trace?: "1";
  };
  /** "1": run the model's autoCompleteConfig, answer CONFIG, wait for INSTANCE. */
  auto_complete?: "1";
}

const ABSOLUTE = { pattern: /^\//, patternMessage: "must be an absolute path" };
const DECIMAL = { pattern: /^\d+$/, patternMessage: "must be a decimal integer string" };
const NON_EMPTY = { nonEmpty: true };

/** The INIT JSON is malformed; the message names the field. */
export class InitArgsError extends Error {
  /** @param message What is wrong, naming the field. */
  constructor(message: string) {
    super(message);
    this.name = "InitArgsError";
  }
}

/**
 * Parses and validates the INIT JSON.
 *
 * @param text The UTF-8-decoded payload.
 * @returns The arguments.
 * @throws {InitArgsError} Naming each invalid field.
 */
export function parseInitArgs(text: string): InitArgs {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new InitArgsError(
      `INIT arguments are not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const fields = new FieldReader(json);
  const options = fields.object("backend_options");
  const args: InitArgs = {
    model_config: fields.string("model_config", NON_EMPTY),
    model_name: fields.string("model_name", NON_EMPTY),
    model_version: fields.string("model_version", DECIMAL),
    model_repository: fields.string("model_repository", { ...NON_EMPTY, ...ABSOLUTE }),
    model_instance_name: fields.string("model_instance_name", NON_EMPTY),
    model_instance_kind: fields.string("model_instance_kind", NON_EMPTY),
    model_instance_device_id: fields.string("model_instance_device_id", {
      pattern: /^-?\d+$/,
      patternMessage: "must be an integer string",
    }),
    sandbox: fields.string("sandbox", NON_EMPTY),
    backend_options: {
      deno_path: options.string("deno_path", { ...NON_EMPTY, ...ABSOLUTE }),
      stub_library: options.string("stub_library", { ...NON_EMPTY, ...ABSOLUTE }),
      runtime_dir: options.string("runtime_dir", { ...NON_EMPTY, ...ABSOLUTE }),
      execute_timeout_ms: options.string("execute_timeout_ms", DECIMAL),
    },
  };
  const autoComplete = fields.string("auto_complete", {
    optional: true,
    pattern: /^1$/,
    patternMessage: 'must be "1" when present',
  });
  if (autoComplete === "1") args.auto_complete = "1";
  const trace = options.string("trace", {
    optional: true,
    pattern: /^1$/,
    patternMessage: 'must be "1" when present',
  });
  if (trace === "1") args.backend_options.trace = "1";
  if (fields.problems.length === 0) return args;
  throw new InitArgsError(`invalid INIT arguments: ${fields.problems.join("; ")}`);
}
