/**
 * The INIT message's JSON (ffi/WIRE_FORMAT.md, "Payloads"), validated field
 * by field. The parent is trusted, but a mismatch between the two sides
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

import { z } from "npm:zod@3.25.76";

const absolutePath = z.string().min(1).refine((path) => path.startsWith("/"), {
  message: "must be an absolute path",
});
const decimal = z.string().regex(/^\d+$/, "must be a decimal integer string");

/** The schema of the INIT JSON; unknown keys are ignored (a newer parent may add some). */
export const InitArgsSchema = z.object({
  model_config: z.string().min(1, "must be the model configuration JSON"),
  model_name: z.string().min(1),
  model_version: decimal,
  model_repository: absolutePath,
  model_instance_name: z.string().min(1),
  model_instance_kind: z.string().min(1),
  model_instance_device_id: z.string().regex(/^-?\d+$/, "must be an integer string"),
  sandbox: z.string().min(1, "must be the sandbox record (sandbox/sandbox_record.ts)"),
  backend_options: z.object({
    deno_path: absolutePath,
    stub_library: absolutePath,
    runtime_dir: absolutePath,
    execute_timeout_ms: decimal,
    /** "1": the parent traces every hop (ffi/src/trace.h); the Worker sends TRACE records. */
    trace: z.literal("1").optional(),
  }),
  /** "1": run the model's autoCompleteConfig, answer CONFIG, wait for INSTANCE. */
  auto_complete: z.literal("1").optional(),
});

/** The validated INIT arguments. */
export type InitArgs = z.infer<typeof InitArgsSchema>;

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
  const result = InitArgsSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join(".") : "(the whole object)";
    return `${field}: ${issue.message}`;
  });
  throw new InitArgsError(`invalid INIT arguments: ${problems.join("; ")}`);
}
