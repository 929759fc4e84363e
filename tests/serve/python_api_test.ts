/**
 * End to end over real HTTP on the stand-in core: python_backend's API that
 * the server takes part in. Readiness follows the model's isReady()
 * (tests/fixtures/is_ready). An iterative sequence
 * model that reschedules its requests (tests/fixtures/iterative_countdown).
 * A client sends one request per sequence, with START, as to Triton: the
 * server runs it turn after turn until the model answers it for good, which
 * ends the sequence. (Decoupled models are reached over HTTP through
 * /generate_stream, which carries no sequence, as in Triton.)
 */
import { assertEquals } from "../../runtime/serve/_test_assert.ts";
import { ROOT, startServeProcess } from "./server_process.ts";

function copyFixture(name: string, repository: string): void {
  for (const file of ["config.pbtxt", "1/model.ts"]) {
    Deno.mkdirSync(`${repository}/${name}/1`, { recursive: true });
    Deno.copyFileSync(`${ROOT}tests/fixtures/${name}/${file}`, `${repository}/${name}/${file}`);
  }
}

Deno.test({
  name: "serve: readiness asks isReady(); rescheduled requests run again until answered",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const repository = Deno.makeTempDirSync({ prefix: "serve_reschedule_" });
    copyFixture("iterative_countdown", repository);
    copyFixture("is_ready", repository);
    const server = await startServeProcess({ repository });
    try {
      const steps = { name: "STEPS", datatype: "INT32", shape: [1], data: [3] };
      const answer = await fetch(`${server.url}/v2/models/iterative_countdown/infer`, {
        method: "POST",
        body: JSON.stringify({
          parameters: { sequence_id: 21, sequence_start: true },
          inputs: [steps],
        }),
      });
      const json = await answer.json();
      assertEquals(answer.status, 200, JSON.stringify(json));
      assertEquals(json.outputs[0].data, [3]);
      // The answer ended the sequence: the same id starts afresh.
      const again = await fetch(`${server.url}/v2/models/iterative_countdown/infer`, {
        method: "POST",
        body: JSON.stringify({
          parameters: { sequence_id: 21, sequence_start: true },
          inputs: [{ ...steps, data: [2] }],
        }),
      });
      assertEquals((await again.json()).outputs[0].data, [2]);

      // Readiness asks the model's isReady() (at most once a second).
      const status = async (path: string) => (await fetch(`${server.url}${path}`)).status;
      assertEquals(await status("/v2/models/is_ready/ready"), 200);
      Deno.writeTextFileSync(`${repository}/is_ready/ready_state`, "false");
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assertEquals(await status("/v2/models/is_ready/ready"), 400);
      assertEquals(await status("/v2/health/ready"), 400);
      assertEquals(await status("/v2/models/iterative_countdown/ready"), 200);
      Deno.removeSync(`${repository}/is_ready/ready_state`);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assertEquals(await status("/v2/health/ready"), 200);
    } finally {
      const { code, log } = await server.stop("SIGTERM");
      assertEquals(code, 0, log);
      Deno.removeSync(repository, { recursive: true });
    }
  },
});
