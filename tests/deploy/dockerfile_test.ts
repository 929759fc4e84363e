/**
 * The Dockerfile, checked without building an image (no container runtime
 * here): the Triton version is a build argument that names Triton's own
 * image for every stage; the build stage runs only package installation and
 * the Makefile's own targets; what it copies from the context exists and is
 * not ignored; and replaying the build stage here, on a context holding
 * only what the Dockerfile copies, makes a backend directory in which every
 * path the final stage copies exists.
 *
 * @module
 */

import { assert, assertEquals, assertMatch } from "../harness/assert.ts";
import { buildPaths, REPOSITORY_ROOT } from "../harness/paths.ts";
import { type CopySpec, expand, parseCopy, parseDockerfile, type Stage } from "./dockerfile.ts";

const DOCKERFILE = parseDockerfile(Deno.readTextFileSync(`${REPOSITORY_ROOT}/Dockerfile`));
const ASAN_PHASE = (Deno.env.get("TRITON_DENO_BUILD") ?? "build") !== "build";
/** Where Triton's images look for backends, and this backend's name. */
const TRITON_BACKEND_DIR = "/opt/tritonserver/backends/deno";

function stage(name: string): Stage {
  const found = DOCKERFILE.stages.find((candidate) => candidate.name === name);
  assert(found !== undefined, `no stage '${name}' in the Dockerfile`);
  return found;
}

function run(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args);
}

function copies(stage: Stage): CopySpec[] {
  return stage.instructions.filter((i) => i.keyword === "COPY").map((i) => parseCopy(i.args));
}

/** The Makefile's targets (rule names without variables or patterns). */
function makefileTargets(): Set<string> {
  const text = Deno.readTextFileSync(`${REPOSITORY_ROOT}/Makefile`);
  const targets = new Set<string>();
  for (const match of text.matchAll(/^([A-Za-z][A-Za-z0-9_-]*)\s*:(?!=)/gm)) targets.add(match[1]);
  return targets;
}

function dockerIgnored(): string[] {
  return Deno.readTextFileSync(`${REPOSITORY_ROOT}/.dockerignore`).split("\n")
    .map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
}

Deno.test("Dockerfile: the Triton version is a build argument naming Triton's image for every stage", () => {
  const version = DOCKERFILE.globalArgs.get("TRITON_VERSION");
  assert(version !== undefined, "no global ARG TRITON_VERSION");
  assertMatch(version, /^\d{2}\.\d{2}$/);
  assertEquals(
    DOCKERFILE.globalArgs.get("TRITON_IMAGE"),
    `nvcr.io/nvidia/tritonserver:${version}-py3`,
  );
  for (const each of DOCKERFILE.stages) {
    assertEquals(each.from, "${TRITON_IMAGE}", `stage ${each.name} must start from TRITON_IMAGE`);
  }
  assertEquals(DOCKERFILE.stages.map((each) => each.name), ["build", "triton-deno"]);
  assertEquals(DOCKERFILE.globalArgs.get("BACKEND_DIR"), TRITON_BACKEND_DIR);
});

Deno.test("Dockerfile: the build stage installs packages, then runs only the Makefile's targets", () => {
  const targets = makefileTargets();
  const commands = run(stage("build"));
  const [packages, ...makes] = commands;
  assertMatch(packages, /^apt-get update && apt-get install /);
  const installed = new Set(packages.split(/\s+/));
  // What the Makefile runs: $(CC) (gcc) and its C library headers, make, npm (the pinned deno).
  for (const tool of ["gcc", "libc6-dev", "make", "npm"]) {
    assert(installed.has(tool), `the build stage does not install ${tool}`);
  }
  assert(makes.length > 0, "no make in the build stage");
  for (const command of makes) {
    const words = command.split(/\s+/);
    assertEquals(words[0], "make", `not a make target: RUN ${command}`);
    for (const word of words.slice(1).filter((w) => !w.includes("=") && !w.startsWith("-"))) {
      assert(targets.has(word), `RUN ${command}: the Makefile has no target '${word}'`);
    }
  }
  assertEquals(makes.at(-1), "make install PREFIX=${BACKEND_DIR}");
});

Deno.test("Dockerfile: what it copies from the context exists and is not ignored; the build never enters", () => {
  const ignored = dockerIgnored();
  for (const required of [".git", "build", "build-asan", "tools/deno/node_modules"]) {
    assert(ignored.includes(required), `.dockerignore does not exclude ${required}`);
  }
  for (const copy of copies(stage("build"))) {
    assertEquals(copy.from, undefined);
    for (const source of copy.sources) {
      Deno.statSync(`${REPOSITORY_ROOT}/${source}`); // throws if missing
      for (const pattern of ignored) {
        assert(
          source !== pattern && !source.startsWith(`${pattern}/`),
          `COPY ${source} is excluded by .dockerignore (${pattern})`,
        );
      }
    }
  }
});

