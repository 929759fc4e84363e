/**
 * Reads a request body with a size limit, before and after decompression
 * (`Content-Encoding: gzip` or `deflate`, which Triton's client can send).
 *
 * @module
 */

import { ErrorCode, ServeError } from "./errors.ts";

/**
 * The answer to a body over the limit: 400 with Triton's wording
 * (tritonserver's `--http-max-input-size`, which serve takes too).
 */
export function bodyTooLarge(size: number | undefined, limit: number, json = true): ServeError {
  const what = json ? "Request JSON size" : "Request size";
  return new ServeError(
    ErrorCode.INVALID_ARG,
    `${what}${size === undefined ? "" : ` of ${size} bytes`} exceeds the maximum allowed value ` +
      `of ${limit} bytes. Use --http-max-input-size to increase the limit.`,
  );
}

/**
 * The whole body of `request`, at most `limit` bytes (after decompression).
 * A client that sends nothing for `timeoutMs` while the body is unfinished
 * (a `Content-Length` or a chunk larger than what it sends) gets 408.
 *
 * @throws {ServeError} 408 when the body stalls; 400 when it is over the limit or for a bad
 * Content-Length or corrupt compressed data; 501 for another encoding.
 *
 * @example
 * ```ts
 * import { readBody } from "./body.ts";
 *
 * const body = await readBody(new Request("http://x/", { method: "POST", body: "hi" }), 10);
 * console.log(body.byteLength); // 2
 * ```
 */
export async function readBody(
  request: Request,
  limit: number,
  timeoutMs = DEFAULT_BODY_TIMEOUT_MS,
): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    const size = /^[0-9]+$/.test(declared.trim()) ? Number(declared) : NaN;
    if (!Number.isSafeInteger(size)) {
      throw new ServeError(
        ErrorCode.INVALID_ARG,
        `Unable to parse Content-Length, got: ${declared}`,
      );
    }
    if (size > limit) throw bodyTooLarge(size, limit, isJson(request));
  }
  const encoding = (request.headers.get("content-encoding") ?? "identity").trim().toLowerCase();
  if (encoding === "identity" || encoding === "") {
    return await readLimited(request.body, limit, timeoutMs, isJson(request));
  }
  if (encoding !== "gzip" && encoding !== "deflate") {
    throw new ServeError(ErrorCode.UNSUPPORTED, "Unsupported compression type");
  }
  if (request.body === null) return new Uint8Array();
  try {
    return await readLimited(
      request.body.pipeThrough(new DecompressionStream(encoding)),
      limit,
      timeoutMs,
      isJson(request),
    );
  } catch (error) {
    if (error instanceof ServeError) throw error;
    throw new ServeError(
      ErrorCode.INVALID_ARG,
      `failed to decompress the request body (${encoding}): ${
        error instanceof Error ? error.message : String(error)
      }`,
    );
  }
}

/** How long a request body may stall between two reads, by default. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** The answer to a body that stopped arriving: 408. */
export function bodyTimedOut(timeoutMs: number): ServeError {
  return new ServeError(
    ErrorCode.INVALID_ARG,
    `the request body stopped arriving: nothing came for ${
      timeoutMs / 1000
    } s before it was complete`,
    408,
  );
}

/**
 * Reads a stream into one buffer, failing as soon as it passes `limit`
 * bytes or a read waits longer than `timeoutMs`.
 */
async function readLimited(
  stream: ReadableStream<Uint8Array> | null,
  limit: number,
  timeoutMs: number,
  json: boolean,
): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for (;;) {
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(bodyTimedOut(timeoutMs)), timeoutMs);
      });
      const { done, value } = await Promise.race([reader.read(), stalled]);
      clearTimeout(timer);
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw bodyTooLarge(undefined, limit, json);
      chunks.push(value);
    }
  } catch (error) {
    clearTimeout(timer);
    // The rest of the body is not wanted (the connection is not reused).
    reader.cancel().catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0];
  const body = new Uint8Array(total);
  let position = 0;
  for (const chunk of chunks) {
    body.set(chunk, position);
    position += chunk.byteLength;
  }
  return body;
}

/** A body that is all JSON (no binary tensor data after a JSON header). */
function isJson(request: Request): boolean {
  return request.headers.get("inference-header-content-length") === null;
}
