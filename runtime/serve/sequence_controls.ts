/**
 * The control inputs of `sequence_batching`: tensors the sequence batcher
 * adds to each request so that a stateful model knows where it is in a
 * sequence, as Triton's sequence batcher sets them.
 *
 * - CONTROL_SEQUENCE_START: true on the request that starts a sequence.
 * - CONTROL_SEQUENCE_END: true on the request that ends it.
 * - CONTROL_SEQUENCE_READY: true when the request carries data (always, here:
 *   this server never pads a batch with empty slots).
 * - CONTROL_SEQUENCE_CORRID: the correlation id, as the control's data_type.
 *
 * The first three take their false/true values from `int32_false_true`
 * (INT32), `fp32_false_true` (FP32) or `bool_false_true` (BOOL). Each tensor
 * has shape [1], or [1, 1] when the model batches.
 *
 * @module
 */

import { dataTypeFromConfig, type DataTypeName } from "../api/datatype.ts";
import {
  type ModelConfig,
  type ModelSequenceBatching_Control,
  ModelSequenceBatching_Control_Kind,
} from "../model_config/mod.ts";
import type { InferRequest, InputTensor } from "./types.ts";

/** A START, END or READY control. */
export interface BooleanControl {
  /** The input tensor's name. */
  readonly name: string;
  /** Which signal it carries. */
  readonly kind: "START" | "END" | "READY";
  /** Its datatype. */
  readonly datatype: "INT32" | "FP32" | "BOOL";
  /** The bytes of "false" and of "true". */
  readonly values: readonly [Uint8Array, Uint8Array];
}

/** The CORRID control. */
export interface CorrelationIdControl {
  /** The input tensor's name. */
  readonly name: string;
  /** Its datatype (BYTES for TYPE_STRING). */
  readonly datatype: "UINT64" | "INT64" | "UINT32" | "INT32" | "BYTES";
}

/** A model's control inputs. */
export interface SequenceControls {
  /** START, END and READY controls, in config order. */
  readonly booleans: readonly BooleanControl[];
  /** The CORRID control, if the model asks for one. */
  readonly correlationId: CorrelationIdControl | undefined;
}

const KIND_NAMES: Record<number, string> = {
  [ModelSequenceBatching_Control_Kind.CONTROL_SEQUENCE_START]: "CONTROL_SEQUENCE_START",
  [ModelSequenceBatching_Control_Kind.CONTROL_SEQUENCE_READY]: "CONTROL_SEQUENCE_READY",
  [ModelSequenceBatching_Control_Kind.CONTROL_SEQUENCE_END]: "CONTROL_SEQUENCE_END",
  [ModelSequenceBatching_Control_Kind.CONTROL_SEQUENCE_CORRID]: "CONTROL_SEQUENCE_CORRID",
};

const CORRID_TYPES = new Set(["UINT64", "INT64", "UINT32", "INT32", "BYTES"]);

/**
 * Reads and checks the control inputs of a model's `sequence_batching`.
 *
 * @throws {Error} Naming the control input and the problem: a kind given
 * twice, a control without exactly one pair of false/true values, a CORRID
 * of another datatype, a name that is also a model input.
 *
 * @example
 * ```ts
 * import { sequenceControls } from "./sequence_controls.ts";
 * import { parseModelConfigText } from "../model_config/mod.ts";
 *
 * const config = parseModelConfigText(`name: "acc" sequence_batching {
 *   control_input [{ name: "START" control [{ kind: CONTROL_SEQUENCE_START int32_false_true: [0, 1] }] }]
 * }`);
 * console.log(sequenceControls(config).booleans[0].datatype); // "INT32"
 * ```
 */
export function sequenceControls(config: ModelConfig): SequenceControls {
  const sequencing = config.schedulingChoice.case === "sequenceBatching"
    ? config.schedulingChoice.value
    : undefined;
  const booleans: BooleanControl[] = [];
  let correlationId: CorrelationIdControl | undefined;
  const seenKinds = new Set<number>();
  const inputNames = new Set(config.input.map((input) => input.name));
  for (const controlInput of sequencing?.controlInput ?? []) {
    const where =
      `sequence_batching control input '${controlInput.name}' of model '${config.name}'`;
    if (controlInput.name === "") {
      throw new Error(`a sequence_batching control input of model '${config.name}' has no name`);
    }
    if (inputNames.has(controlInput.name)) {
      throw new Error(`${where} has the name of a model input`);
    }
    if (controlInput.control.length !== 1) {
      throw new Error(`${where} must have exactly one control, has ${controlInput.control.length}`);
    }
    const control = controlInput.control[0];
    const kindName = KIND_NAMES[control.kind] ?? `kind ${control.kind}`;
    if (seenKinds.has(control.kind)) {
      throw new Error(`model '${config.name}' has more than one ${kindName} control`);
    }
    seenKinds.add(control.kind);
    if (control.kind === ModelSequenceBatching_Control_Kind.CONTROL_SEQUENCE_CORRID) {
      const datatype = dataTypeFromConfig(control.dataType);
      if (datatype === undefined || !CORRID_TYPES.has(datatype)) {
        throw new Error(
          `${where}: ${kindName} needs data_type TYPE_UINT64, TYPE_INT64, TYPE_UINT32, ` +
            "TYPE_INT32 or TYPE_STRING",
        );
      }
      correlationId = {
        name: controlInput.name,
        datatype: datatype as CorrelationIdControl["datatype"],
      };
      continue;
    }
    booleans.push({
      name: controlInput.name,
      kind: kindName.replace("CONTROL_SEQUENCE_", "") as BooleanControl["kind"],
      ...booleanValues(control, `${where}: ${kindName}`),
    });
  }
  return { booleans, correlationId };
}

