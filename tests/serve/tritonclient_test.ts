/**
 * Runs tests/serve/tritonclient_test.py (Triton's official Python HTTP client)
 * against `runtime/serve/main.ts` serving models/add_sub and add_sub_string.
 * The client lives in a virtual environment under build/venv, created here
 * with `python3 -m venv` and the pinned `tritonclient[http]` when missing.
 */
import { assertEquals, assertStringIncludes } from "../../runtime/serve/_test_assert.ts";
import { ROOT, startServeProcess } from "./server_process.ts";

/** The client version this test pins. */
export const TRITONCLIENT_REQUIREMENT = "tritonclient[http]==2.73.0";

const VENV = `${ROOT}build/venv`;
const PYTHON = `${VENV}/bin/python`;

async function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  // The ASan run preloads libasan for Deno; Python and pip must not inherit it.
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

/** Creates build/venv with the pinned client unless it already imports. */
async function ensureClient(): Promise<void> {
  const probe = await run(PYTHON, ["-c", "import tritonclient.http, numpy"]).catch(() => ({
    code: 1,
    output: "no venv",
  }));
  if (probe.code === 0) return;
  const venv = await run("python3", ["-m", "venv", VENV]);
  if (venv.code !== 0) throw new Error(`python3 -m venv failed:\n${venv.output}`);
  const pip = await run(`${VENV}/bin/pip`, ["install", "--quiet", TRITONCLIENT_REQUIREMENT]);
  if (pip.code !== 0) {
    throw new Error(`pip install ${TRITONCLIENT_REQUIREMENT} failed:\n${pip.output}`);
  }
}

Deno.test({
  name: "serve: Triton's Python HTTP client (tritonclient) passes its checks",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await ensureClient();
    const server = await startServeProcess({
      repository: `${ROOT}models`,
      args: [
        "--model-control-mode",
        "explicit",
        "--load-model",
        "add_sub",
        "--load-model",
        "add_sub_string",
      ],
    });
    let result: { code: number; output: string };
    try {
      result = await run(PYTHON, [
        `${ROOT}tests/serve/tritonclient_test.py`,
        `127.0.0.1:${server.port}`,
      ]);
    } finally {
      const stopped = await server.stop("SIGTERM");
      assertEquals(stopped.code, 0, stopped.log);
    }
    assertEquals(result.code, 0, result.output);
    assertStringIncludes(result.output, "Ran 9 tests");
    assertStringIncludes(result.output, "OK");
  },
});
