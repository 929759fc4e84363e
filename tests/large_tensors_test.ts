/**
 * End-to-end: tensors of every size class cross intact, both ways. The
 * parent copies inputs into the region and outputs out of it with plain
 * copies below 8 MiB and streaming stores from there on
 * (ffi/src/tensor_copy.c), and wakes a sleeping stub before copying a batch
 * of 64 KiB to 4 MiB (tdn_channel_announce): sizes on both sides of each
 * threshold, with lengths that are not a multiple of the copy's 64-byte
 * blocks, and data where a misplaced or stale byte shows.
 */

import { assert, assertEquals } from "./harness/assert.ts";
import { exampleModelDir } from "./harness/fixtures.ts";
import type { InferRequest, RequestResult } from "./harness/host.ts";
import { withHost } from "./harness/session.ts";

/** FP32 elements per input: below and above 64 KiB, 4 MiB and 8 MiB of payload or tensor. */
const LENGTHS = [4, 4093, 16_385, 262_147, 524_289, 1_048_577, 2_097_155, 2_359_297];

function inputs(length: number, seed: number): [Float32Array, Float32Array] {
  const a = new Float32Array(length);
  const b = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    a[i] = (i % 1021) * 0.5 + seed;
    b[i] = (i % 7) - 3;
  }
  return [a, b];
}

function output(result: RequestResult, name: string): Float32Array {
  const tensor = result.outputs.get(name);
  assert(tensor?.kind === "numeric", `output ${name} is missing (error: ${result.error?.message})`);
  return tensor.data as Float32Array;
}

/** The first index where `got` is not `want(i)`, or -1. */
function firstWrong(got: Float32Array, want: (i: number) => number): number {
  for (let i = 0; i < got.length; i++) if (got[i] !== want(i)) return i;
  return -1;
}

Deno.test("add_sub answers correctly at every tensor size, around each copy threshold", () =>
  withHost(async (host) => {
    const addSub = host.loadModel(exampleModelDir("add_sub"));
    let seed = 0;
    // Each size twice, with other data the second time: a copy that skipped
    // bytes would leave the first request's values behind.
    for (const length of [...LENGTHS, ...LENGTHS.toReversed()]) {
      const [a, b] = inputs(length, ++seed);
      const request: InferRequest = {
        id: `len${length}`,
        inputs: [
          { name: "INPUT0", datatype: "FP32", shape: [length], data: a },
          { name: "INPUT1", datatype: "FP32", shape: [length], data: b },
        ],
      };
      const [result] = addSub.execute(0, [request]);
      assertEquals(result.error, null, `length ${length}`);
      const sum = output(result, "OUTPUT0");
      const difference = output(result, "OUTPUT1");
      assertEquals([sum.length, difference.length], [length, length]);
      assertEquals(
        firstWrong(sum, (i) => Math.fround(a[i] + b[i])),
        -1,
        `OUTPUT0, length ${length}`,
      );
      assertEquals(
        firstWrong(difference, (i) => Math.fround(a[i] - b[i])),
        -1,
        `OUTPUT1, length ${length}`,
      );
      // Now and then a pause, so that the Worker sleeps before the next batch
      // (and is woken early for it) instead of spinning for it.
      if (seed % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }));
