/**
 * Runs `runtime/serve/main.ts` as a child process for end-to-end tests: picks
 * free ports (`--http-port 0 --grpc-port 0`), waits for the "listening on" line, keeps the
 * log, and stops the server with a signal.
 *
 * @example
 * ```ts ignore
 * const server = await startServeProcess({ repository: "models", args: ["--model", "add_sub"] });
 * const response = await fetch(`${server.url}/v2/health/live`);
 * const { code } = await server.stop("SIGTERM");
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** The repository root (two levels above this file). */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The build directory: `$TRITON_DENO_BUILD` (the ASan run sets build-asan) or build/. */
export const BUILD = (() => {
  const configured = Deno.env.get("TRITON_DENO_BUILD") || "build";
  return configured.startsWith("/") ? configured : `${ROOT}${configured}`;
})();

/** The Deno binary running the tests (the pinned one under `deno task`). */
export const DENO = Deno.execPath();

/** A running server. */
export interface ServeProcess {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The port. */
  readonly port: number;
  /** The gRPC port (undefined with `--allow-grpc false`). */
  readonly grpcPort: number | undefined;
  /** The child's pid. */
  readonly pid: number;
  /** Everything the server logged so far. */
  log(): string;
  /** Sends `signal` and waits for the exit; returns the exit code and the whole log. */
  stop(signal?: Deno.Signal): Promise<{ code: number; log: string }>;
}

/**
 * Starts the server and waits (up to `startupMs`) until it listens.
 *
 * @throws {Error} With the log if it exits or times out first.
 */
export async function startServeProcess(options: {
  repository: string;
  args?: string[];
  startupMs?: number;
  /** Runs the server under `ulimit -n` of this many open files. */
  openFilesLimit?: number;
  /** Environment variables to set for the server (e.g. `TMPDIR`). */
  env?: Record<string, string>;
}): Promise<ServeProcess> {
  const limited = options.openFilesLimit !== undefined;
  const command = new Deno.Command(limited ? "bash" : DENO, {
    args: [
      ...(limited ? ["-c", `ulimit -n ${options.openFilesLimit} && exec "$0" "$@"`, DENO] : []),
      "run",
      "-A",
      "--unstable-worker-options",
      `${ROOT}runtime/serve/main.ts`,
      "--model-repository",
      options.repository,
      "--http-port",
      "0",
      "--grpc-port",
      "0",
      "--build",
      BUILD,
      ...(options.args ?? []),
    ],
    cwd: ROOT,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = command.spawn();
  let text = "";
  const decoder = new TextDecoder();
  const { promise: listening, resolve, reject } = Promise.withResolvers<number>();
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const match = /listening on http:\/\/[^:]+:(\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    }
  };
  const pumps = Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = child.status;
  status.then((s) => reject(new Error(`server exited with ${s.code} before listening:\n${text}`)));
  const timer = setTimeout(
    () =>
      reject(
        new Error(`server did not listen within ${options.startupMs ?? 120_000} ms:\n${text}`),
      ),
    options.startupMs ?? 120_000,
  );
  let port: number;
  try {
    port = await listening;
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await status;
    await pumps;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const grpc = /listening on grpc:\/\/[^\s]+:(\d+)/.exec(text);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    grpcPort: grpc === null ? undefined : Number(grpc[1]),
    pid: child.pid,
    log: () => text,
    stop: async (signal: Deno.Signal = "SIGTERM") => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      const { code } = await status;
      await pumps;
      return { code, log: text };
    },
  };
}

/**
 * A repository in a temporary directory with copies of the named models from
 * `models/` and, optionally, a model whose config.pbtxt does not parse.
 */
export function makeFixtureRepository(models: string[], withBroken: boolean): string {
  const root = Deno.makeTempDirSync({ prefix: "serve_fixture_" });
  for (const model of models) copyTree(`${ROOT}models/${model}`, `${root}/${model}`);
  if (withBroken) {
    Deno.mkdirSync(`${root}/broken/1`, { recursive: true });
    Deno.writeTextFileSync(`${root}/broken/1/model.ts`, "export default class {}\n");
    Deno.writeTextFileSync(
      `${root}/broken/config.pbtxt`,
      'name: "broken"\nbackend: "deno"\nmax_batch_size: eight\n',
    );
  }
  return root;
}

/**
 * Posts one KServe v2 JSON inference request to a running serve.
 *
 * @param server The serve process.
 * @param model The model's name.
 * @param body The request body (JSON).
 * @returns The HTTP status and the parsed JSON answer.
 */
export async function infer(
  server: ServeProcess,
  model: string,
  body: Record<string, unknown>,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/v2/models/${model}/infer`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

/**
 * A repository in a temporary directory with copies of these example models
 * (from `models/`) and test fixtures (from `tests/fixtures/`).
 *
 * @param examples Example model names.
 * @param fixtures Fixture model names.
 * @param prefix The temporary directory's prefix.
 * @returns The repository's path.
 */
export function repositoryWith(examples: string[], fixtures: string[], prefix: string): string {
  const root = Deno.makeTempDirSync({ prefix });
  for (const name of examples) copyTree(`${ROOT}models/${name}`, `${root}/${name}`);
  for (const name of fixtures) copyTree(`${ROOT}tests/fixtures/${name}`, `${root}/${name}`);
  return root;
}

/**
 * Copies a model directory (or any tree) without its `_test.ts` files.
 *
 * @param from The directory to copy.
 * @param to Where the copy goes (created).
 */
export function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.name.endsWith("_test.ts")) continue;
    const source = `${from}/${entry.name}`;
    const target = `${to}/${entry.name}`;
    if (entry.isDirectory) copyTree(source, target);
    else if (entry.isFile) Deno.copyFileSync(source, target);
  }
}

/** The command lines of running processes that mention `text` (e.g. a fixture path). */
export function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      if (cmdline.includes(text)) found.push(`${entry.name}: ${cmdline}`);
    } catch { /* exited meanwhile */ }
  }
  return found;
}

/** The names in /dev/shm now that start with `prefix`, sorted. */
export function sharedMemoryNames(prefix: string): string[] {
  try {
    return [...Deno.readDirSync("/dev/shm")].map((entry) => entry.name)
      .filter((name) => name.startsWith(prefix)).sort();
  } catch {
    return [];
  }
}
