/**
 * The one place a model's sandbox is decided. The parent runs it (through
 * sandbox/evaluate_main.ts, a short-lived trusted Deno process) once per
 * model load, before any stub exists, because it must apply part of the
 * answer before the stub's first instruction: the environment, the V8 heap
 * flag, the `--allow-*` flags of the stub's trusted thread (a Worker cannot
 * get more than its parent thread), and the rlimits. The stub receives the
 * same answer in its INIT arguments for its model's Worker. At backend
 * start the parent runs it once more, in `policy` mode, so a broken policy
 * file stops the backend instead of every model load.
 *
 * @example
 * ```ts ignore
 * import { evaluate } from "./evaluate.ts";
 *
 * const answer = await evaluate({ mode: "policy", policy: "{\"version\":1}", policy_path: "p.json" });
 * console.log(answer); // {"status":"ok"}
 * ```
 *
 * @module
 */

import { z } from "npm:zod@3.25.76";
import { type BackendDefaults, CeilingError, effectiveSandbox } from "./policy/effective.ts";
import {
  mergedImportMap,
  ModelImportsError,
  readModelImports,
  requireCached,
} from "./checks/model_imports.ts";
import { declaredSandboxOf, SandboxConfigError } from "./policy/model_parameters.ts";
import { ceilingFor, parsePolicy, type Policy, PolicyError } from "./policy/policy_file.ts";
import { normalizePath } from "./policy/rules.ts";
import { AutoCompleteError, checkAutoCompleted } from "./policy/auto_complete_check.ts";
import { encodeSandboxRecord } from "./policy/sandbox_record.ts";
import { schedulingOf } from "./policy/scheduling.ts";

const decimal = z.string().regex(/^(0|[1-9][0-9]{0,15})$/).transform(Number);

/** What the parent sends (all strings, like every JSON the C side writes). */
export const EvaluateRequestSchema = z.discriminatedUnion("mode", [
  z.object({
    mode: z.literal("policy"),
    policy_path: z.string(),
    policy: z.string(),
  }).strict(),
  z.object({
    mode: z.literal("model"),
    policy_path: z.string(),
    policy: z.string(),
    model_name: z.string().min(1),
    model_repository: z.string().startsWith("/"),
    model_config: z.string().min(1),
    runtime_dir: z.string().startsWith("/"),
    heap_mb: decimal,
    memory_mb: decimal,
    execute_timeout_ms: decimal,
    stream_idle_timeout_ms: decimal,
    max_output_bytes: decimal,
  }).strict(),
  z.object({
    mode: z.literal("auto_complete"),
    policy_path: z.string(),
    policy: z.string(),
    original_config: z.string().min(1),
    proposed_config: z.string().min(1),
  }).strict(),
]);

/** A validated request. */
export type EvaluateRequest = z.infer<typeof EvaluateRequestSchema>;

/** The error answer. */
function failure(message: string): string {
  return JSON.stringify({ status: "error", message });
}

function policyOf(request: { policy: string; policy_path: string }): Policy | undefined {
  return request.policy === "" ? undefined : parsePolicy(request.policy, request.policy_path);
}

/**
 * Answers one request.
 *
 * @param raw The request (unvalidated).
 * @returns The answer: a sandbox record (sandbox/policy/sandbox_record.ts), `{"status":"ok"}`
 * for a valid policy, or `{"status":"error","message":...}` for the model's
 * author or the operator to read.
 */
export async function evaluate(raw: unknown): Promise<string> {
  const request = EvaluateRequestSchema.safeParse(raw);
  if (!request.success) {
    const issue = request.error.issues[0];
    return failure(`invalid evaluation request: ${issue.path.join(".")}: ${issue.message}`);
  }
  const input = request.data;
  try {
    const policy = policyOf(input);
    if (input.mode === "policy") return JSON.stringify({ status: "ok" });
    if (input.mode === "auto_complete") {
      const config = checkAutoCompleted(input.original_config, input.proposed_config);
      return JSON.stringify({ status: "ok", model_config: config });
    }
    const modelDirectory = normalizePath(input.model_repository);
    const defaults: BackendDefaults = {
      heapMb: input.heap_mb,
      memoryMb: input.memory_mb,
      executeTimeoutMs: input.execute_timeout_ms,
      streamIdleTimeoutMs: input.stream_idle_timeout_ms,
      maxOutputBytes: input.max_output_bytes,
    };
    const sandbox = effectiveSandbox({
      modelDirectory,
      declared: declaredSandboxOf(input.model_config, modelDirectory),
      ceiling: ceilingFor(policy, input.model_name),
      defaults,
    });
    const imports = await readModelImports(modelDirectory);
    let importMap = "";
    if (imports !== undefined) {
      await requireCached(`${input.runtime_dir}/deno_dir`, imports, modelDirectory);
      importMap = await mergedImportMap(
        `${input.runtime_dir}/runtime/import_map.json`,
        modelDirectory,
        imports,
      );
    }
    return encodeSandboxRecord({ ...sandbox, importMap, ...schedulingOf(input.model_config) });
  } catch (error) {
    if (
      error instanceof PolicyError || error instanceof SandboxConfigError ||
      error instanceof CeilingError || error instanceof ModelImportsError ||
      error instanceof AutoCompleteError
    ) {
      return failure(error.message);
    }
    throw error;
  }
}
