/**
 * The stub's view of the shared-memory region: the control page, the two
 * rings on it (waiting through shared futexes), the arena, and the fields
 * only the parent writes, read once at attach, before the model's Worker
 * (which also sees the control page) exists. Views are created once:
 * creating `getArrayBuffer` views repeatedly triggers GC storms.
 *
 * @example
 * ```ts ignore
 * import { openStubLibrary } from "../../ffi/stub/bindings.ts";
 * import { attachRegion } from "./region.ts";
 *
 * const region = attachRegion(openStubLibrary(Deno.args[0]));
 * const init = region.toStub.pop();
 * ```
 *
 * @module
 */

import type { StubLibrary } from "../../ffi/stub/bindings.ts";
import {
  CONTROL,
  CONTROL_SIZE,
  DOORBELL_BYTE,
  PARENT_DOORBELL_FD,
  RING,
  STUB_REGION_FD,
  STUB_TICK_FD,
  WIRE_VERSION,
} from "../wire/layout.ts";
import { Ring, type RingWaiter } from "../wire/ring.ts";

/** The attached region, as the trusted main thread sees it. */
export interface Region {
  /** The parent -> stub ring (the main thread's end: INIT only). */
  readonly toStub: Ring;
  /** The stub -> parent ring (the main thread's end: before READY, or once the Worker died). */
  readonly toParent: Ring;
  /** The control page as u32 words (futex words, for the futex service). */
  readonly controlWords: Int32Array;
  /** Shared-futex wait and wake on control-page words. */
  readonly futexWaiter: RingWaiter;
  /** Wakes the parent, which sleeps on its doorbell (descriptor 1). */
  ringParent(): void;
  /** Rings the Worker's doorbell with a tick (descriptor 5). */
  tickWorker(): void;
  /** The arena as the main thread sees it (the whole window past the control page). */
  readonly arena: ArrayBuffer;
  /** Bytes mapped past the control page: the most the arena can grow to. */
  readonly maxArenaSize: number;
  /**
   * The arena size the parent had published at attach, before any model
   * code could write the control page. The arena never shrinks, so the main
   * thread may always write below it.
   */
  readonly startArenaSize: number;
  /** Arena offset of the stub's half, where the main thread writes its ERROR text. */
  readonly stubBase: number;
  /** The parent's process id as written in the control page, read at attach. */
  readonly parentPid: number;
  /** A fresh view of the arena (to transfer to the Worker). */
  newArenaView(): ArrayBuffer;
  /** A fresh view of the control page (to transfer to the Worker). */
  newControlView(): ArrayBuffer;
}

/** The descriptor is not a usable region. */
export class RegionError extends Error {
  /** @param message What went wrong. */
  constructor(message: string) {
    super(message);
    this.name = "RegionError";
  }
}

/**
 * Maps the region inherited as descriptor 3 and builds its views.
 *
 * @param library The stub helper library.
 * @param fd The descriptor (tests pass their own).
 * @throws {RegionError} If the descriptor is not a region of this version.
 */
export function attachRegion(library: StubLibrary, fd: number = STUB_REGION_FD): Region {
  const attached = library.attach(fd);
  if (attached === undefined) {
    throw new RegionError(
      `descriptor ${fd} is not a shared-memory region of wire version ${WIRE_VERSION} (the stub must be started by libtriton_deno.so)`,
    );
  }
  const { base, windowSize } = attached;
  const maxArenaSize = windowSize - CONTROL_SIZE;
  const control = Deno.UnsafePointerView.getArrayBuffer(base, CONTROL_SIZE);
  const controlView = new DataView(control);
  const arena = Deno.UnsafePointerView.getArrayBuffer(base, maxArenaSize, CONTROL_SIZE);
  // tdn_stub_attach checked arena_size against the window before mapping.
  const startArenaSize = Number(controlView.getBigUint64(CONTROL.ARENA_SIZE, true));
  if (startArenaSize > maxArenaSize) {
    throw new RegionError(`arena_size ${startArenaSize} exceeds the ${maxArenaSize}-byte window`);
  }
  const stubBase = Number(controlView.getBigUint64(CONTROL.STUB_BASE, true));
  if (stubBase * 2 !== startArenaSize) {
    throw new RegionError(`stub_base ${stubBase} is not half of arena_size ${startArenaSize}`);
  }

  // Futex addresses of the ring words, computed once per word.
  const addresses = new Map<number, Deno.PointerObject>();
  const addressOf = (index: number): Deno.PointerObject => {
    let address = addresses.get(index);
    if (address === undefined) {
      if (!Number.isInteger(index) || index < 0 || index >= CONTROL_SIZE / 4) {
        throw new RegionError(`word ${index} is not on the control page`);
      }
      const pointer = Deno.UnsafePointer.offset(base, index * 4);
      if (pointer === null) throw new RegionError("null futex address");
      address = pointer;
      addresses.set(index, address);
    }
    return address;
  };
  const futexWaiter: RingWaiter = {
    wait(_words, index, expected, timeoutMs) {
      const ms = timeoutMs === Infinity ? -1 : Math.min(Math.ceil(timeoutMs), 0x7fff_ffff);
      return library.futexWait(addressOf(index), expected, ms) === "timed-out" ? "timed-out" : "ok";
    },
    wake(_words, index) {
      library.futexWake(addressOf(index));
    },
  };

  // The parent sleeps on its doorbell, not on a futex, once the stub runs.
  const toParentTail = (CONTROL.TO_PARENT + RING.TAIL) >> 2;
  const toParentWaiter: RingWaiter = {
    wait: futexWaiter.wait,
    wake(words, index) {
      if (index === toParentTail) library.ring(PARENT_DOORBELL_FD, DOORBELL_BYTE.RECORD);
      else futexWaiter.wake(words, index);
    },
  };

  return {
    toStub: new Ring(control, CONTROL.TO_STUB, futexWaiter),
    toParent: new Ring(control, CONTROL.TO_PARENT, toParentWaiter),
    ringParent: () => void library.ring(PARENT_DOORBELL_FD, DOORBELL_BYTE.RECORD),
    tickWorker: () => void library.ring(STUB_TICK_FD, DOORBELL_BYTE.TICK),
    controlWords: new Int32Array(control),
    futexWaiter,
    arena,
    maxArenaSize,
    startArenaSize,
    stubBase,
    parentPid: controlView.getUint32(CONTROL.PARENT_PID, true),
    newArenaView(): ArrayBuffer {
      return Deno.UnsafePointerView.getArrayBuffer(base, maxArenaSize, CONTROL_SIZE);
    },
    newControlView(): ArrayBuffer {
      return Deno.UnsafePointerView.getArrayBuffer(base, CONTROL_SIZE);
    },
  };
}
