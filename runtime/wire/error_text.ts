/**
 * Writes the UTF-8 text of an ERROR record into the arena: at most
 * `MAX_ERROR_LENGTH` bytes and never past the arena's end, cut on a
 * character boundary. Used by the stub's main thread (init failures, Worker
 * death) and by the Worker (failed batches).
 *
 * The text goes at the offset the caller owns (after INIT's payload, or the
 * batch's `arena_used`). When the batch filled the arena up to there, the
 * text goes at offset 0 instead: a batch that fails is over, so its payload
 * is no longer needed, and an error with no text would leave the user
 * guessing.
 *
 * @example
 * ```ts
 * import { writeErrorText } from "./error_text.ts";
 *
 * const arena = new ArrayBuffer(256);
 * const { offset, length } = writeErrorText(arena, 256, 64, "model file not found");
 * console.log(offset, length); // 64 20
 * ```
 *
 * @module
 */

import { MAX_ERROR_LENGTH } from "./layout.ts";

/** Where the text went: the ERROR record's offset and length. */
export interface WrittenText {
  /** Arena offset. */
  offset: number;
  /** Bytes written (0 when nothing fits). */
  length: number;
}

/** Less room than this at the preferred offset sends the text to offset 0. */
const MIN_ROOM = 4096;

const utf8 = new TextEncoder();

/**
 * Writes `text` at `offset` (or at 0 when `offset` has too little room), cut to fit.
 *
 * @param arena The arena.
 * @param arenaSize Usable arena bytes.
 * @param offset Where the caller may write (its own part of the arena).
 * @param text The message.
 * @returns The offset and the number of bytes written.
 */
export function writeErrorText(
  arena: ArrayBuffer,
  arenaSize: number,
  offset: number,
  text: string,
): WrittenText {
  const limit = Math.min(arenaSize, arena.byteLength);
  let at = Number.isSafeInteger(offset) && offset >= 0 && offset < limit ? offset : limit;
  const needed = Math.min(text.length * 3, MAX_ERROR_LENGTH);
  if (limit - at < Math.min(needed, MIN_ROOM)) at = 0;
  const room = Math.min(limit - at, MAX_ERROR_LENGTH);
  if (room <= 0) return { offset: 0, length: 0 };
  // encodeInto never splits a character, so a cut message stays valid UTF-8.
  const { written } = utf8.encodeInto(text, new Uint8Array(arena, at, room));
  return { offset: at, length: written };
}

/** Where {@linkcode writeErrorTextIn} may allocate (an arena scope). */
export interface TextAllocator {
  /** The arena. */
  readonly arena: ArrayBuffer;
  /** Takes `byteLength` bytes and returns their offset. */
  reserve(byteLength: number): number;
}

/**
 * Writes `text` (cut to `MAX_ERROR_LENGTH` bytes on a character boundary)
 * into a block of `allocator`.
 *
 * @param allocator Where the text goes.
 * @param text The message.
 * @returns The offset and the number of bytes written.
 */
export function writeErrorTextIn(allocator: TextAllocator, text: string): WrittenText {
  let encoded = utf8.encode(text);
  if (encoded.byteLength > MAX_ERROR_LENGTH) {
    let end = MAX_ERROR_LENGTH;
    while (end > 0 && (encoded[end] & 0xc0) === 0x80) end--;
    encoded = encoded.subarray(0, end);
  }
  const offset = allocator.reserve(encoded.byteLength);
  new Uint8Array(allocator.arena, offset, encoded.byteLength).set(encoded);
  return { offset, length: encoded.byteLength };
}
