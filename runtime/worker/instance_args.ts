/**
 * The `INSTANCE` payload an auto-completing stub receives after `CONFIG`
 * (ffi/src/init_args.c, `tdn_instance_args_build`), checked field by field.
 * Written without a schema library: the Worker loads this module with every
 * model, and loading less is what keeps a stub light.
 *
 * @example
 * ```ts
 * import { parseInstanceArgs } from "./instance_args.ts";
 *
 * const args = parseInstanceArgs(
 *   '{"model_config":"{}","model_instance_name":"m_0","model_instance_kind":"CPU","model_instance_device_id":"0"}',
 * );
 * console.log(args.model_instance_name); // "m_0"
 * ```
 *
 * @module
 */

/** The fields of `INSTANCE`, all strings. */
export interface InstanceArgs {
  /** Triton's completed model configuration (JSON text). */
  model_config: string;
  /** The instance's name. */
  model_instance_name: string;
  /** `CPU`, `GPU`, `MODEL` or `AUTO`. */
  model_instance_kind: string;
  /** The device id, a decimal integer. */
  model_instance_device_id: string;
}

const FIELDS = [
  "model_config",
  "model_instance_name",
  "model_instance_kind",
  "model_instance_device_id",
] as const;

/**
 * Parses and checks the `INSTANCE` JSON: exactly the four fields, each a
 * non-empty string, the device id a decimal integer.
 *
 * @param text The payload.
 * @returns The fields.
 * @throws {Error} Naming the field at fault (or the JSON error).
 */
export function parseInstanceArgs(text: string): InstanceArgs {
  const raw: unknown = JSON.parse(text);
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new Error("INSTANCE arguments must be a JSON object");
  }
  const fields = raw as Record<string, unknown>;
  const extra = Object.keys(fields).find((name) => !(FIELDS as readonly string[]).includes(name));
  if (extra !== undefined) throw new Error(`INSTANCE arguments: unknown field '${extra}'`);
  for (const name of FIELDS) {
    const value = fields[name];
    if (typeof value !== "string" || value === "") {
      throw new Error(`INSTANCE arguments: '${name}' must be a non-empty string`);
    }
  }
  if (!/^-?\d+$/.test(fields.model_instance_device_id as string)) {
    throw new Error("INSTANCE arguments: 'model_instance_device_id' must be a decimal integer");
  }
  return fields as unknown as InstanceArgs;
}
