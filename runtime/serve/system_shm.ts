/**
 * Triton's system shared-memory extension: a client registers a region of
 * its POSIX shared memory (`/v2/systemsharedmemory/region/{name}/register`
 * with the object's key, an offset and a byte size), then names it in
 * requests: inputs are read from it, outputs written into it.
 *
 * The server reaches a region through the object's file under /dev/shm
 * (what `shm_open` opens on Linux), held open from registration; it never
 * maps client memory into itself. Everything the client says is checked:
 * the key is a single name, the object a regular file, the registered
 * range inside the object, and every request's offset and size inside the
 * registered range.
 *
 * @module
 */

import { ErrorCode } from "../api/error.ts";
import { invalidArg, ServeError } from "./errors.ts";

/** Where POSIX shared-memory objects live on Linux. */
const SHM_DIRECTORY = "/dev/shm";

/** A registered region, as the status endpoint shows it. */
export interface RegionStatus {
  readonly name: string;
  readonly key: string;
  readonly offset: number;
  readonly byte_size: number;
}

interface Region extends RegionStatus {
  readonly file: Deno.FsFile;
  /** Reads and writes of this region, one at a time (they seek). */
  queue: Promise<unknown>;
}

/** Where in a region a tensor lives. */
export interface RegionSlice {
  readonly region: string;
  readonly offset: number;
  readonly byteSize: number;
}

/** The registered system shared-memory regions. */
export class SystemSharedMemory {
  readonly #regions = new Map<string, Region>();

  /**
   * Registers `name` for `byteSize` bytes of the object `key` from `offset`.
   *
   * @throws {ServeError} 400 for a name in use, a bad key, an object that is
   * not there or is smaller than the range.
   */
  async register(name: string, key: string, offset: number, byteSize: number): Promise<void> {
    if (this.#regions.has(name)) {
      throw new ServeError(
        ErrorCode.ALREADY_EXISTS,
        `shared memory region '${name}' already in manager`,
      );
    }
    const objectName = key.startsWith("/") ? key.slice(1) : key;
    if (!/^[^/\0]{1,255}$/.test(objectName) || objectName === "." || objectName === "..") {
      throw invalidArg(`Unable to open shared memory region: '${key}': not a shared-memory key`);
    }
    const path = `${SHM_DIRECTORY}/${objectName}`;
    let file: Deno.FsFile;
    try {
      const info = await Deno.lstat(path);
      if (!info.isFile) throw new Error("not a regular file");
      file = await Deno.open(path, { read: true, write: true });
    } catch {
      throw invalidArg(`Unable to open shared memory region: '${key}'`);
    }
    try {
      const size = (await file.stat()).size;
      if (offset + byteSize > size) {
        throw invalidArg(
          `failed to register shared memory region '${name}': offset ${offset} and byte size ` +
            `${byteSize} go beyond the ${size} bytes of '${key}'`,
        );
      }
      if (this.#regions.has(name)) {
        throw new ServeError(
          ErrorCode.ALREADY_EXISTS,
          `shared memory region '${name}' already in manager`,
        );
      }
    } catch (error) {
      file.close();
      throw error;
    }
    this.#regions.set(name, {
      name,
      key,
      offset,
      byte_size: byteSize,
      file,
      queue: Promise.resolve(),
    });
  }

  /**
   * The status of one region, or of all.
   *
   * @throws {ServeError} 404 for a name not registered.
   */
  status(name?: string): RegionStatus[] {
    if (name === undefined) {
      return [...this.#regions.values()].map(({ name, key, offset, byte_size }) => ({
        name,
        key,
        offset,
        byte_size,
      }));
    }
    const region = this.#find(name);
    return [{ name, key: region.key, offset: region.offset, byte_size: region.byte_size }];
  }

  /** Unregisters one region (nothing if it is not registered), or all. */
  unregister(name?: string): void {
    const names = name === undefined ? [...this.#regions.keys()] : [name];
    for (const each of names) {
      const region = this.#regions.get(each);
      if (region === undefined) continue;
      this.#regions.delete(each);
      // After the reads and writes under way.
      region.queue.finally(() => region.file.close());
    }
  }

  /**
   * Checks that `slice` lies within its registered region.
   *
   * @throws {ServeError} 400 naming the region, for an unknown one or a range outside it.
   */
  check(slice: RegionSlice): void {
    const region = this.#find(slice.region, ErrorCode.INVALID_ARG);
    if (
      slice.offset < 0 || slice.byteSize < 0 || slice.offset + slice.byteSize > region.byte_size
    ) {
      throw invalidArg(
        `Invalid offset + byte size for shared memory region: '${slice.region}' (offset ` +
          `${slice.offset} + ${slice.byteSize} bytes, the region holds ${region.byte_size})`,
      );
    }
  }

  /** The bytes of `slice` (checked first). */
  read(slice: RegionSlice): Promise<Uint8Array> {
    this.check(slice);
    const region = this.#regions.get(slice.region)!;
    const run = region.queue.then(async () => {
      const bytes = new Uint8Array(slice.byteSize);
      await region.file.seek(region.offset + slice.offset, Deno.SeekMode.Start);
      let done = 0;
      while (done < bytes.byteLength) {
        const n = await region.file.read(bytes.subarray(done));
        if (n === null) {
          throw invalidArg(`shared memory region '${slice.region}' ended before its byte size`);
        }
        done += n;
      }
      return bytes;
    });
    region.queue = run.catch(() => {});
    return run;
  }

  /** Writes `bytes` at `slice` (checked first: `bytes` must fit its byte size). */
  write(slice: RegionSlice, bytes: Uint8Array): Promise<void> {
    this.check(slice);
    const region = this.#regions.get(slice.region)!;
    const run = region.queue.then(async () => {
      await region.file.seek(region.offset + slice.offset, Deno.SeekMode.Start);
      let done = 0;
      while (done < bytes.byteLength) done += await region.file.write(bytes.subarray(done));
    });
    region.queue = run.catch(() => {});
    return run;
  }

  #find(name: string, code = ErrorCode.NOT_FOUND): Region {
    const region = this.#regions.get(name);
    if (region === undefined) {
      throw new ServeError(code, `Unable to find system shared memory region: '${name}'`);
    }
    return region;
  }
}

