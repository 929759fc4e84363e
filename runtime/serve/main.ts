/**
 * `deno task serve`: serves a model repository over Triton's HTTP/REST
 * protocol, running each model in the Deno backend through the test host
 * (no Triton needed). SIGINT or SIGTERM drains and exits 0.
 *
 * ```
 * deno run -A --unstable-worker-options runtime/serve/main.ts \
 *   [--model-repository models] [--http-port 8000] [--model NAME ...] [--max-body-bytes N]
 * ```
 *
 * @module
 */

import { OptionsError, parseOptions, USAGE } from "./options.ts";
import { startServer } from "./server.ts";

function log(line: string): void {
  console.error(`[serve] ${line}`);
}

async function main(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  let options;
  try {
    options = parseOptions(args);
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    console.error(`error: ${error.message}\n${USAGE}`);
    return 2;
  }
  let server;
  try {
    server = await startServer(options, log);
  } catch (error) {
    log(`failed to start: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  const { promise: signalled, resolve } = Promise.withResolvers<Deno.Signal>();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => resolve(signal));
  }
  const signal = await signalled;
  log(`${signal} received`);
  await server.shutdown();
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