function booleanValues(
  control: ModelSequenceBatching_Control,
  where: string,
): Pick<BooleanControl, "datatype" | "values"> {
  const given = [
    control.int32FalseTrue.length > 0,
    control.fp32FalseTrue.length > 0,
    control.boolFalseTrue.length > 0,
  ].filter(Boolean).length;
  if (given !== 1) {
    throw new Error(
      `${where} needs exactly one of int32_false_true, fp32_false_true, bool_false_true`,
    );
  }
  const pair = (values: readonly unknown[], name: string) => {
    if (values.length !== 2) {
      throw new Error(`${where}: ${name} must hold 2 values (false, true), holds ${values.length}`);
    }
  };
  if (control.int32FalseTrue.length > 0) {
    pair(control.int32FalseTrue, "int32_false_true");
    const [f, t] = control.int32FalseTrue;
    return {
      datatype: "INT32",
      values: [bytesOf(new Int32Array([f])), bytesOf(new Int32Array([t]))],
    };
  }
  if (control.fp32FalseTrue.length > 0) {
    pair(control.fp32FalseTrue, "fp32_false_true");
    const [f, t] = control.fp32FalseTrue;
    return {
      datatype: "FP32",
      values: [bytesOf(new Float32Array([f])), bytesOf(new Float32Array([t]))],
    };
  }
  pair(control.boolFalseTrue, "bool_false_true");
  const [f, t] = control.boolFalseTrue;
  return { datatype: "BOOL", values: [new Uint8Array([f ? 1 : 0]), new Uint8Array([t ? 1 : 0])] };
}

function bytesOf(array: Int32Array | Float32Array): Uint8Array {
  return new Uint8Array(array.buffer);
}

/** `TRITONSERVER_RequestFlag` values. */
const FLAG_SEQUENCE_START = 1;
const FLAG_SEQUENCE_END = 2;

const encoder = new TextEncoder();

/**
 * The control tensors for one request of a sequence, or the reason they
 * cannot be formed (a string correlation id for a numeric CORRID control).
 *
 * @param controls The model's controls.
 * @param request The request (its flags and correlation id).
 * @param batching Whether the model batches (adds the batch dimension).
 *
 * @example
 * ```ts
 * import { controlInputs } from "./sequence_controls.ts";
 *
 * const controls = {
 *   booleans: [{ name: "S", kind: "START" as const, datatype: "BOOL" as const,
 *     values: [new Uint8Array([0]), new Uint8Array([1])] as const }],
 *   correlationId: undefined,
 * };
 * const inputs = controlInputs(controls, { flags: 1, correlationId: 7n }, false);
 * console.log(typeof inputs === "string" ? inputs : inputs[0].data); // Uint8Array(1) [ 1 ]
 * ```
 */
export function controlInputs(
  controls: SequenceControls,
  request: Pick<InferRequest, "flags" | "correlationId">,
  batching: boolean,
): InputTensor[] | string {
  const shape = batching ? [1, 1] : [1];
  const inputs: InputTensor[] = controls.booleans.map((control) => {
    let value: boolean;
    switch (control.kind) {
      case "START":
        value = (request.flags & FLAG_SEQUENCE_START) !== 0;
        break;
      case "END":
        value = (request.flags & FLAG_SEQUENCE_END) !== 0;
        break;
      case "READY":
        value = true;
        break;
    }
    return {
      name: control.name,
      datatype: control.datatype,
      shape,
      data: control.values[value ? 1 : 0],
    };
  });
  const corrId = controls.correlationId;
  if (corrId !== undefined) {
    const data = correlationIdBytes(corrId, request.correlationId);
    if (typeof data === "string") return data;
    inputs.push({ name: corrId.name, datatype: corrId.datatype as DataTypeName, shape, data });
  }
  return inputs;
}

function correlationIdBytes(
  control: CorrelationIdControl,
  id: bigint | string,
): Uint8Array | string {
  if (control.datatype === "BYTES") {
    const text = encoder.encode(String(id));
    const out = new Uint8Array(4 + text.byteLength);
    new DataView(out.buffer).setUint32(0, text.byteLength, true);
    out.set(text, 4);
    return out;
  }
  if (typeof id === "string") {
    return `sequence id '${id}' is a string, but the CORRID control input '${control.name}' ` +
      `is ${control.datatype}`;
  }
  // The uint64 id's low bytes, as Triton copies them into the tensor.
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, id), true);
  return control.datatype === "UINT64" || control.datatype === "INT64" ? out : out.slice(0, 4);
}
