/**
 * The operator's ceiling: the policy file named by
 * `--backend-config=deno,policy=/path/policy.json`. It says the most any
 * model may get, optionally per model-name pattern:
 *
 * ```json
 * {
 *   "version": 1,
 *   "default": { "allow_read": ["/srv/shared"], "max_heap_mb": 512 },
 *   "models": [
 *     { "match": "vision_*", "allow_net": ["api.internal:8080"], "allow_gpu": true }
 *   ]
 * }
 * ```
 *
 * The first entry of `models` whose `match` glob (`*`, `?`, `[abc]`,
 * `[!a-z]`) matches the whole model name applies; the fields it leaves out
 * come from `default`, and what `default` leaves out from the built-in
 * ceiling (read the model's own directory, nothing else; no other model to
 * call or control; limits at the backend's defaults). With no policy file
 * at all, the built-in ceiling applies to every model, and it lets a model
 * declare calls to, and control of, any model.
 *
 * @example
 * ```ts
 * import { ceilingFor, parsePolicy } from "./policy_file.ts";
 *
 * const policy = parsePolicy('{"version":1,"default":{"allow_env":["TOKEN"]}}', "policy.json");
 * console.log(ceilingFor(policy, "add_sub").env); // ["TOKEN"]
 * ```
 *
 * @module
 */

import { z } from "npm:zod@3.25.76";
import { LIMIT_BOUNDS, type LimitName } from "./model_parameters.ts";
import {
  envNameProblem,
  modelPatternProblem,
  NET_ENTRY_FORM,
  type NetEntry,
  normalizePath,
  parseNetEntry,
  pathProblem,
  SYS_NAMES,
} from "./rules.ts";

/** The policy file is unreadable or invalid; the message names the file and the field. */
export class PolicyError extends Error {
  /** @param message What is wrong, naming the file and the field. */
  constructor(message: string) {
    super(message);
    this.name = "PolicyError";
  }
}

const absoluteRoot = z.string().superRefine((value, context) => {
  const problem = pathProblem(value) ??
    (value.startsWith("/") ? undefined : "a relative path (roots must be absolute)");
  if (problem !== undefined) {
    context.addIssue({
      code: z.ZodIssueCode.custom,
      message: `${JSON.stringify(value)} is ${problem}`,
    });
  }
}).transform(normalizePath);

const netEntry = z.string().transform((value, context) => {
  const entry = parseNetEntry(value);
  if (entry === undefined) {
    context.addIssue({
      code: z.ZodIssueCode.custom,
      message: `${JSON.stringify(value)} is not ${NET_ENTRY_FORM}`,
    });
    return z.NEVER;
  }
  return entry;
});

const envName = z.string().superRefine((value, context) => {
  const problem = envNameProblem(value);
  if (problem !== undefined) {
    context.addIssue({
      code: z.ZodIssueCode.custom,
      message: `${JSON.stringify(value)}: ${problem}`,
    });
  }
});

const sysName = z.string().refine((value) => SYS_NAMES.includes(value), {
  message: `expected one of ${SYS_NAMES.join(", ")}`,
});

const modelPattern = z.string().superRefine((value, context) => {
  const problem = modelPatternProblem(value);
  if (problem !== undefined) {
    context.addIssue({
      code: z.ZodIssueCode.custom,
      message: `${JSON.stringify(value)} is ${problem}`,
    });
  }
});

function limit(name: LimitName) {
  const { min, max } = LIMIT_BOUNDS[name];
  return z.number().int().min(min).max(max);
}

const CeilingFields = {
  allow_read: z.array(absoluteRoot).optional(),
  allow_write: z.array(absoluteRoot).optional(),
  allow_net: z.array(netEntry).optional(),
  allow_env: z.array(envName).optional(),
  allow_sys: z.array(sysName).optional(),
  allow_gpu: z.boolean().optional(),
  allow_models: z.array(modelPattern).optional(),
  allow_model_control: z.array(modelPattern).optional(),
  max_heap_mb: limit("max_heap_mb").optional(),
  max_memory_mb: limit("max_memory_mb").optional(),
  execute_timeout_ms: limit("execute_timeout_ms").optional(),
  stream_idle_timeout_ms: limit("stream_idle_timeout_ms").optional(),
  max_output_bytes: limit("max_output_bytes").optional(),
};

const CeilingSchema = z.object(CeilingFields).strict();
const RuleSchema = z.object({ match: z.string().min(1).max(256), ...CeilingFields }).strict();

/** The schema of the policy file. */
export const PolicySchema = z.object({
  version: z.literal(1),
  default: CeilingSchema.optional(),
  models: z.array(RuleSchema).max(1000).optional(),
}).strict();

type CeilingInput = z.infer<typeof CeilingSchema>;

/** A parsed policy, with its file name for messages. */
export interface Policy {
  /** Where it came from. */
  readonly source: string;
  /** The validated contents. */
  readonly contents: z.infer<typeof PolicySchema>;
}

