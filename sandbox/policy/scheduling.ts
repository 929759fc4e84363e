/**
 * How the parent schedules a model's batches, read from its configuration
 * by the trusted evaluator and carried to the parent in the sandbox record
 * (the C side does not parse Triton's JSON):
 *
 * - `decoupled`: `model_transaction_policy { decoupled: true }`: responses go
 *   through per-request senders, any number of them, until FINAL;
 * - `maxBatchesInFlight`: parameter `deno.max_batches_in_flight` (1 to 64,
 *   default 1): how many batches of the model may have an `execute()` still
 *   running on one instance. Triton's `execute` call returns as soon as
 *   fewer are running (for a model that is not decoupled, each batch is then
 *   answered when its `execute()` settles);
 * - `maxBatchSize`: `max_batch_size` (0: the model does not batch): with it,
 *   a batch's size for Triton's statistics is the sum of its requests' first
 *   dimensions, and no request may be larger.
 *
 * @example
 * ```ts
 * import { schedulingOf } from "./scheduling.ts";
 *
 * const config = JSON.stringify({
 *   model_transaction_policy: { decoupled: true },
 *   parameters: { "deno.max_batches_in_flight": { string_value: "4" } },
 * });
 * console.log(schedulingOf(config)); // { decoupled: true, maxBatchesInFlight: 4, maxBatchSize: 0 }
 * ```
 *
 * @module
 */

import { z } from "npm:zod@3.25.76";

/** See the module documentation. */
export interface Scheduling {
  /** Responses through senders, any number per request. */
  readonly decoupled: boolean;
  /** Batches whose `execute()` may run at once on one instance. */
  readonly maxBatchesInFlight: number;
  /** `max_batch_size`: 0 when the model does not batch. */
  readonly maxBatchSize: number;
}

const Config = z.object({
  max_batch_size: z.number().int().min(0).max(0x7fff_ffff).optional(),
  model_transaction_policy: z.object({ decoupled: z.boolean().optional() }).passthrough()
    .optional(),
  parameters: z.record(z.string(), z.object({ string_value: z.string() }).passthrough())
    .optional(),
}).passthrough();

/**
 * Reads the scheduling of a model from Triton's configuration JSON. The
 * parameter's value was validated with the other `deno.*` keys
 * (model_parameters.ts); anything unreadable here means the default.
 *
 * @param configJson Triton's model configuration, serialized.
 * @returns The scheduling.
 */
export function schedulingOf(configJson: string): Scheduling {
  const parsed = Config.safeParse(JSON.parse(configJson));
  if (!parsed.success) return { decoupled: false, maxBatchesInFlight: 1, maxBatchSize: 0 };
  const decoupled = parsed.data.model_transaction_policy?.decoupled === true;
  const raw = parsed.data.parameters?.["deno.max_batches_in_flight"]?.string_value;
  const wanted = raw === undefined ? 1 : Number(raw);
  const inFlight = Number.isInteger(wanted) && wanted >= 1 && wanted <= 64 ? wanted : 1;
  return {
    decoupled,
    maxBatchesInFlight: inFlight,
    maxBatchSize: parsed.data.max_batch_size ?? 0,
  };
}
