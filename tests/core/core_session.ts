/**
 * The real-core suite's harness: a Triton server in this process, serving a
 * repository assembled from the example models, the test fixtures and
 * models written on the spot, with this build's Deno backend. Tests drive
 * it through Triton's in-process API (runtime/core/), as an application
 * embedding Triton would, and see what Triton's clients see.
 *
 * The core is Triton's own `libtritonserver.so` when `TRITON_HOME` names an
 * install ("real core"), else the stand-in (`build/libtriton_host.so`, with
 * `build/` as the backend directory: "stand-in core"), which implements the
 * same server API. Tests say which core ran in their names; a test that
 * needs what only Triton's core has is marked {@linkcode SessionOptions}
 * `realCoreOnly` and is ignored on the stand-in, the reason in its name.
 * With a `TRITON_HOME` that is not a Triton install the suite fails,
 * naming what is missing.
 *
 * @example
 * ```ts ignore
 * import { coreTest, fp32 } from "./core_session.ts";
 *
 * coreTest("add_sub adds", { models: ["add_sub"] }, async (core) => {
 *   const response = await core.infer("add_sub", [fp32("INPUT0", [1]), fp32("INPUT1", [2])]);
 * });
 * ```
 *
 * @module
 */

import type {
  CallInput,
  CallResponse,
  InferRequest,
  ServerOptions,
} from "../../runtime/core/mod.ts";
import { TritonServer } from "../../runtime/core/mod.ts";
import type { DataTypeName } from "../../runtime/api/datatype.ts";
import { buildPaths, REPOSITORY_ROOT } from "../harness/paths.ts";
import {
  decodeOutput,
  encodeInput,
  type InputTensor,
  type OutputTensor,
} from "../harness/tensors.ts";
import {
  composeBackendDirectory,
  type TritonHome,
  tritonHome,
} from "../../runtime/core/triton_home.ts";

/** The Triton install under test, or undefined (the suite runs on the stand-in). */
export const HOME: TritonHome | undefined = tritonHome();

/** Which core the suite runs on. */
export const CORE: "real" | "stand-in" = HOME === undefined ? "stand-in" : "real";

/** How test names begin: "real core" or "stand-in core". */
export const CORE_LABEL = `${CORE} core`;

/**
 * A prefix laid out like a Triton install whose core is the stand-in
 * (`lib/libtritonserver.so` links to `build/libtriton_host.so`), for what
 * takes an install (`deno task serve --triton-home`). The caller removes it.
 */
export function standInHome(): TritonHome {
  const prefix = Deno.makeTempDirSync({ prefix: "stand_in_home_" });
  Deno.mkdirSync(`${prefix}/lib`);
  Deno.mkdirSync(`${prefix}/include/triton/core`, { recursive: true });
  Deno.symlinkSync(buildPaths().hostLibrary, `${prefix}/lib/libtritonserver.so`);
  Deno.symlinkSync(
    `${REPOSITORY_ROOT}/ffi/include/triton_api.h`,
    `${prefix}/include/triton/core/tritonserver.h`,
  );
  const home = tritonHome(prefix);
  if (home === undefined) throw new Error("the stand-in prefix is not an install");
  return home;
}

/** A model for the repository: a directory to copy, or files to write. */
export type ModelSource =
  | string
  | { name: string; from: string }
  | { name: string; files: Record<string, string> };

/** What a session serves and how. */
export interface SessionOptions {
  /**
   * Models: a name of models/ or tests/fixtures/ (copied), a copy under
   * another name, or files written as given (paths relative to the model).
   */
  models: readonly ModelSource[];
  /** Triton's model control mode (default "explicit": each test loads what it needs). */
  modelControl?: ServerOptions["modelControl"];
  /** Models loaded at start in explicit mode (default: all of `models`). */
  startupModels?: readonly string[];
  /** `--backend-config=deno,<key>=<value>`. */
  denoConfig?: Record<string, string>;
  /** `--strict-model-config` (default true). */
  strictModelConfig?: boolean;
  /** `--exit-on-error` (default true: a model that fails to load fails the start). */
  exitOnError?: boolean;
  /**
   * Why the test needs Triton's own core (something the stand-in does not
   * have): it is ignored on the stand-in, this reason in its name.
   */
  realCoreOnly?: string;
  /** `--log-file` (default: standard error), for tests that read Triton's log. */
  logFile?: string;
}

/** A running session. */
export interface CoreSession {
  /** The server. */
  server: TritonServer;
  /** The repository's path. */
  repository: string;
  /** Infers once: the one response (most models). */
  infer(model: string, inputs: readonly InputTensor[], extra?: Partial<InferRequest>): Promise<
    Answer
  >;
  /** Infers once: every response until FINAL (decoupled models). */
  stream(model: string, inputs: readonly InputTensor[], extra?: Partial<InferRequest>): Promise<
    Answer[]
  >;
}

/** A response with its outputs decoded. */
export interface Answer {
  /** The raw response. */
  response: CallResponse;
  /** The error's code and message, or null. */
  error: CallResponse["error"];
  /** Outputs by name, decoded. */
  outputs: Map<string, OutputTensor>;
}

function exampleOrFixture(name: string): string {
  for (const base of ["models", "tests/fixtures"]) {
    const path = `${REPOSITORY_ROOT}/${base}/${name}`;
    try {
      if (Deno.statSync(path).isDirectory) return path;
    } catch { /* try the next */ }
  }
  throw new Error(`no example model or fixture named '${name}'`);
}

/**
 * Copies a model directory. Fixtures keep files that must not be checked
 * or used as they are under a `.broken` or `.fixture` suffix: the copy
 * drops it.
 */