/**
 * The most one model may get. Lists are allowances (read/write roots, hosts,
 * names); an undefined limit means "the backend's default is the most".
 */
export interface Ceiling {
  /** Read roots besides the model directory (always readable). */
  readonly read: readonly string[];
  /** Write roots. */
  readonly write: readonly string[];
  /** Hosts. */
  readonly net: readonly NetEntry[];
  /** Environment variable names. */
  readonly env: readonly string[];
  /** System information names. */
  readonly sys: readonly string[];
  /** WebGPU. */
  readonly gpu: boolean;
  /** Model patterns a model may declare calling. */
  readonly models: readonly string[];
  /** Model patterns a model may declare loading and unloading. */
  readonly modelControl: readonly string[];
  /** Per-limit maxima; absent: the backend default. */
  readonly limits: Readonly<Partial<Record<LimitName, number>>>;
  /** Where this ceiling comes from, for messages ("no policy", "policy.json, models[2] (vision_*)"). */
  readonly origin: string;
}

/**
 * The ceiling when there is no policy: the model's own directory, nothing
 * else, except that a model may declare calling and controlling any model
 * (one server, one owner: a policy file is what separates tenants).
 */
export const BUILT_IN_CEILING: Ceiling = Object.freeze({
  read: [],
  write: [],
  net: [],
  env: [],
  sys: [],
  gpu: false,
  models: ["*"],
  modelControl: ["*"],
  limits: {},
  origin: "no policy file: only the model's own directory may be read",
});

/**
 * Parses and validates a policy file's text.
 *
 * @param text The file's contents.
 * @param source The file's path, for messages.
 * @returns The policy.
 * @throws {PolicyError} Naming the file and the first invalid field.
 */
export function parsePolicy(text: string, source: string): Policy {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PolicyError(
      `policy file ${source} is not JSON: ${error instanceof Error ? error.message : error}`,
    );
  }
  const parsed = PolicySchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.slice(0, 5).map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join(".") : "(the whole file)";
      return `${where}: ${issue.message}`;
    });
    throw new PolicyError(`policy file ${source} is invalid: ${problems.join("; ")}`);
  }
  for (const [index, rule] of (parsed.data.models ?? []).entries()) {
    try {
      globToRegExp(rule.match);
    } catch (error) {
      throw new PolicyError(
        `policy file ${source} is invalid: models.${index}.match: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
  }
  return { source, contents: parsed.data };
}

/**
 * Turns a glob into an anchored regular expression: `*` any run of
 * characters, `?` one character, `[...]` a class (`[!...]` negated); every
 * other character stands for itself.
 *
 * @param glob The pattern.
 * @returns The expression.
 * @throws {SyntaxError} On an unterminated class.
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) throw new SyntaxError(`unterminated [ in the pattern ${JSON.stringify(glob)}`);
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith("!");
      if (negated) body = body.slice(1);
      source += `[${negated ? "^" : ""}${body.replace(/[\\\]\[^]/g, "\\$&")}]`;
      i = end;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

function merge(
  base: Ceiling,
  layer: CeilingInput | undefined,
  origin: string,
): Ceiling {
  if (layer === undefined) return base;
  const limits: Partial<Record<LimitName, number>> = { ...base.limits };
  for (const name of Object.keys(LIMIT_BOUNDS) as LimitName[]) {
    if (layer[name] !== undefined) limits[name] = layer[name];
  }
  return {
    read: layer.allow_read ?? base.read,
    write: layer.allow_write ?? base.write,
    net: layer.allow_net ?? base.net,
    env: layer.allow_env ?? base.env,
    sys: layer.allow_sys ?? base.sys,
    gpu: layer.allow_gpu ?? base.gpu,
    models: layer.allow_models ?? base.models,
    modelControl: layer.allow_model_control ?? base.modelControl,
    limits,
    origin,
  };
}

/**
 * The ceiling for one model: the first matching `models` rule over
 * `default` over the built-in ceiling.
 *
 * @param policy The parsed policy, or undefined when there is none.
 * @param modelName The model's name.
 * @returns The ceiling, with its origin for messages.
 */
export function ceilingFor(policy: Policy | undefined, modelName: string): Ceiling {
  if (policy === undefined) return BUILT_IN_CEILING;
  const { contents, source } = policy;
  // With a policy file, calling or controlling other models is allowed
  // only where the file says so.
  const base: Ceiling = { ...BUILT_IN_CEILING, models: [], modelControl: [] };
  const withDefault = merge(base, contents.default, `policy ${source}, "default"`);
  const rules = contents.models ?? [];
  const index = rules.findIndex((rule) => globToRegExp(rule.match).test(modelName));
  if (index < 0) {
    return contents.default === undefined
      ? { ...base, origin: `policy ${source} (no rule matches this model)` }
      : withDefault;
  }
  const { match, ...fields } = rules[index];
  return merge(
    withDefault,
    fields,
    `policy ${source}, models[${index}] (match ${JSON.stringify(match)})`,
  );
}
