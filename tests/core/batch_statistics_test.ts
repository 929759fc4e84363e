/**
 * Real core: Triton's per-batch-size statistics (`batch_stats`) see the
 * batch size the backend reports: the sum of the requests' batch
 * dimensions for a model that batches.
 *
 * @module
 */

import { assertEquals } from "../harness/assert.ts";
import { coreTest, tensor, values } from "./core_session.ts";

interface BatchStats {
  model_stats: {
    inference_count: number;
    execution_count: number;
    batch_stats: { batch_size: number; compute_infer: { count: number } }[];
  }[];
}

coreTest("a request of shape [3, 4] counts as batch size 3 in Triton's batch statistics", {
  models: ["batch_identity"],
}, async (core) => {
  const data = new Float32Array(12).map((_, i) => i);
  const answer = await core.infer("batch_identity", [tensor("INPUT0", "FP32", [3, 4], data)]);
  assertEquals(answer.error, null, answer.error?.message);
  assertEquals(values(answer, "OUTPUT0"), Array.from(data));
  // The backend reports statistics after it sent the responses, as backends do: the answer
  // can reach the client first.
  const read = () =>
    (core.server.modelStatistics("batch_identity") as unknown as BatchStats).model_stats[0];
  let stats = read();
  for (let i = 0; i < 100 && stats.execution_count === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    stats = read();
  }
  assertEquals(stats.inference_count, 3);
  assertEquals(stats.execution_count, 1);
  assertEquals(
    stats.batch_stats.map((entry) => [entry.batch_size, entry.compute_infer.count]),
    [[3, 1]],
  );
});