function copyTree(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    const target = entry.name.replace(/\.(broken|fixture)$/, "");
    if (entry.isDirectory) copyTree(`${from}/${entry.name}`, `${to}/${target}`);
    else if (entry.isFile) Deno.copyFileSync(`${from}/${entry.name}`, `${to}/${target}`);
  }
}

/** Writes the repository; returns its path. */
export function assembleRepository(models: readonly ModelSource[]): string {
  const repository = Deno.makeTempDirSync({ prefix: "core_repo_" });
  for (const model of models) {
    if (typeof model === "string") {
      copyTree(exampleOrFixture(model), `${repository}/${model}`);
    } else if ("from" in model) {
      copyTree(exampleOrFixture(model.from), `${repository}/${model.name}`);
      // The copy serves under its new name.
      const config = `${repository}/${model.name}/config.pbtxt`;
      const text = Deno.readTextFileSync(config);
      Deno.writeTextFileSync(config, text.replace(/^name:\s*"[^"]*"/m, `name: "${model.name}"`));
    } else {
      for (const [path, text] of Object.entries(model.files)) {
        const file = `${repository}/${model.name}/${path}`;
        Deno.mkdirSync(file.slice(0, file.lastIndexOf("/")), { recursive: true });
        Deno.writeTextFileSync(file, text);
      }
    }
  }
  return repository;
}

function modelName(model: ModelSource): string {
  return typeof model === "string" ? model : model.name;
}

/** Decodes a call response's outputs. */
export function answerOf(response: CallResponse): Answer {
  const outputs = new Map<string, OutputTensor>();
  for (const [name, output] of response.outputs) {
    outputs.set(name, decodeOutput(name, output.datatype, output.shape, output.data));
  }
  return { response, error: response.error, outputs };
}

function callInputs(inputs: readonly InputTensor[]): CallInput[] {
  return inputs.map((input) => ({
    name: input.name,
    datatype: input.datatype,
    shape: input.shape,
    data: encodeInput(input),
  }));
}

/**
 * Starts a server for `options`, runs `body`, then stops the server and
 * removes the repository.
 */
export async function withCore<T>(
  options: SessionOptions,
  body: (session: CoreSession) => Promise<T>,
): Promise<T> {
  const repository = assembleRepository(options.models);
  // Triton's core gets the install's backends beside this build's; the
  // stand-in finds build/deno/libtriton_deno.so in build/.
  const backendDirectory = HOME === undefined
    ? undefined
    : composeBackendDirectory(HOME, buildPaths().backendDir);
  const control = options.modelControl ?? "explicit";
  let server: TritonServer;
  try {
    server = await TritonServer.start({
      coreLibrary: HOME?.coreLibrary ?? buildPaths().hostLibrary,
      clientLibrary: buildPaths().clientLibrary,
      modelRepository: repository,
      backendDirectory: backendDirectory ?? buildPaths().buildDir,
      modelControl: control,
      startupModels: control === "explicit"
        ? options.startupModels ?? options.models.map(modelName)
        : undefined,
      strictModelConfig: options.strictModelConfig ?? true,
      exitOnError: options.exitOnError,
      backendConfig: { deno: options.denoConfig ?? {} },
      logInfo: Deno.env.get("TRITON_LOG") === "1",
      logFile: options.logFile,
      exitTimeoutSeconds: 10,
    });
  } catch (error) {
    Deno.removeSync(repository, { recursive: true });
    if (backendDirectory !== undefined) Deno.removeSync(backendDirectory, { recursive: true });
    throw error;
  }
  const session: CoreSession = {
    server,
    repository,
    infer: async (model, inputs, extra = {}) =>
      answerOf(await server.call({ model, inputs: callInputs(inputs), ...extra }).run()),
    stream: async (model, inputs, extra = {}) => {
      const call = server.call({ model, inputs: callInputs(inputs), ...extra });
      try {
        call.start();
        return (await call.responses()).map(answerOf);
      } finally {
        call.free();
      }
    },
  };
  try {
    return await body(session);
  } finally {
    await server.stop();
    Deno.removeSync(repository, { recursive: true });
    if (backendDirectory !== undefined) Deno.removeSync(backendDirectory, { recursive: true });
  }
}

/**
 * A test of the real-core suite, on Triton's core or the stand-in (see the
 * module documentation); each runs its own server.
 */
export function coreTest(
  name: string,
  options: SessionOptions,
  body: (session: CoreSession, t: Deno.TestContext) => Promise<void>,
): void {
  const skipped = CORE === "stand-in" && options.realCoreOnly !== undefined;
  Deno.test({
    name: `${CORE_LABEL}: ${name}${skipped ? ` (real core only: ${options.realCoreOnly})` : ""}`,
    ignore: skipped,
    // Triton's threads and the stubs outlive single steps; the session
    // stops them all before the test ends.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: (t) => withCore(options, (session) => body(session, t)),
  });
}

/** An FP32 input. */
export function fp32(
  name: string,
  values: readonly number[],
  shape = [values.length],
): InputTensor {
  return { name, datatype: "FP32", shape, data: new Float32Array(values) };
}

/** An input of any datatype from a typed array or BYTES elements. */
export function tensor(
  name: string,
  datatype: DataTypeName,
  shape: readonly number[],
  data: InputTensor["data"],
): InputTensor {
  return { name, datatype, shape, data };
}

/** The numbers of a numeric output. */
export function values(answer: Answer, name: string): number[] {
  const output = answer.outputs.get(name);
  if (output === undefined) {
    throw new Error(`no output '${name}' (have ${[...answer.outputs.keys()]})`);
  }
  if (output.kind !== "numeric") throw new Error(`output '${name}' is BYTES`);
  return Array.from(output.data as ArrayLike<number | bigint>, Number);
}
