/**
 * The numbers the benchmark prints beside ours: python_backend measured on
 * this kind of machine (real Triton core, CPU only, in-process C API, one
 * instance; ../shared/notes/python-backend.md) and the project's targets.
 *
 * @module
 */

/** python_backend's add_sub results and the targets, by per-input size and concurrency. */
export interface ThroughputReference {
  /** What python_backend did, as text for the table. */
  pythonBackend: string;
  /** Our target, as text for the table ("-" when there is none). */
  target: string;
}

/** Key: `${sizeLabel}@${concurrency}`. */
export const THROUGHPUT_REFERENCES: Readonly<Record<string, ThroughputReference>> = {
  "4 elements@1": { pythonBackend: "8,292 req/s, p50 79 us, p99 186 us", target: "p50 <= 30 us" },
  "4 elements@4": { pythonBackend: "10,224 req/s, p50 347 us", target: "-" },
  "1 MiB@1": { pythonBackend: "239 req/s, p50 4.0 ms", target: ">= 2,000 req/s" },
  "1 MiB@4": { pythonBackend: "-", target: ">= 2,000 req/s" },
  "16 MiB@1": { pythonBackend: "29 req/s, p50 31 ms", target: ">= 100 req/s" },
  "16 MiB@4": { pythonBackend: "-", target: ">= 100 req/s" },
};

/** python_backend's model load with strict_model_config, in ms. */
export const PYTHON_BACKEND_LOAD_MS = 98;
/** Target: instance ready within this many ms. */
export const TARGET_LOAD_MS = 150;
/** python_backend's stub RSS at ready, in MiB. */
export const PYTHON_BACKEND_STUB_MIB = 33;
/** Target: memory per instance, in MiB. */
export const TARGET_INSTANCE_MIB = 50;
/** Target: IPC round trip as a multiple of the C-to-C floor. */
export const TARGET_FLOOR_RATIO = 1.5;
