import { assertEquals, assertStringIncludes } from "../runtime/api/_test_assert.ts";
import { evaluate } from "./evaluate.ts";
import { decodeSandboxRecord } from "./policy/sandbox_record.ts";

const RUNTIME_DIR = decodeURIComponent(new URL("../build/deno", import.meta.url).pathname);

function modelRequest(parameters: Record<string, string>, policy = "") {
  return {
    mode: "model",
    policy_path: policy === "" ? "" : "/etc/policy.json",
    policy,
    model_name: "m",
    model_repository: "/models/m/",
    model_config: JSON.stringify({
      parameters: Object.fromEntries(
        Object.entries(parameters).map(([key, value]) => [key, { string_value: value }]),
      ),
    }),
    runtime_dir: RUNTIME_DIR,
    heap_mb: "1024",
    memory_mb: "4096",
    execute_timeout_ms: "60000",
    stream_idle_timeout_ms: "60000",
    max_output_bytes: "1073741824",
  };
}

Deno.test("evaluate: a model with no parameters and no policy gets the baseline", async () => {
  const record = decodeSandboxRecord(await evaluate(modelRequest({})));
  assertEquals(record.read, ["/models/m"]);
  assertEquals(record.env, []);
  assertEquals(record.importMap, "");
  assertEquals(record.heapMb, 1024);
});

Deno.test("evaluate: errors come back as status error with the reason", async () => {
  const cases: [unknown, string][] = [
    [modelRequest({ "deno.allow_net": "x:1" }), "operator's ceiling does not allow"],
    [modelRequest({ "deno.allow_bogus": "1" }), "unknown parameter"],
    [modelRequest({}, "{"), "policy file /etc/policy.json is not JSON"],
    [{ mode: "policy", policy_path: "/p.json", policy: '{"version":9}' }, "/p.json is invalid"],
    [{ mode: "nonsense" }, "invalid evaluation request"],
  ];
  for (const [request, expected] of cases) {
    const answer = JSON.parse(await evaluate(request));
    assertEquals(answer.status, "error");
    assertStringIncludes(answer.message, expected);
  }
  assertEquals(
    JSON.parse(await evaluate({ mode: "policy", policy_path: "/p", policy: '{"version":1}' })),
    { status: "ok" },
  );
});

Deno.test("evaluate: the process answers on standard output", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      "--quiet",
      "--no-prompt",
      `--allow-read=${RUNTIME_DIR},/models/m`,
      new URL("./evaluate_main.ts", import.meta.url).pathname,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(
    new TextEncoder().encode(JSON.stringify(modelRequest({ "deno.max_heap_mb": "64" }))),
  );
  await writer.close();
  const { code, stdout } = await child.output();
  assertEquals(code, 0);
  const text = new TextDecoder().decode(stdout);
  const record = JSON.parse(text);
  assertEquals(record.heap_mb, "64", text);
  assertEquals(Object.values(record).every((value) => typeof value === "string"), true);
});
