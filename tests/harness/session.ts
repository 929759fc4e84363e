/**
 * Per-test set-up for the end-to-end tests: a host with the real backend, a
 * shared-memory prefix of its own (so /dev/shm can be checked for exactly
 * this test's objects), and, at the end, the check that the backend broke
 * none of Triton's rules (each request released once, one final response,
 * statistics once per request, no leaked errors or responses).
 *
 * @example
 * ```ts ignore
 * import { withHost } from "./session.ts";
 *
 * Deno.test("something", () => withHost((host) => {
 *   host.loadModel("models/add_sub").unload();
 * }));
 * ```
 *
 * @module
 */

import { assertEquals } from "./assert.ts";
import { Host, type HostViolations } from "./host.ts";

/** A fresh shared-memory prefix, unique to one test. */
export function uniqueShmPrefix(): string {
  return `tdn_e2e_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** What a test gets besides the host. */
export interface Session {
  /** The shared-memory prefix the backend was configured with. */
  shmPrefix: string;
}

/**
 * Every violation counter is zero, and no error, message, response, factory or
 * in-process inference or metric object is alive beyond the `baseline` counts (taken before the test, since live
 * counts are process-wide).
 */
export function assertNoViolations(
  violations: HostViolations,
  baseline: Record<string, number>,
  context: string,
): void {
  const broken = Object.entries(violations.violations).filter(([, count]) => count !== 0);
  assertEquals(broken, [], `${context}: the backend broke Triton's rules`);
  const leaked = [
    "errors",
    "messages",
    "responses",
    "response_factories",
    "infer_requests",
    "infer_responses",
    "response_allocators",
    "parameters",
    "metric_families",
    "metrics",
    "metric_args",
  ]
    .map((kind) => [kind, violations.live[kind] - (baseline[kind] ?? 0)] as const)
    .filter(([, count]) => count !== 0);
  assertEquals(leaked, [], `${context}: objects left alive (kind, count)`);
}

/**
 * Opens a host with the given backend options plus a unique
 * shm-region-prefix-name, runs `body`, closes the host, and asserts that no
 * rule was broken.
 */
export async function withHost(
  body: (host: Host, session: Session) => void | Promise<void>,
  options: Record<string, string> = {},
): Promise<void> {
  const shmPrefix = uniqueShmPrefix();
  const host = Host.open({ options: { "shm-region-prefix-name": shmPrefix, ...options } });
  host.resetViolations();
  const baseline = host.violations().live;
  let bodyFailed = false;
  let bodyError: unknown;
  try {
    await body(host, { shmPrefix });
  } catch (error) {
    bodyFailed = true;
    bodyError = error;
  }
  let violations: HostViolations;
  try {
    violations = host.close();
  } catch (closeError) {
    // Do not hide the body's own failure behind a close failure.
    throw bodyFailed ? bodyError : closeError;
  }
  if (bodyFailed) throw bodyError;
  assertNoViolations(violations, baseline, "after closing the host");
}
