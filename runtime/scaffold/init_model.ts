/**
 * `deno task init-model <dir> [--decoupled] [--bls]`: starts a model in a
 * directory of its own, anywhere: `config.pbtxt`, `1/model.ts`, a test
 * (`<name>_test.ts`) and a `deno.json` whose import map points at this
 * runtime (`@triton/deno`, `@triton/deno/testing`), so that the editor,
 * `deno check` and `deno test` work in that directory. Files that exist
 * are left alone (run it on an existing model to add the `deno.json`).
 *
 * From an install, without the checkout's tasks:
 * `<prefix>/deno run --allow-read --allow-write --allow-env=INIT_CWD <prefix>/runtime/scaffold/init_model.ts <dir>`.
 *
 * @example
 * ```ts
 * import { scaffoldFiles } from "./init_model.ts";
 *
 * const files = scaffoldFiles("doubler", { decoupled: false, bls: false }, "/opt/deno/runtime");
 * console.log(Object.keys(files)); // ["config.pbtxt", "1/model.ts", "doubler_test.ts", "deno.json"]
 * ```
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** What kind of model to start. */
export interface ScaffoldOptions {
  /** `model_transaction_policy { decoupled: true }`: one response per element. */
  decoupled: boolean;
  /** The model calls another model (`BlsRequest`), named by its `target_model` parameter. */
  bls: boolean;
}

const MODEL_NAME = /^[A-Za-z0-9_.-]+$/;

/** The runtime directory this script belongs to. */
export const RUNTIME_DIR: string = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The files of a new model, by path relative to its directory.
 *
 * @param name The model's name (its directory's name).
 * @param options Decoupled, BLS.
 * @param runtimeDir The runtime the import map points at.
 */
export function scaffoldFiles(
  name: string,
  options: ScaffoldOptions,
  runtimeDir: string,
): Record<string, string> {
  const testFile = `${name}_test.ts`;
  return {
    "config.pbtxt": configText(name, options),
    "1/model.ts": modelText(name, options),
    [testFile]: testText(name, options),
    "deno.json": JSON.stringify(
      {
        imports: {
          "@triton/deno": pathToFileURL(join(runtimeDir, "api/mod.ts")).href,
          "@triton/deno/testing": pathToFileURL(join(runtimeDir, "api/testing.ts")).href,
        },
        tasks: {
          check: `deno check 1/model.ts ${testFile}`,
          test: "deno test --allow-read",
        },
      },
      null,
      2,
    ) + "\n",
  };
}

function configText(name: string, options: ScaffoldOptions): string {
  const lines = [
    `# The model's configuration (Triton's format); see the Deno backend's README.`,
    `name: "${name}"`,
    `backend: "deno"`,
    `max_batch_size: 0`,
    `input [{ name: "INPUT0" data_type: TYPE_FP32 dims: [-1] }]`,
    options.decoupled
      ? `output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [1] }]`
      : `output [{ name: "OUTPUT0" data_type: TYPE_FP32 dims: [-1] }]`,
    `instance_group [{ count: 1 kind: KIND_CPU }]`,
  ];
  if (options.decoupled) lines.push(`model_transaction_policy { decoupled: true }`);
  if (options.bls) {
    lines.push(
      `# The model it calls with INPUT0 and INPUT1 (both this model's INPUT0), taking its`,
      `# OUTPUT0: the repository's add_sub, for a start.`,
      `parameters { key: "target_model" value { string_value: "add_sub" } }`,
      `# The sandbox lets a model call only the models it declares.`,
      `parameters { key: "deno.allow_models" value { string_value: "add_sub" } }`,
    );
  }
  return lines.join("\n") + "\n";
}

function className(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter((word) => word !== "");
  const joined = words.map((word) => word[0].toUpperCase() + word.slice(1)).join("");
  return /^[A-Za-z]/.test(joined) ? joined : `Model${joined}`;
}

