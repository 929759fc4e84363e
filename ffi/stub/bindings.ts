/**
 * Deno FFI bindings to `libtriton_deno_stub.so` (ffi/stub/stub_helpers.c):
 * map the inherited shared-memory region, futex wait/wake on its ring words,
 * and the parent check. Only the stub's trusted main thread loads this; the
 * model's Worker has no FFI permission.
 *
 * Every call here but one is synchronous on purpose: a blocking futex wait
 * on the calling thread is what makes the idle-to-busy wake-up cost ~0.2 us,
 * while Deno's `nonblocking` FFI has millisecond tails. The exception,
 * {@linkcode StubLibrary.parentExit}, waits for the parent's exit, which
 * needs no speed, on one of Deno's blocking threads.
 *
 * @example Attach the region and wait on a word
 * ```ts ignore
 * import { openStubLibrary } from "./bindings.ts";
 *
 * const lib = openStubLibrary(Deno.args[0]);
 * const region = lib.attach(3);
 * if (region === undefined) throw new Error("descriptor 3 is not a region");
 * const tailWord = Deno.UnsafePointer.offset(region.base, 64);
 * lib.futexWait(tailWord, 0, 1000);
 * ```
 *
 * @module
 */

const SYMBOLS = {
  tdn_stub_attach: { parameters: ["i32", "buffer"], result: "pointer" },
  tdn_futex_wait: { parameters: ["pointer", "u32", "i32"], result: "i32" },
  tdn_futex_wake: { parameters: ["pointer"], result: "i32" },
  tdn_parent_pid: { parameters: [], result: "i32" },
  // The one call that blocks for good: it runs on a thread of Deno's.
  tdn_stub_await_parent_exit: { parameters: ["i32"], result: "i32", nonblocking: true },
  tdn_stub_ring: { parameters: ["i32", "u8"], result: "i32" },
  tdn_stub_disable_webgpu: { parameters: [], result: "i32" },
  tdn_stub_release_file_pages: { parameters: [], result: "i64" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The mapped region: its base address (the control page) and size. */
export interface AttachedRegion {
  /** Address of the control page; the arena starts 4096 bytes later. */
  readonly base: Deno.PointerObject;
  /** Bytes mapped (`window_size`); only the control page plus the current arena are backed. */
  readonly windowSize: number;
}

/** What {@linkcode StubLibrary.futexWait} observed. */
export type FutexWaitOutcome = "woken" | "timed-out";

/** Typed access to the stub helper library. */
export interface StubLibrary {
  /**
   * Maps the region inherited as `fd` (the wire format's descriptor 3) after
   * checking its magic, version and sizes, and closes the descriptor.
   *
   * @returns The region, or `undefined` if `fd` is not a usable region.
   */
  attach(fd: number): AttachedRegion | undefined;
  /**
   * Sleeps while the u32 at `address` equals `expected`, at most `timeoutMs`
   * milliseconds (negative: no limit). A shared futex, so another process
   * can wake it.
   *
   * @returns `"woken"` (also when the value already differed or a signal
   * arrived: re-read the word) or `"timed-out"`.
   * @throws {Error} If the system call failed for another reason.
   */
  futexWait(
    address: Deno.PointerObject,
    expected: number,
    timeoutMs: number,
  ): FutexWaitOutcome;
  /** Wakes the waiter (if any) sleeping on the u32 at `address`. */
  futexWake(address: Deno.PointerObject): void;
  /** This process's parent process id (changes when the parent dies). */
  parentPid(): number;
  /**
   * Settles once the parent is gone: its end of the doorbell on descriptor
   * `fd` closes (on a thread of Deno's; no timer, no polling).
   *
   * @returns True once the parent is gone; false at once if `fd` cannot be
   * watched (then check {@linkcode StubLibrary.parentPid} now and then).
   */
  parentExit(fd: number): Promise<boolean>;
  /**
   * Rings a doorbell: one byte on descriptor `fd` (non-blocking; a full
   * pipe already holds a wake-up).
   *
   * @returns False if the reader is gone.
   */
  ring(fd: number, byte: number): boolean;
  /**
   * Turns WebGPU off for the whole process (sets `DENO_WEBGPU_BACKEND=none`).
   * Must run before any Worker exists.
   *
   * @throws {Error} If the environment could not be changed.
   */
  disableWebGpu(): void;
  /**
   * Drops this process's mappings of the pristine read-only file pages it
   * touched (the deno binary's code and constants): they stay in the page
   * cache every stub shares, and fault back in when used again. A stub
   * calls it once it has started, so that the pages only starting needed
   * leave its resident memory.
   *
   * @returns The bytes of mappings released, or -1 if none could be.
   */
  releaseFilePages(): number;
  /** Unloads the library. */
  close(): void;
}

/**
 * Opens the stub helper library.
 *
 * @param path Path of `libtriton_deno_stub.so` (the stub's one argument).
 * @returns Typed wrappers around its functions.
 * @throws {Error} If the library cannot be loaded or lacks a symbol.
 */
export function openStubLibrary(path: string): StubLibrary {
  const library = Deno.dlopen(path, SYMBOLS);
  const symbols = library.symbols;
  // One scratch cell for tdn_stub_attach's out-parameter.
  const windowOut = new BigUint64Array(1);

  return {
    attach(fd: number): AttachedRegion | undefined {
      const base = symbols.tdn_stub_attach(fd, windowOut);
      if (base === null) return undefined;
      const windowSize = Number(windowOut[0]);
      if (!Number.isSafeInteger(windowSize)) return undefined;
      return { base, windowSize };
    },
    futexWait(address, expected, timeoutMs): FutexWaitOutcome {
      const rc = symbols.tdn_futex_wait(address, expected >>> 0, timeoutMs | 0);
      if (rc === 0) return "woken";
      if (rc === 1) return "timed-out";
      throw new Error("futex wait failed");
    },
    futexWake(address): void {
      symbols.tdn_futex_wake(address);
    },
    parentPid(): number {
      return symbols.tdn_parent_pid();
    },
    async parentExit(fd: number): Promise<boolean> {
      return await symbols.tdn_stub_await_parent_exit(fd) === 0;
    },
    ring(fd: number, byte: number): boolean {
      return symbols.tdn_stub_ring(fd, byte) === 0;
    },
    disableWebGpu(): void {
      if (symbols.tdn_stub_disable_webgpu() !== 0) {
        throw new Error("could not set DENO_WEBGPU_BACKEND=none");
      }
    },
    releaseFilePages(): number {
      return Number(symbols.tdn_stub_release_file_pages());
    },
    close(): void {
      library.close();
    },
  };
}
