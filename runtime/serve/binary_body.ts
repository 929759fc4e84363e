/**
 * Triton's binary tensor data extension on the wire: a body is the JSON
 * header followed by the tensors' raw bytes, in the order the JSON lists
 * them; the `Inference-Header-Content-Length` header gives the JSON's length.
 *
 * @module
 */

import { invalidArg } from "./errors.ts";

/** The HTTP header naming the JSON part's length. */
export const HEADER_LENGTH_HEADER = "Inference-Header-Content-Length";

/** A request body split into its JSON header and the binary part after it. */
export interface SplitBody {
  /** The JSON text. */
  readonly header: Uint8Array;
  /** Everything after the JSON: the inputs' bytes, back to back. */
  readonly binary: Uint8Array;
}

/**
 * Splits a request body by the `Inference-Header-Content-Length` value (the
 * whole body is JSON when it is absent).
 *
 * A zero length is Triton's raw binary request: the header is empty and
 * the whole body is binary (runtime/serve/raw_request.ts reads it).
 *
 * @throws {ServeError} `INVALID_ARG` for a malformed or out-of-range length.
 *
 * @example
 * ```ts
 * import { splitBody } from "./binary_body.ts";
 *
 * const body = new TextEncoder().encode('{"inputs":[]}' + "\x01\x02");
 * console.log(splitBody(body, "13").binary); // Uint8Array [1, 2]
 * ```
 */
export function splitBody(body: Uint8Array, headerLength: string | null): SplitBody {
  if (headerLength === null) return { header: body, binary: body.subarray(body.byteLength) };
  const text = headerLength.trim();
  const length = /^[0-9]+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(length)) {
    throw invalidArg(`Unable to parse ${HEADER_LENGTH_HEADER}, got: ${headerLength}`);
  }
  if (length > body.byteLength) {
    throw invalidArg(
      `inference header size should be in range (0, ${body.byteLength}), got: ${headerLength}`,
    );
  }
  return { header: body.subarray(0, length), binary: body.subarray(length) };
}

/**
 * Hands out consecutive slices of the binary part, one per binary input, and
 * checks at the end that nothing is left over. Slices are views (no copy).
 *
 * @example
 * ```ts
 * import { BinaryCursor } from "./binary_body.ts";
 *
 * const cursor = new BinaryCursor(new Uint8Array([1, 2, 3]), "m");
 * console.log(cursor.take(2, "X"), cursor.take(1, "Y")); // [1, 2] [3]
 * cursor.finish();
 * ```
 */
export class BinaryCursor {
  #data: Uint8Array;
  #position = 0;
  #model: string;

  /**
   * @param data The binary part of the body.
   * @param model The model's name, for messages.
   */
  constructor(data: Uint8Array, model: string) {
    this.#data = data;
    this.#model = model;
  }

  /** The next `size` bytes, for input `input`. */
  take(size: number, input: string): Uint8Array {
    const available = this.#data.byteLength - this.#position;
    if (size > available) {
      throw invalidArg(
        `unexpected size for input '${input}', expecting ${size - available} ` +
          `additional bytes for model '${this.#model}'`,
      );
    }
    const slice = this.#data.subarray(this.#position, this.#position + size);
    this.#position += size;
    return slice;
  }

  /** Throws if bytes remain that no input claimed. */
  finish(): void {
    if (this.#position !== this.#data.byteLength) {
      throw invalidArg(`unexpected additional input data for model '${this.#model}'`);
    }
  }
}

/** One binary tensor of a response: its size and how to write it. */
export interface BinaryPart {
  /** Bytes the part occupies. */
  readonly byteSize: number;
  /** Writes exactly `byteSize` bytes into `destination`. */
  write(destination: Uint8Array): void;
}

const encoder = new TextEncoder();

/**
 * Builds a body: the JSON text, then each part's bytes, in one allocation.
 * Returns the body and the JSON's length (the value of
 * `Inference-Header-Content-Length`).
 *
 * @example
 * ```ts
 * import { assembleBody } from "./binary_body.ts";
 *
 * const { body, headerLength } = assembleBody('{"outputs":[]}', [
 *   { byteSize: 2, write: (d) => d.set([7, 8]) },
 * ]);
 * console.log(headerLength, body.byteLength); // 14 16
 * ```
 */
export function assembleBody(
  json: string,
  parts: readonly BinaryPart[],
): { body: Uint8Array<ArrayBuffer>; headerLength: number } {
  const header = encoder.encode(json);
  let total = header.byteLength;
  for (const part of parts) total += part.byteSize;
  const body = new Uint8Array(total);
  body.set(header, 0);
  let position = header.byteLength;
  for (const part of parts) {
    part.write(body.subarray(position, position + part.byteSize));
    position += part.byteSize;
  }
  return { body, headerLength: header.byteLength };
}