function copyTree(from: string, to: string): void {
  const info = Deno.statSync(from);
  if (info.isFile) {
    Deno.mkdirSync(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    Deno.copyFileSync(from, to);
    return;
  }
  Deno.mkdirSync(to, { recursive: true });
  for (const entry of Deno.readDirSync(from)) {
    if (entry.isSymlink) {
      Deno.symlinkSync(Deno.readLinkSync(`${from}/${entry.name}`), `${to}/${entry.name}`);
    } else copyTree(`${from}/${entry.name}`, `${to}/${entry.name}`);
  }
}

async function canUnshareNetwork(): Promise<boolean> {
  try {
    const { code } = await new Deno.Command("unshare", {
      args: ["--net", "--", "true"],
      stdout: "null",
      stderr: "null",
    }).output();
    return code === 0;
  } catch {
    return false;
  }
}

/** Where a COPY puts a source, relative to the context's copy (WORKDIR is the root). */
function destinationOf(copy: CopySpec, source: string): string {
  const name = source.slice(source.lastIndexOf("/") + 1);
  if (copy.destination === "./") return name;
  if (copy.destination.endsWith("/")) return `${copy.destination}${name}`;
  return copy.destination;
}

Deno.test({
  name:
    "Dockerfile: replaying the build stage on what it copies makes every path the final stage copies",
  ignore: ASAN_PHASE,
  async fn() {
    const build = stage("build");
    const workdir = build.instructions.find((i) => i.keyword === "WORKDIR")?.args;
    assertEquals(workdir, "/src");
    const work = await Deno.makeTempDir({ prefix: "tdn_dockerfile_" });
    try {
      const context = `${work}/src`;
      for (const copy of copies(build)) {
        for (const source of copy.sources) {
          copyTree(`${REPOSITORY_ROOT}/${source}`, `${context}/${destinationOf(copy, source)}`);
        }
      }
      // What `RUN make deno` and the install's first dependency fetch leave behind, as this
      // checkout's build made them from the same lock files: the replay needs no network.
      copyTree(`${REPOSITORY_ROOT}/tools/deno/node_modules`, `${context}/tools/deno/node_modules`);
      const deno = `${context}/tools/deno/node_modules/@deno/linux-x64-glibc/deno`;
      const later = new Date(Date.now() + 2000);
      Deno.utimeSync(deno, later, later);
      copyTree(`${buildPaths().backendDir}/deno_dir/npm`, `${context}/build/deno/deno_dir/npm`);

      const root = `${work}/image`;
      const values = new Map(DOCKERFILE.globalArgs);
      values.set("BACKEND_DIR", `${root}${DOCKERFILE.globalArgs.get("BACKEND_DIR")}`);
      // Without a network when one can be taken away: everything it needs was copied.
      const offline = await canUnshareNetwork() ? ["unshare", "--net", "--"] : [];
      for (const command of run(build).slice(1)) {
        const words = [...offline, ...expand(command, values).split(/\s+/)];
        const output = await new Deno.Command(words[0], {
          args: words.slice(1),
          cwd: context,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(output.stdout) +
          new TextDecoder().decode(output.stderr);
        assertEquals(output.code, 0, `RUN ${command} failed in the replay:\n${text}`);
      }

      const final = stage("triton-deno");
      const finalCopies = copies(final);
      assertEquals(finalCopies.length, 1);
      for (const copy of finalCopies) {
        assertEquals(copy.from, "build");
        assertEquals(expand(copy.destination, DOCKERFILE.globalArgs), TRITON_BACKEND_DIR);
        for (const source of copy.sources) {
          const path = `${root}${expand(source, DOCKERFILE.globalArgs)}`;
          assert(Deno.statSync(path).isDirectory, `${path} is not a directory`);
          for (const inside of ["libtriton_deno.so", "libtriton_deno_stub.so", "deno"]) {
            assert(Deno.statSync(`${path}/${inside}`).isFile, `${path}/${inside}`);
          }
          for (
            const inside of ["runtime/stub/main.ts", "sandbox/evaluate_main.ts", "deno_dir/npm"]
          ) {
            Deno.statSync(`${path}/${inside}`);
          }
        }
      }
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});
