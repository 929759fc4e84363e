/**
 * End-to-end, through the stand-in: tensors Triton places in GPU memory.
 * The stubs read and write host memory only, so the parent copies a GPU
 * input to the host (and an output Triton wants on a GPU from the host)
 * with the CUDA runtime, loaded when first needed; without one, the request
 * fails naming the input. The stand-in simulates GPU memory (it is the
 * host's), and a CUDA runtime stand-in (tests/harness/fake_cudart/) does
 * the copies and counts them, so the copy path runs without a GPU.
 *
 * @module
 */

import { assert, assertEquals, assertStringIncludes } from "./harness/assert.ts";
import { exampleModelDir } from "./harness/fixtures.ts";
import type { InferRequest, RequestResult } from "./harness/host.ts";
import { buildPaths } from "./harness/paths.ts";
import { withHost } from "./harness/session.ts";

const ADD_SUB = exampleModelDir("add_sub");
const FAKE_CUDART = `${buildPaths().buildDir}/fake_cudart/libcudart_fake.so`;

function request(id: string, gpuInput: boolean, gpuOutput: boolean): InferRequest {
  return {
    id,
    inputs: [
      {
        name: "INPUT0",
        datatype: "FP32",
        shape: [4],
        data: new Float32Array([1, 2, 3, 4]),
        gpu: gpuInput ? 1 : undefined,
      },
      { name: "INPUT1", datatype: "FP32", shape: [4], data: new Float32Array([10, 10, 10, 10]) },
    ],
    gpuOutputs: gpuOutput ? { OUTPUT0: 1 } : undefined,
  };
}

function values(result: RequestResult, name: string): number[] {
  const output = result.outputs.get(name);
  assert(output?.kind === "numeric", `${name} missing: ${JSON.stringify(result.error)}`);
  return Array.from(output.data, Number);
}

function copies(): { toHost: number; toDevice: number } {
  const library = Deno.dlopen(FAKE_CUDART, {
    fake_cudart_copies: { parameters: ["i32"], result: "i64" },
  });
  try {
    return {
      toHost: Number(library.symbols.fake_cudart_copies(1)),
      toDevice: Number(library.symbols.fake_cudart_copies(0)),
    };
  } finally {
    library.close();
  }
}

Deno.test("GPU memory: without a CUDA runtime, a GPU input fails its request, naming it", () =>
  withHost((host) => {
    const model = host.loadModel(ADD_SUB, { instanceCount: 1 });
    const [gpu, cpu] = model.execute(0, [
      request("gpu", true, false),
      request("cpu", false, false),
    ]);
    assert(gpu.error !== null, "a GPU input without a CUDA runtime must fail");
    assertStringIncludes(gpu.error.message, "input 'INPUT0' is in the memory of GPU 1");
    assertStringIncludes(gpu.error.message, "cuda-runtime-library");
    assertEquals(values(cpu, "OUTPUT0"), [11, 12, 13, 14], "its batch mate is served");
    model.unload();
  }, { "cuda-runtime-library": "/nonexistent/libcudart.so" }));

Deno.test("GPU memory: inputs are copied to the host and outputs to the GPU with the CUDA runtime", () =>
  withHost((host) => {
    const model = host.loadModel(ADD_SUB, { instanceCount: 1 });
    const before = copies();
    const [both] = model.execute(0, [request("both", true, true)]);
    assertEquals(both.error, null, both.error?.message);
    assertEquals(values(both, "OUTPUT0"), [11, 12, 13, 14]);
    assertEquals(values(both, "OUTPUT1"), [-9, -8, -7, -6]);
    const after = copies();
    assertEquals(after.toHost - before.toHost, 1, "INPUT0 came to the host through the runtime");
    assertEquals(after.toDevice - before.toDevice, 1, "OUTPUT0 went to the GPU through it");
    model.unload();
  }, { "cuda-runtime-library": FAKE_CUDART }));
