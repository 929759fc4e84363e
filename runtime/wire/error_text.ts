/**
 * Writes the UTF-8 text of an ERROR record into the arena: at most
 * `MAX_ERROR_LENGTH` bytes and never past the arena's end, cut on a
 * character boundary. Used by the stub's main thread (init failures, Worker
 * death) and by the Worker (failed batches).
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

const utf8 = new TextEncoder();

/**
 * Writes `text` at `offset`, cut to fit.
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
  if (!Number.isSafeInteger(offset) || offset < 0 || offset >= limit) {
    return { offset: 0, length: 0 };
  }
  const room = Math.min(limit - offset, MAX_ERROR_LENGTH);
  const target = new Uint8Array(arena, offset, room);
  // encodeInto never splits a character, so a cut message stays valid UTF-8.
  const { written } = utf8.encodeInto(text, target);
  return { offset, length: written };
}
