/**
 * The stub's allocator for its half of the arena (ffi/WIRE_FORMAT.md,
 * "Arena"): every payload the stub writes (results, streamed responses,
 * metrics, BLS requests, error text) and every output a model allocates
 * in place lives in a block of this half.
 *
 * Blocks are handed out in order around the half like a ring and come back
 * in that order. Each block belongs to a {@linkcode ArenaScope} (a batch, or
 * one request of a decoupled model); when the scope's last record has been
 * pushed the scope is sealed with that record's sequence number, and its
 * blocks are free once the parent's `to_parent.done` counter has passed it:
 * the parent publishes `done` after it has copied what it needs, so no
 * message ever says "free". A scope that ends without a record (a failed
 * batch) is released at once.
 *
 * Nothing here is trusted by the parent, which checks every offset it reads.
 *
 * @example Allocate a block and give it back
 * ```ts
 * import { StubArena } from "./stub_arena.ts";
 *
 * const arena = new ArrayBuffer(8192);
 * let done = 0;
 * const stubArena = new StubArena({ arena, base: 4096, size: 4096, parentDone: () => done });
 * const scope = stubArena.scope();
 * const block = scope.allocate(100);
 * console.log(block.offset); // 4096
 * scope.seal(1); // freed once the parent has handled record 1
 * done = 1;
 * console.log(stubArena.scope().allocate(100).offset >= 4096); // true
 * ```
 *
 * @module
 */

import { ArenaExhaustedError } from "./arena_allocator.ts";
import { alignUp, TENSOR_ALIGN } from "./layout.ts";

/** A block of the arena. */
export interface ArenaBlock {
  /** Arena offset, a multiple of 64. */
  offset: number;
  /** View of the block (aliases the arena). */
  bytes: Uint8Array;
}

/** Options of {@linkcode StubArena}. */
export interface StubArenaOptions {
  /** The arena view (both halves). */
  arena: ArrayBuffer;
  /** Arena offset of the stub's half. */
  base: number;
  /** Bytes of the stub's half. */
  size: number;
  /** Reads `to_parent.done`: records the parent has finished with (u32, wraps). */
  parentDone: () => number;
  /**
   * Called while the half is full of blocks the parent has not finished
   * with yet; should return after a short pause. Default: ~200 us.
   */
  pause?: () => void;
  /** How long to wait for the parent before giving up, in ms. Default 5000. */
  patienceMs?: number;
}

interface Block {
  /** Ring position where the block's space starts (any skipped end included). */
  begin: number;
  /** Ring position after it. */
  end: number;
  /** Arena offset and length of the usable part. */
  offset: number;
  length: number;
  /** Sequence number whose handling frees it; undefined while its scope is open. */
  releaseAt: number | undefined;
  freed: boolean;
}

const pauseWord = new Int32Array(new SharedArrayBuffer(4));
function shortPause(): void {
  Atomics.wait(pauseWord, 0, 0, 0.2);
}

/** The stub's half of the arena. */
export class StubArena {
  readonly #arena: ArrayBuffer;
  readonly #base: number;
  readonly #size: number;
  readonly #parentDone: () => number;
  readonly #pause: () => void;
  readonly #patienceMs: number;
  /** Live blocks, oldest first. */
  #blocks: Block[] = [];
  #first = 0;
  #head = 0;
  #tail = 0;

  /** @param options The half and how to learn what the parent is done with. */
  constructor(options: StubArenaOptions) {
    const { arena, base, size } = options;
    if (
      !Number.isSafeInteger(base) || !Number.isSafeInteger(size) || base < 0 || size < 0 ||
      base % TENSOR_ALIGN !== 0 || base + size > arena.byteLength
    ) {
      throw new RangeError(`the stub's half [${base}, +${size}) does not fit the arena`);
    }
    this.#arena = arena;
    this.#base = base;
    this.#size = size - (size % TENSOR_ALIGN);
    this.#parentDone = options.parentDone;
    this.#pause = options.pause ?? shortPause;
    this.#patienceMs = options.patienceMs ?? 5000;
  }

  /** The arena (both halves). */
  get arena(): ArrayBuffer {
    return this.#arena;
  }

  /** Bytes held by blocks not yet free. */
  get held(): number {
    return this.#head - this.#tail;
  }

  /** Opens a scope: a set of blocks freed together. */
  scope(): ArenaScope {
    return new ArenaScope(this);
  }

  /** @internal Takes a block; waits for the parent while the half is full. */
  take(byteLength: number): Block {
    if (!Number.isSafeInteger(byteLength) || byteLength < 0) {
      throw new RangeError(`cannot allocate ${byteLength} bytes`);
    }
    const rounded = Math.max(alignUp(byteLength), TENSOR_ALIGN);
    if (rounded > this.#size) {
      throw new ArenaExhaustedError(
        `${byteLength} bytes do not fit the stub's half of the shared memory (${this.#size} bytes); raise shm-max-byte-size`,
      );
    }
    this.#reclaim();
    let block = this.#tryTake(rounded, byteLength);
    if (block !== undefined) return block;
    const giveUpAt = performance.now() + this.#patienceMs;
    for (;;) {
      this.#reclaim();
      block = this.#tryTake(rounded, byteLength);
      if (block !== undefined) return block;
      if (performance.now() >= giveUpAt) {
        throw new ArenaExhaustedError(
          `${byteLength} bytes do not fit the stub's half of the shared memory: ${this.held} of ${this.#size} bytes are held by responses the parent has not taken yet`,
        );
      }
      this.#pause();
    }
  }

