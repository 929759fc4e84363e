/**
 * A bump allocator over a fixed buffer that hands out 64-byte-aligned blocks
 * from a start offset upward and never frees: what the wire's golden tests
 * and codec tests write payloads with at known offsets. The stub itself
 * allocates with runtime/wire/stub_arena.ts. `ArenaExhaustedError` is
 * shared by both.
 *
 * @example Allocate an output buffer
 * ```ts
 * import { BumpAllocator } from "./arena_allocator.ts";
 *
 * const arena = new ArrayBuffer(4096);
 * const allocator = new BumpAllocator({ arena, start: 128, arenaSize: () => 4096 });
 * const block = allocator.allocate(16);
 * console.log(block.offset, block.bytes.byteLength); // 128 16
 * ```
 *
 * @module
 */

import { alignUp } from "./layout.ts";

/** A block of the arena. */
export interface ArenaAllocation {
  /** Arena offset, a multiple of 64. */
  offset: number;
  /** View of the block (aliases the arena). */
  bytes: Uint8Array;
}

/** Thrown when the arena cannot hold what was asked for. */
export class ArenaExhaustedError extends Error {
  /** @param message What was needed and what was available. */
  constructor(message: string) {
    super(message);
    this.name = "ArenaExhaustedError";
  }
}

/** Options of {@linkcode BumpAllocator}. */
export interface BumpAllocatorOptions {
  /** The arena (may be longer than the usable size: the mapped window). */
  arena: ArrayBuffer;
  /** First usable offset (the batch's `arena_used`). */
  start: number;
  /** The current usable arena size. */
  arenaSize: () => number;
}

/** Bump allocator over one batch's free part of the arena. */
export class BumpAllocator {
  readonly #arena: ArrayBuffer;
  readonly #arenaSize: () => number;
  #cursor: number;

  /** @param options The arena, the start offset and the usable size. */
  constructor(options: BumpAllocatorOptions) {
    const { arena, start } = options;
    if (!Number.isSafeInteger(start) || start < 0 || start > arena.byteLength) {
      throw new RangeError(`allocator start ${start} is outside the arena`);
    }
    this.#arena = arena;
    this.#arenaSize = options.arenaSize;
    this.#cursor = start;
  }

  /** The arena this allocator hands out. */
  get arena(): ArrayBuffer {
    return this.#arena;
  }

  /** True for bytes below the cursor: handed out earlier, so a result may refer to them. */
  canReference(offset: number, length: number): boolean {
    return offset >= 0 && offset + length <= this.#cursor;
  }

  /** First offset not handed out yet. */
  get cursor(): number {
    return this.#cursor;
  }

  /**
   * Hands out `byteLength` bytes at the next 64-byte boundary. The block's
   * contents are whatever was there before.
   *
   * @throws {ArenaExhaustedError} If the arena is too small.
   */
  allocate(byteLength: number): ArenaAllocation {
    const offset = this.reserve(byteLength);
    return { offset, bytes: new Uint8Array(this.#arena, offset, byteLength) };
  }

  /**
   * Like {@linkcode BumpAllocator.allocate} but returns only the offset.
   *
   * @throws {ArenaExhaustedError} If the arena is too small.
   */
  reserve(byteLength: number): number {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
      throw new RangeError(`cannot allocate ${byteLength} bytes`);
    }
    const offset = alignUp(this.#cursor);
    const end = offset + byteLength;
    this.#ensure(end);
    this.#cursor = end;
    return offset;
  }

  /** Makes sure the arena holds `[0, end)`. */
  #ensure(end: number): void {
    if (end <= this.#arenaSize()) return;
    if (end > this.#arena.byteLength) {
      throw new ArenaExhaustedError(
        `the batch needs ${end} arena bytes; the shared-memory window holds ${this.#arena.byteLength}`,
      );
    }
    throw new ArenaExhaustedError(
      `the batch needs ${end} arena bytes; the arena has ${this.#arenaSize()}`,
    );
  }
}
