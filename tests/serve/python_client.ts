/**
 * Triton's official Python client for the end-to-end tests: a virtual
 * environment under build/venv with the pinned `tritonclient[http,grpc]`,
 * created (or completed, when an older one lacks gRPC) on first use.
 *
 * @example
 * ```ts ignore
 * await ensurePythonClient();
 * const { code, output } = await runPython(["tests/serve/tritonclient_test.py", "127.0.0.1:8000"]);
 * ```
 *
 * @module
 */

import { assertEquals } from "../../runtime/serve/_test_assert.ts";
import { ROOT, startServeProcess } from "./server_process.ts";

/** The client version the tests pin, with the HTTP and gRPC extras. */
export const TRITONCLIENT_REQUIREMENT = "tritonclient[http,grpc]==2.73.0";

const VENV = `${ROOT}build/venv`;

/** The virtual environment's Python. */
export const PYTHON = `${VENV}/bin/python`;

/** Runs a command without the ASan preload (Python and pip must not inherit it). */
export async function runCommand(
  command: string,
  args: string[],
): Promise<{ code: number; output: string }> {
  const result = await new Deno.Command(command, {
    args,
    env: { LD_PRELOAD: "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: result.code,
    output: decoder.decode(result.stdout) + decoder.decode(result.stderr),
  };
}

/** Runs the venv's Python with `args`. */
export function runPython(args: string[]): Promise<{ code: number; output: string }> {
  return runCommand(PYTHON, args);
}

/** Creates build/venv with the pinned client unless its HTTP and gRPC modules import. */
export async function ensurePythonClient(): Promise<void> {
  const probe = await runPython(["-c", "import tritonclient.http, tritonclient.grpc, numpy"])
    .catch(() => ({ code: 1, output: "no venv" }));
  if (probe.code === 0) return;
  try {
    Deno.statSync(PYTHON);
  } catch {
    const venv = await runCommand("python3", ["-m", "venv", VENV]);
    if (venv.code !== 0) throw new Error(`python3 -m venv failed:\n${venv.output}`);
  }
  const pip = await runCommand(`${VENV}/bin/pip`, ["install", "--quiet", TRITONCLIENT_REQUIREMENT]);
  if (pip.code !== 0) {
    throw new Error(`pip install ${TRITONCLIENT_REQUIREMENT} failed:\n${pip.output}`);
  }
}

/**
 * Serves `models` from models/ with explicit model control (the clients
 * load and unload), after `args`; runs the Python client `script` (a path
 * under the repository) with the HTTP or gRPC endpoint's address; stops
 * the server, which must exit cleanly.
 *
 * @returns The client's exit code and output.
 */
export async function runClientScript(options: {
  script: string;
  endpoint: "http" | "grpc";
  models: string[];
  args?: string[];
}): Promise<{ code: number; output: string }> {
  await ensurePythonClient();
  const server = await startServeProcess({
    repository: `${ROOT}models`,
    args: [
      ...(options.args ?? []),
      "--model-control-mode",
      "explicit",
      ...options.models.flatMap((name) => ["--load-model", name]),
    ],
  });
  try {
    const port = options.endpoint === "http" ? server.port : server.grpcPort;
    assertEquals(typeof port, "number", server.log());
    return await runPython([`${ROOT}${options.script}`, `127.0.0.1:${port}`]);
  } finally {
    const stopped = await server.stop("SIGTERM");
    assertEquals(stopped.code, 0, stopped.log);
  }
}