/** A request whose shared-memory inputs were read and whose shared-memory outputs were noted. */
export interface ResolvedRequest {
  /** The request JSON, shared-memory inputs turned into binary ones. */
  readonly json: unknown;
  /** The binary part, with the shared-memory inputs' bytes in their places. */
  readonly binary: Uint8Array;
  /** Outputs to write into shared memory. */
  readonly outputs: ReadonlyMap<string, RegionSlice>;
}

/**
 * Reads a request's shared-memory inputs and notes its shared-memory
 * outputs: each input with `shared_memory_region` becomes an input with
 * `binary_data_size`, its bytes put among the binary part's in JSON order,
 * so that the usual parser checks them as any binary input.
 *
 * @throws {ServeError} 400 for a bad region, offset or size.
 */
export async function resolveSharedMemory(
  json: unknown,
  binary: Uint8Array,
  memory: SystemSharedMemory,
): Promise<ResolvedRequest> {
  const outputs = new Map<string, RegionSlice>();
  if (!isObject(json)) return { json, binary, outputs };
  const parts: Uint8Array[] = [];
  let position = 0;
  const inputs = Array.isArray(json.inputs) ? json.inputs : [];
  const newInputs: unknown[] = [];
  for (const input of inputs) {
    const parameters = isObject(input) && isObject(input.parameters) ? input.parameters : undefined;
    if (parameters === undefined) {
      newInputs.push(input);
      continue;
    }
    if (parameters.shared_memory_region === undefined) {
      const size = parameters.binary_data_size;
      if (typeof size === "number" && Number.isSafeInteger(size) && size >= 0) {
        parts.push(binary.subarray(position, position + size));
        position += size;
      }
      newInputs.push(input);
      continue;
    }
    const name = String((input as Record<string, unknown>).name);
    if (
      parameters.binary_data_size !== undefined ||
      (input as Record<string, unknown>).data !== undefined
    ) {
      newInputs.push(input); // The parser refuses more than one source.
      continue;
    }
    const slice = regionSlice(parameters, `input '${name}'`);
    parts.push(await memory.read(slice));
    const {
      shared_memory_region: _region,
      shared_memory_byte_size: _size,
      shared_memory_offset: _offset,
      ...rest
    } = parameters;
    newInputs.push({ ...input, parameters: { ...rest, binary_data_size: slice.byteSize } });
  }
  parts.push(binary.subarray(position));
  const newOutputs: unknown[] = [];
  for (const output of Array.isArray(json.outputs) ? json.outputs : []) {
    const parameters = isObject(output) && isObject(output.parameters)
      ? output.parameters
      : undefined;
    if (parameters?.shared_memory_region === undefined) {
      newOutputs.push(output);
      continue;
    }
    const name = String((output as Record<string, unknown>).name);
    const slice = regionSlice(parameters, `output '${name}'`);
    memory.check(slice);
    outputs.set(name, slice);
    const {
      shared_memory_region: _region,
      shared_memory_byte_size: _size,
      shared_memory_offset: _offset,
      ...rest
    } = parameters;
    newOutputs.push({ ...output, parameters: { ...rest, binary_data: true } });
  }
  const total = parts.reduce((sum, part) => sum + part.byteLength, 0);
  const joined = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    joined.set(part, at);
    at += part.byteLength;
  }
  return {
    json: {
      ...json,
      inputs: json.inputs === undefined ? undefined : newInputs,
      outputs: json.outputs === undefined ? undefined : newOutputs,
    },
    binary: joined,
    outputs,
  };
}

function regionSlice(parameters: Record<string, unknown>, what: string): RegionSlice {
  const region = parameters.shared_memory_region;
  if (typeof region !== "string") {
    throw invalidArg(`Unable to parse 'shared_memory_region' of ${what}`);
  }
  const byteSize = parameters.shared_memory_byte_size;
  if (typeof byteSize !== "number" || !Number.isSafeInteger(byteSize) || byteSize < 0) {
    throw invalidArg(`${what}: 'shared_memory_byte_size' must be given as an unsigned integer`);
  }
  const offset = parameters.shared_memory_offset ?? 0;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    throw invalidArg(`${what}: 'shared_memory_offset' must be an unsigned integer`);
  }
  return { region, offset, byteSize };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