function modelText(name: string, options: ScaffoldOptions): string {
  const cls = className(name);
  const imports = ["type InferenceRequest", "InferenceResponse", "type Model"];
  if (options.bls || options.decoupled) imports.push("Tensor");
  if (options.bls) imports.push("BlsRequest", "type InitializeArgs");
  if (options.decoupled || options.bls) imports.push("TritonError");
  imports.sort((a, b) => a.replace("type ", "").localeCompare(b.replace("type ", "")));
  const header = `import {\n  ${imports.join(",\n  ")},\n} from "@triton/deno";\n\n`;
  const blsMembers = options.bls
    ? `  #target = "add_sub";

  /** Reads the model to call from config.pbtxt's \`target_model\`. */
  initialize(args: InitializeArgs): void {
    const target = args.modelConfig.parameters["target_model"]?.stringValue;
    if (target !== undefined) this.#target = target;
  }

  /** OUTPUT0 of the target model, given \`input\` as INPUT0 and INPUT1. */
  async #call(input: Tensor<"FP32">): Promise<Tensor<"FP32">> {
    const data = input.data.slice();
    const answer = await new BlsRequest({
      modelName: this.#target,
      inputs: [
        new Tensor("INPUT0", "FP32", input.shape, data),
        new Tensor("INPUT1", "FP32", input.shape, data),
      ],
      requestedOutputNames: ["OUTPUT0"],
    }).exec();
    const output = answer.output("OUTPUT0");
    if (!output.isDataType("FP32")) {
      throw new TritonError(\`OUTPUT0 of \${this.#target} is not FP32\`);
    }
    return output;
  }

`
    : "";
  if (options.decoupled) {
    const value = options.bls
      ? `const answer = await this.#call(
          new Tensor("INPUT0", "FP32", [1], [input.data[i]]),
        );
        const value = Number(answer.data[0]);`
      : `// Each response goes out at once; let other work run in between.
        await new Promise((resolve) => setTimeout(resolve, 0));
        const value = 2 * input.data[i];`;
    return `${header}/**
 * ${name}: a decoupled model. For each element of INPUT0 it sends one
 * response, OUTPUT0 = [${
      options.bls ? "the target model's answer for it" : "2 * element"
    }], then closes the request.
 */
export default class ${cls} implements Model {
${blsMembers}  /** Starts each request's stream and returns; the streams go on without it. */
  execute(requests: InferenceRequest[]): void {
    for (const request of requests) void this.#stream(request);
  }

  async #stream(request: InferenceRequest): Promise<void> {
    const sender = request.responseSender();
    // Inputs live in shared memory until the request's final response.
    const input = request.input("INPUT0", "FP32");
    try {
      for (let i = 0; i < input.data.length && !sender.isCancelled(); i++) {
        ${value}
        sender.send(
          new InferenceResponse([new Tensor("OUTPUT0", "FP32", [1], [value])]),
        );
      }
      sender.close();
    } catch (error) {
      const failure = error instanceof TritonError ? error : new TritonError(
        error instanceof Error ? error.message : String(error),
      );
      sender.send(new InferenceResponse([], failure), { final: true });
    }
  }
}
`;
  }
  if (options.bls) {
    return `${header}/** ${name}: OUTPUT0 is what the target model answers for INPUT0. */
export default class ${cls} implements Model {
${blsMembers}  /** One call to the target model per request, all at once. */
  execute(requests: InferenceRequest[]): Promise<InferenceResponse[]> {
    return Promise.all(requests.map(async (request) => {
      const output = await this.#call(request.input("INPUT0", "FP32"));
      return new InferenceResponse([
        new Tensor("OUTPUT0", "FP32", output.shape, output.data),
      ]);
    }));
  }
}
`;
  }
  return `${header}/** ${name}: OUTPUT0 = 2 * INPUT0. */
export default class ${cls} implements Model {
  /** One response per request, in order. */
  execute(requests: InferenceRequest[]): InferenceResponse[] {
    return requests.map((request) => {
      const input = request.input("INPUT0", "FP32");
      // Written straight into the shared memory Triton reads.
      const output = request.allocateOutput("OUTPUT0", "FP32", input.shape);
      for (let i = 0; i < input.data.length; i++) {
        output.data[i] = 2 * input.data[i];
      }
      return new InferenceResponse([output]);
    });
  }
}
`;
}

