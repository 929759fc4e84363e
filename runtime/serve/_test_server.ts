/**
 * Test scaffolding for the HTTP handler without the host: a temporary model
 * repository written from config texts, a {@linkcode ModelManager} whose
 * loader builds fake executors, and a `call` that sends one request through
 * the handler.
 *
 * @example
 * ```ts ignore
 * const server = await handlerFor({ m: 'name: "m" ...' }, (name, json) => new FunctionExecutor(json, f));
 * const response = await server.call("POST", "/v2/models/m/infer", body);
 * ```
 *
 * @module
 */

import { createHandler } from "./handlers.ts";
import { type LoadedExecutor, ModelManager } from "./model_manager.ts";

const created: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of created) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* already gone */ }
  }
});

/** A handler over a temporary repository. */
export interface TestServer {
  /** The model manager. */
  readonly manager: ModelManager;
  /** Every executor the loader built, by model name. */
  readonly executors: Map<string, LoadedExecutor>;
  /** Sends one request through the handler. */
  call(method: string, path: string, body?: BodyInit, init?: RequestInit): Promise<Response>;
  /** Unloads every model (closing schedulers and their timers). */
  close(): Promise<void>;
}

/**
 * Writes `configs` (model name → config.pbtxt text, each with version 1) to
 * a temporary repository and loads them all.
 */
export async function handlerFor(
  configs: Record<string, string>,
  build: (name: string, configJson: string) => LoadedExecutor,
): Promise<TestServer> {
  const root = Deno.makeTempDirSync({ prefix: "serve_features_" });
  created.push(root);
  for (const [name, text] of Object.entries(configs)) {
    Deno.mkdirSync(`${root}/${name}/1`, { recursive: true });
    Deno.writeTextFileSync(`${root}/${name}/config.pbtxt`, text);
  }
  const executors = new Map<string, LoadedExecutor>();
  const manager = new ModelManager(root, (spec, _version, configJson) => {
    const executor = build(spec.name, configJson);
    executors.set(spec.name, executor);
    return Promise.resolve(executor);
  });
  await manager.loadAll([]);
  const handler = createHandler({
    manager,
    modelControl: "explicit",
    maxBodyBytes: 1 << 20,
    stopping: () => false,
  });
  return {
    manager,
    executors,
    call: (method, path, body, init) =>
      handler(new Request(`http://serve.test${path}`, { method, body, ...init })),
    close: async () => {
      await manager.unloadAll();
    },
  };
}

/** The `data:` payloads of a Server-Sent Events body, parsed. */
export async function sseEvents(response: Response): Promise<unknown[]> {
  const text = await response.text();
  const events: unknown[] = [];
  for (const block of text.split("\n\n")) {
    if (block === "") continue;
    if (!block.startsWith("data: ")) {
      throw new Error(`not an SSE data event: ${JSON.stringify(block)}`);
    }
    events.push(JSON.parse(block.slice("data: ".length)));
  }
  if (text !== "" && !text.endsWith("\n\n")) {
    throw new Error("the last SSE event is not terminated");
  }
  return events;
}
