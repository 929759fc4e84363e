import { assert, assertEquals, assertStringIncludes } from "./_test_assert.ts";
import { ServeError } from "./errors.ts";
import { ModelManager } from "./model_manager.ts";

function repository(files: Record<string, string>, dirs: string[]): string {
  const root = Deno.makeTempDirSync({ prefix: "serve_manager_" });
  for (const dir of dirs) Deno.mkdirSync(`${root}/${dir}`, { recursive: true });
  for (const [path, text] of Object.entries(files)) Deno.writeTextFileSync(`${root}/${path}`, text);
  return root;
}

async function loadError(manager: ModelManager, name: string): Promise<string> {
  try {
    await manager.load(name);
  } catch (error) {
    assert(error instanceof ServeError, String(error));
    return error.message;
  }
  throw new Error(`model '${name}' loaded`);
}

Deno.test("model manager: a failed load names model-relative places; the log has the paths", async () => {
  const root = repository({
    "bad_syntax/config.pbtxt": 'backend: "deno"\nmax_batch_size: {',
    "broken/config.pbtxt": 'backend: "deno"',
  }, ["bad_syntax/1", "broken/1", "no_config/1"]);
  const log: string[] = [];
  // The backend's error as a stand-in would phrase it with a full path.
  const manager = new ModelManager(
    root,
    (spec) => Promise.reject(new Error(`${spec.directory}/1/model.ts does not type-check`)),
    { log: (line) => log.push(line) },
  );
  try {
    const cases: [string, string][] = [
      ["bad_syntax", "config.pbtxt:2:"],
      ["broken", "1/model.ts does not type-check"],
      ["no_config", "config.pbtxt does not exist"],
    ];
    for (const [name, where] of cases) {
      const message = await loadError(manager, name);
      assertStringIncludes(message, where);
      assert(!message.includes(root), message);
      assert(!message.includes("file://"), message);
      const reason = manager.report(name).reason;
      assertStringIncludes(reason, where);
      assert(!reason.includes(root), reason);
      const logged = log.find((line) => line.startsWith(`model '${name}' failed to load: `));
      assertStringIncludes(logged ?? "(no log line)", `${root}/${name}/`);
    }
    // A reason without paths is not logged again (the answer has it all).
    assertEquals(log.length, cases.length);
  } finally {
    await manager.unloadAll();
    Deno.removeSync(root, { recursive: true });
  }
});