function testText(name: string, options: ScaffoldOptions): string {
  const cls = className(name);
  const helpers = ["loadTestModelConfig", "TestArena"];
  helpers.push(options.decoupled ? "testRequestWithSender" : "testRequest");
  if (!options.decoupled) helpers.push("checkResponse");
  if (options.bls) helpers.push("useTestModels");
  helpers.sort((a, b) => a.localeCompare(b));
  const apiImports = options.bls ? `import { Tensor } from "@triton/deno";\n` : "";
  const standIn = options.bls
    ? `  // The target model, stood in for: OUTPUT0 = INPUT0 + INPUT1.
  const restore = useTestModels({
    add_sub: ({ inputs: [a, b] }) => {
      const sum = (a.data as Float32Array).map((x, i) => x + Number(b.data[i]));
      return [new Tensor("OUTPUT0", "FP32", a.shape, sum)];
    },
  });
`
    : "";
  const restore = options.bls ? `\n  restore();` : "";
  const expected = "[2, 4, 6]";
  const makeModel = options.bls
    ? `const model = new ${cls}();
  model.initialize(args);`
    : `const model = new ${cls}();`;
  const body = options.decoupled
    ? `  const { request, sent } = testRequestWithSender(arena, [
    arena.input("INPUT0", "FP32", [3], [1, 2, 3]),
  ], { config });
  ${makeModel}
  model.execute([request]);
  // The stream goes on after execute returned: wait for its final flag.
  for (let i = 0; i < 100 && !sent.at(-1)?.final; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const values = sent.filter((item) => item.response !== undefined)
    .map((item) => Number(item.response!.outputs[0].data[0]));
  expectEqual(values, ${expected});${restore}`
    : `  const request = testRequest(arena, [
    arena.input("INPUT0", "FP32", [3], [1, 2, 3]),
  ]);
  ${makeModel}
  const [response] = await model.execute([request]);
  const checked = checkResponse(response, config);
  if (!checked.ok) throw new Error(checked.message);
  expectEqual(Array.from(response.outputs[0].data as Float32Array), ${expected});${restore}`;
  return `// ${name}'s own test: \`deno task test\` here (no Triton needed).
${apiImports}import {
  ${helpers.join(",\n  ")},
} from "@triton/deno/testing";
import ${cls} from "./1/model.ts";

const { config${options.bls ? ", args" : ""} } = await loadTestModelConfig(
  new URL("./", import.meta.url),
);

function expectEqual(actual: unknown, expected: unknown): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new Error(
      \`expected \${JSON.stringify(expected)}, got \${JSON.stringify(actual)}\`,
    );
  }
}

Deno.test("${name} answers INPUT0 = [1, 2, 3]", async () => {
  const arena = new TestArena();
${standIn}${body}
});
`;
}

/** What `main` did: files written and left alone, by path. */
export interface ScaffoldReport {
  /** The model's directory (absolute). */
  directory: string;
  /** Files written. */
  created: string[];
  /** Files that were there already. */
  kept: string[];
}

/**
 * Writes the files missing in `directory`.
 *
 * @throws {Error} If the directory's name is not a model name.
 */
export function scaffold(
  directory: string,
  options: ScaffoldOptions,
  runtimeDir: string = RUNTIME_DIR,
): ScaffoldReport {
  const name = basename(directory);
  if (!MODEL_NAME.test(name)) {
    throw new Error(
      `'${name}' cannot be a model name (letters, digits, '_', '.', '-'): the directory's ` +
        "name is the model's",
    );
  }
  const report: ScaffoldReport = { directory, created: [], kept: [] };
  for (const [path, text] of Object.entries(scaffoldFiles(name, options, runtimeDir))) {
    const file = join(directory, path);
    try {
      Deno.lstatSync(file);
      report.kept.push(path);
      continue;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    Deno.mkdirSync(dirname(file), { recursive: true });
    Deno.writeTextFileSync(file, text, { createNew: true });
    report.created.push(path);
  }
  return report;
}

const USAGE = "usage: deno task init-model <dir> [--decoupled] [--bls]";

function main(args: string[]): number {
  const flags = new Set(args.filter((arg) => arg.startsWith("--")));
  const positional = args.filter((arg) => !arg.startsWith("--"));
  const unknown = [...flags].filter((flag) => flag !== "--decoupled" && flag !== "--bls");
  if (flags.has("--help") || positional.length !== 1 || unknown.length > 0) {
    console.error(unknown.length > 0 ? `unknown option '${unknown[0]}'\n${USAGE}` : USAGE);
    return flags.has("--help") ? 0 : 2;
  }
  // `deno task` runs in the checkout: the directory is the caller's.
  const base = Deno.env.get("INIT_CWD") ?? Deno.cwd();
  const directory = resolve(base, positional[0]);
  let report: ScaffoldReport;
  try {
    report = scaffold(directory, { decoupled: flags.has("--decoupled"), bls: flags.has("--bls") });
  } catch (error) {
    console.error(`init-model: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  for (const path of report.created) console.log(`created ${join(directory, path)}`);
  for (const path of report.kept) console.log(`kept    ${join(directory, path)} (it exists)`);
  console.log(
    `\nnext: cd ${directory} && deno task check && deno task test\n` +
      `serve it: deno task serve --model-repository ${dirname(directory)} --model ${
        basename(directory)
      }`,
  );
  return 0;
}

if (import.meta.main) Deno.exit(main(Deno.args));
