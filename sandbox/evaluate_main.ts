/**
 * The policy evaluator's process: reads one request (JSON) from standard
 * input, writes one answer (JSON, all values strings) to standard output,
 * exits 0. The parent (ffi/src/policy_eval.c) starts it with read access to
 * the model directory and the backend directory, nothing else, and an
 * environment of `DENO_DIR` and `NO_COLOR` only. It never runs model code.
 *
 * Usage: `deno run ... sandbox/evaluate_main.ts < request.json`
 *
 * @module
 */

import { evaluate } from "./evaluate.ts";

/** Requests are the model configuration plus the policy: far below this. */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

async function readRequest(): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of Deno.stdin.readable) {
    total += chunk.byteLength;
    if (total > MAX_REQUEST_BYTES) {
      throw new Error(`request larger than ${MAX_REQUEST_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

try {
  const answer = new TextEncoder().encode(await evaluate(JSON.parse(await readRequest())));
  for (let written = 0; written < answer.byteLength;) {
    written += await Deno.stdout.write(answer.subarray(written));
  }
} catch (error) {
  console.error(
    `triton deno policy evaluator: ${error instanceof Error ? error.stack : String(error)}`,
  );
  Deno.exit(1);
}
