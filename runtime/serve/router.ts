/**
 * Maps request paths to Triton's HTTP/REST endpoints, with the same patterns
 * Triton's HTTP frontend uses (server, model — including the generate
 * extension's `generate` and `generate_stream` — and repository), plus
 * `/metrics`, which Triton serves on its own metrics port.
 *
 * @module
 */

/** An endpoint and the names and numbers its path carries. */
export type Route =
  | { readonly kind: "server_metadata" }
  | { readonly kind: "health"; readonly which: "live" | "ready" }
  | {
    readonly kind: "model";
    readonly action: ModelAction;
    readonly model: string;
    readonly version: number | undefined;
  }
  | { readonly kind: "all_stats" }
  | { readonly kind: "metrics" }
  | { readonly kind: "repository_index"; readonly repository: string | undefined }
  | {
    readonly kind: "repository_control";
    readonly action: "load" | "unload";
    readonly model: string;
    readonly repository: string | undefined;
  }
  | { readonly kind: "logging" }
  | { readonly kind: "trace_setting"; readonly model: string | undefined }
  | {
    readonly kind: "shared_memory";
    readonly memory: "system" | "cuda";
    readonly action: "status" | "register" | "unregister";
    readonly region: string | undefined;
  }
  | { readonly kind: "not_found" };

/** What a model endpoint does. */
export type ModelAction =
  | "metadata"
  | "ready"
  | "config"
  | "stats"
  | "infer"
  | "generate"
  | "generate_stream";

const SERVER = /^\/v2(?:\/health\/(live|ready))?$/;
const MODEL =
  /^\/v2\/models\/([^/]+)(?:\/versions\/([0-9]+))?(?:\/(infer|generate|generate_stream|ready|config|stats))?$/;
const MODEL_TRACE = /^\/v2\/models\/([^/]+)(?:\/versions\/[0-9]+)?\/trace\/setting$/;
const SHARED_MEMORY =
  /^\/v2\/(system|cuda)sharedmemory(?:\/region\/([^/]+))?\/(status|register|unregister)$/;
const REPOSITORY = /^\/v2\/repository(?:\/([^/]+))?\/(index|models\/([^/]+)\/(load|unload))$/;

/**
 * The endpoint for a URL path (percent-escapes in names are decoded).
 *
 * @example
 * ```ts
 * import { matchRoute } from "./router.ts";
 *
 * console.log(matchRoute("/v2/models/add_sub/versions/1/infer"));
 * // { kind: "model", action: "infer", model: "add_sub", version: 1 }
 * ```
 */
export function matchRoute(path: string): Route {
  if (path === "/metrics") return { kind: "metrics" };
  if (path === "/v2/logging") return { kind: "logging" };
  if (path === "/v2/trace/setting") return { kind: "trace_setting", model: undefined };
  let special = MODEL_TRACE.exec(path);
  if (special !== null) {
    const model = decode(special[1]);
    return model === undefined ? { kind: "not_found" } : { kind: "trace_setting", model };
  }
  special = SHARED_MEMORY.exec(path);
  if (special !== null) {
    const region = special[2] === undefined ? undefined : decode(special[2]);
    if (special[2] !== undefined && region === undefined) return { kind: "not_found" };
    return {
      kind: "shared_memory",
      memory: special[1] as "system" | "cuda",
      action: special[3] as "status" | "register" | "unregister",
      region,
    };
  }
  let match = SERVER.exec(path);
  if (match !== null) {
    return match[1] === undefined
      ? { kind: "server_metadata" }
      : { kind: "health", which: match[1] as "live" | "ready" };
  }
  match = MODEL.exec(path);
  if (match !== null) {
    const model = decode(match[1]);
    if (model === undefined) return { kind: "not_found" };
    if (model === "stats" && match[2] === undefined && match[3] === undefined) {
      return { kind: "all_stats" };
    }
    const version = match[2] === undefined ? undefined : Number(match[2]);
    if (version !== undefined && !Number.isSafeInteger(version)) return { kind: "not_found" };
    const action = (match[3] ?? "metadata") as ModelAction;
    return { kind: "model", action, model, version };
  }
  match = REPOSITORY.exec(path);
  if (match !== null) {
    const repository = match[1] === undefined ? undefined : decode(match[1]);
    if (match[2] === "index") return { kind: "repository_index", repository };
    const model = decode(match[3]);
    if (model === undefined) return { kind: "not_found" };
    return {
      kind: "repository_control",
      action: match[4] as "load" | "unload",
      model,
      repository,
    };
  }
  return { kind: "not_found" };
}

/** A path segment decoded; undefined for a bad escape or a NUL (no model or region has one). */
function decode(segment: string): string | undefined {
  try {
    const decoded = decodeURIComponent(segment);
    return decoded.includes("\0") ? undefined : decoded;
  } catch {
    return undefined;
  }
}
