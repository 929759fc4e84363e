/**
 * Test doubles for the Worker runtime's side of the API: an arena in ordinary
 * memory that hands out 64-byte aligned blocks, inputs written into it the way
 * the parent writes them, and requests built over it. Used by this folder's
 * tests and the example models' tests.
 *
 * @module
 */

import {
  type ModelConfig,
  modelConfigFromTritonJson,
  modelConfigToTritonJson,
  parseModelConfigText,
} from "../model_config/mod.ts";
import { dataTypeCode, type DataTypeName } from "./datatype.ts";
import { ErrorCode, TritonError } from "./error.ts";
import {
  type ArenaAllocation,
  type ArenaAllocator,
  makeInitializeArgs,
  makeRequest,
  tensorFromWire,
} from "./internal.ts";
import type { InitializeArgs } from "./model.ts";
import type { InferenceRequest } from "./request.ts";
import { Tensor } from "./tensor.ts";
import type { TensorValues } from "./values.ts";

const ALIGN = 64;

/**
 * An arena in an ordinary `ArrayBuffer`, allocating upward like the runtime's.
 *
 * @example
 * ```ts
 * import { TestArena } from "./test_support.ts";
 *
 * const arena = new TestArena(1024);
 * console.log(arena.allocate(10).offset, arena.allocate(10).offset); // 0 64
 * ```
 */
export class TestArena implements ArenaAllocator {
  /** The memory every allocation views. */
  readonly buffer: ArrayBuffer;
  /** Every block handed out, in order. */
  readonly allocations: ArenaAllocation[] = [];
  #used = 0;

  /** @param byteLength Size of the arena. */
  constructor(byteLength = 1 << 20) {
    this.buffer = new ArrayBuffer(byteLength);
  }

  /** Hands out the next 64-byte aligned block; throws `UNAVAILABLE` when full. */
  allocate(byteLength: number): ArenaAllocation {
    const offset = Math.ceil(this.#used / ALIGN) * ALIGN;
    if (offset + byteLength > this.buffer.byteLength) {
      throw new TritonError(
        `test arena full: ${byteLength} bytes asked, ${this.buffer.byteLength - offset} left`,
        ErrorCode.UNAVAILABLE,
      );
    }
    this.#used = offset + byteLength;
    const allocation = { offset, bytes: new Uint8Array(this.buffer, offset, byteLength) };
    this.allocations.push(allocation);
    return allocation;
  }

  /**
   * Writes an input into the arena as the parent would and returns it as the
   * runtime would see it (a zero-copy view from `tensorFromWire`).
   */
  input<D extends DataTypeName>(
    name: string,
    datatype: D,
    shape: readonly number[],
    data: TensorValues<D>,
  ): Tensor {
    const source = new Tensor(name, datatype, shape, data);
    const { offset, bytes } = this.allocate(source.byteLength);
    const sourceData = source.data;
    bytes.set(new Uint8Array(sourceData.buffer, sourceData.byteOffset, sourceData.byteLength));
    return tensorFromWire(
      name,
      dataTypeCode(datatype),
      Array.from(shape),
      this.buffer,
      offset,
      source.byteLength,
    );
  }
}

/**
 * A request over `arena` with the given inputs.
 *
 * @example
 * ```ts
 * import { TestArena, testRequest } from "./test_support.ts";
 *
 * const arena = new TestArena();
 * const request = testRequest(arena, [arena.input("X", "INT32", [1], [5])]);
 * console.log(request.input("X").data); // Int32Array [5]
 * ```
 */
export function testRequest(
  arena: TestArena,
  inputs: Tensor[],
  requestedOutputNames: string[] = [],
  id = "test",
): InferenceRequest {
  return makeRequest({
    id,
    correlationId: 0n,
    flags: 0,
    inputs,
    requestedOutputNames,
    allocator: arena,
  });
}

/**
 * Reads a model's config.pbtxt and returns the configuration as the runtime
 * would see it (through Triton's JSON form) and the matching initialize args.
 *
 * @param modelDirectory URL of the model's directory (ending in `/`).
 *
 * @example
 * ```ts ignore
 * import { loadTestModelConfig } from "./test_support.ts";
 *
 * const { config, args } = await loadTestModelConfig(new URL("../../models/add_sub/", import.meta.url));
 * console.log(config.name, args.modelVersion); // "add_sub" "1"
 * ```
 */
export async function loadTestModelConfig(
  modelDirectory: URL,
): Promise<{ config: ModelConfig; args: InitializeArgs }> {
  const text = await Deno.readTextFile(new URL("config.pbtxt", modelDirectory));
  const parsed = parseModelConfigText(text, "config.pbtxt");
  const name = parsed.name !== "" ? parsed.name : modelDirectory.pathname.split("/").at(-2) ?? "";
  parsed.name = name;
  const modelConfigJson = modelConfigToTritonJson(parsed);
  const args = makeInitializeArgs({
    modelConfigJson,
    modelName: name,
    modelVersion: "1",
    modelRepository: modelDirectory.pathname,
    modelInstanceName: `${name}_0_0`,
    modelInstanceKind: "CPU",
    modelInstanceDeviceId: "0",
  });
  // The runtime keeps its own copy of the configuration, apart from the model's.
  return { config: modelConfigFromTritonJson(modelConfigJson), args };
}