  /** @internal Takes a block only if there is room now; never waits. */
  takeNow(byteLength: number): Block | undefined {
    const rounded = Math.max(alignUp(byteLength), TENSOR_ALIGN);
    if (!Number.isSafeInteger(byteLength) || byteLength < 0 || rounded > this.#size) {
      return undefined;
    }
    this.#reclaim();
    return this.#tryTake(rounded, byteLength);
  }

  /** @internal Marks blocks as freed once the parent is done with `seq`. */
  seal(blocks: readonly Block[], seq: number): void {
    for (const block of blocks) block.releaseAt = seq;
  }

  /** @internal Frees blocks at once (nothing the parent reads refers to them). */
  release(blocks: readonly Block[]): void {
    for (const block of blocks) block.freed = true;
    this.#advance();
  }

  /** @internal True if [offset, offset + length) lies inside one of `blocks`. */
  static covers(blocks: readonly Block[], offset: number, length: number): boolean {
    for (const block of blocks) {
      if (
        !block.freed && offset >= block.offset && offset + length <= block.offset + block.length
      ) {
        return true;
      }
    }
    return false;
  }

  #tryTake(rounded: number, byteLength: number): Block | undefined {
    if (this.#blocks.length - this.#first === 0) {
      // Empty: start over at the beginning, where the pages are warm.
      this.#head = this.#tail = 0;
    }
    const begin = this.#head;
    let at = begin % this.#size;
    let end = begin + rounded;
    if (at + rounded > this.#size) {
      end += this.#size - at;
      at = 0;
    }
    if (end - this.#tail > this.#size) return undefined;
    const block: Block = {
      begin,
      end,
      offset: this.#base + at,
      length: byteLength,
      releaseAt: undefined,
      freed: false,
    };
    this.#blocks.push(block);
    this.#head = end;
    return block;
  }

  /** Frees, from the oldest on, the blocks the parent is done with. */
  #reclaim(): void {
    const done = this.#parentDone();
    while (this.#first < this.#blocks.length) {
      const block = this.#blocks[this.#first];
      if (!block.freed) {
        // u32 counters that wrap: done has reached releaseAt when the
        // signed distance is not negative.
        if (block.releaseAt === undefined || ((done - block.releaseAt) | 0) < 0) break;
        block.freed = true;
      }
      this.#tail = block.end;
      this.#first++;
    }
    this.#compact();
  }

  #advance(): void {
    while (this.#first < this.#blocks.length && this.#blocks[this.#first].freed) {
      this.#tail = this.#blocks[this.#first].end;
      this.#first++;
    }
    this.#compact();
  }

  #compact(): void {
    if (this.#first > 64 && this.#first * 2 > this.#blocks.length) {
      this.#blocks = this.#blocks.slice(this.#first);
      this.#first = 0;
    }
  }
}

/**
 * A set of blocks freed together: those of one batch (or of one request of
 * a decoupled model). It is what the result writer and a request's
 * `allocateOutput` allocate from.
 */
export class ArenaScope {
  readonly #owner: StubArena;
  readonly #blocks: Block[] = [];
  readonly #borrowed: { offset: number; length: number }[] = [];
  #closed = false;

  /** @param owner The arena. */
  constructor(owner: StubArena) {
    this.#owner = owner;
  }

  /** The arena (both halves). */
  get arena(): ArrayBuffer {
    return this.#owner.arena;
  }

  /**
   * Hands out `byteLength` bytes at a 64-byte boundary. The contents are
   * whatever was there before.
   *
   * @throws {ArenaExhaustedError} If the half stays full.
   */
  allocate(byteLength: number): ArenaBlock {
    const offset = this.reserve(byteLength);
    return { offset, bytes: new Uint8Array(this.#owner.arena, offset, byteLength) };
  }

  /**
   * Like {@linkcode ArenaScope.allocate} but returns only the offset.
   *
   * @throws {ArenaExhaustedError} If the half stays full.
   */
  reserve(byteLength: number): number {
    if (this.#closed) throw new RangeError("this arena scope is closed");
    const block = this.#owner.take(byteLength);
    this.#blocks.push(block);
    return block.offset;
  }

  /**
   * Like {@linkcode ArenaScope.reserve} but never waits for the parent:
   * undefined when the half has no room now.
   */
  reserveNow(byteLength: number): number | undefined {
    if (this.#closed) throw new RangeError("this arena scope is closed");
    const block = this.#owner.takeNow(byteLength);
    if (block === undefined) return undefined;
    this.#blocks.push(block);
    return block.offset;
  }

  /**
   * True if the bytes lie in a block of this scope, so that a record of
   * this scope may refer to them instead of copying.
   */
  canReference(offset: number, length: number): boolean {
    for (const range of this.#borrowed) {
      if (offset >= range.offset && offset + length <= range.offset + range.length) return true;
    }
    return StubArena.covers(this.#blocks, offset, length);
  }

  /**
   * Lets records of this scope refer to [offset, offset + length) of the
   * parent's half too: the batch's own EXECUTE payload, which the parent
   * keeps until the scope's requests are answered (an input passed through
   * as an output is then not copied).
   */
  borrow(offset: number, length: number): void {
    this.#borrowed.push({ offset, length });
  }

  /** Frees the scope's blocks once the parent has handled record `seq`. */
  seal(seq: number): void {
    this.#closed = true;
    this.#owner.seal(this.#blocks, seq);
  }

  /** Frees the scope's blocks now: no record refers to them. */
  release(): void {
    this.#closed = true;
    this.#owner.release(this.#blocks);
  }
}
