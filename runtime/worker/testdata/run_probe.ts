/**
 * For the Worker tests: runs a probe module in a Worker without permissions
 * and resolves with the one message it posts (rejects with its uncaught
 * error), then ends the Worker.
 *
 * @module
 */

/**
 * Runs `probe` (a module under testdata/) and waits for its message.
 *
 * @param probe The probe's file name, relative to this folder.
 * @returns What the probe posted.
 */
export async function runProbe<T>(probe: string): Promise<T> {
  const worker = new Worker(new URL(`./${probe}`, import.meta.url), {
    type: "module",
    deno: { permissions: "none" },
  });
  try {
    return await new Promise<T>((resolve, reject) => {
      worker.onmessage = (event) => resolve(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message));
      };
    });
  } finally {
    worker.terminate();
  }
}
