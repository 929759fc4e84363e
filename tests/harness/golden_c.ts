/**
 * Runs the wire's C half: `golden_c`, which `make build` links from
 * tests/wire/golden_c.c and the parent's own encoders and decoders. It is
 * taken from the build directory the harness uses (`build/`, or
 * `$TRITON_DENO_BUILD`: the ASan/UBSan run's `build-asan`), so that in that
 * run the parent's decoders meet every tampered payload under the
 * sanitizers. A missing binary fails the test: the C half never skips.
 *
 * @example
 * ```ts ignore
 * import { goldenCReads } from "./golden_c.ts";
 *
 * const read = await goldenCReads("read-result", bytes);
 * if (!read.ok) console.log(read.text); // what the parent refused, and why
 * ```
 *
 * @module
 */

import { buildPaths } from "./paths.ts";

/** The golden_c binary of the harness's build directory. */
export function goldenCPath(): string {
  return `${buildPaths().buildDir}/golden_c`;
}

/**
 * Runs golden_c with `args`.
 *
 * @param args Its subcommand and arguments.
 * @returns Its exit status and output.
 * @throws {Error} If the build has no golden_c.
 */
export async function runGoldenC(args: string[]): Promise<Deno.CommandOutput> {
  const path = goldenCPath();
  try {
    await Deno.stat(path);
  } catch {
    throw new Error(
      `${path} is missing: run \`make build\` (the C half of the wire tests must run)`,
    );
  }
  return await new Deno.Command(path, { args }).output();
}

/**
 * Writes `bytes` to a temporary file and has golden_c read it with
 * `subcommand` (and `extra` arguments after the file).
 *
 * @returns `ok` and what it printed, or not `ok` and its complaint.
 */
export async function goldenCReads(
  subcommand: string,
  bytes: Uint8Array,
  extra: string[] = [],
): Promise<{ ok: boolean; text: string }> {
  const path = await Deno.makeTempFile({ prefix: `tdn_${subcommand}_` });
  try {
    await Deno.writeFile(path, bytes);
    const output = await runGoldenC([subcommand, path, ...extra]);
    const decoder = new TextDecoder();
    return output.success
      ? { ok: true, text: decoder.decode(output.stdout) }
      : { ok: false, text: decoder.decode(output.stderr) };
  } finally {
    await Deno.remove(path);
  }
}
