import { assertStringIncludes } from "../../runtime/api/_test_assert.ts";
import { checkModelDirectory, ModelDirectoryError } from "./model_dir.ts";

/** A model directory in a fresh temporary folder, plus a file outside it. */
async function fixture(): Promise<{ root: string; model: string; outside: string }> {
  const root = await Deno.makeTempDir({ prefix: "tdn_model_dir_" });
  const model = `${root}/model`;
  await Deno.mkdir(`${model}/1/lib/deep`, { recursive: true });
  await Deno.writeTextFile(`${model}/config.pbtxt`, "");
  await Deno.writeTextFile(`${model}/1/model.ts`, "");
  await Deno.writeTextFile(`${model}/1/lib/deep/weights.bin`, "");
  const outside = `${root}/secret.txt`;
  await Deno.writeTextFile(outside, "secret");
  return { root, model, outside };
}

async function rejection(directory: string): Promise<string> {
  try {
    await checkModelDirectory(directory);
  } catch (error) {
    if (error instanceof ModelDirectoryError) return error.message;
    throw error;
  }
  throw new Error(`${directory} was accepted`);
}

Deno.test("model dir: links that stay inside are accepted, nested or not", async () => {
  const { root, model } = await fixture();
  try {
    await Deno.symlink(`${model}/1/lib/deep/weights.bin`, `${model}/1/weights.bin`);
    await Deno.symlink("../../config.pbtxt", `${model}/1/lib/config_link`);
    await Deno.symlink(`${model}/1/lib`, `${model}/1/lib_link`);
    await checkModelDirectory(model);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("model dir: a nested link to a file outside names the link and its target", async () => {
  const { root, model, outside } = await fixture();
  try {
    await Deno.symlink(outside, `${model}/1/lib/deep/leak`);
    const message = await rejection(model);
    assertStringIncludes(message, `${model}/1/lib/deep/leak`);
    assertStringIncludes(message, `(to ${await Deno.realPath(outside)})`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("model dir: relative escapes, directory links and dangling links are refused", async () => {
  for (
    const [target, expected] of [
      ["../../secret.txt", "points outside"],
      ["/etc", "points outside"],
      ["does_not_exist", "does not resolve"],
    ]
  ) {
    const { root, model } = await fixture();
    try {
      await Deno.symlink(target, `${model}/1/link`);
      assertStringIncludes(await rejection(model), expected);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  }
});

Deno.test("model dir: a model directory reached through a link is checked by its real path", async () => {
  const { root, model, outside } = await fixture();
  try {
    await Deno.symlink(model, `${root}/alias`);
    await checkModelDirectory(`${root}/alias`);
    await Deno.symlink(outside, `${model}/leak`);
    assertStringIncludes(await rejection(`${root}/alias`), "points outside");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("model dir: FIFOs are refused", async () => {
  const { root, model } = await fixture();
  try {
    const made = await new Deno.Command("mkfifo", { args: [`${model}/1/pipe`] }).output();
    if (made.code !== 0) throw new Error("mkfifo failed");
    assertStringIncludes(await rejection(model), "is a FIFO");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("model dir: a missing or relative directory is refused", async () => {
  assertStringIncludes(await rejection("/nonexistent/tdn/model"), "not a readable directory");
  assertStringIncludes(await rejection("models/x"), "not an absolute path");
});

Deno.test("model dir: a hard link (a second name, possibly outside) is refused", async () => {
  const { root, model, outside } = await fixture();
  try {
    await Deno.link(outside, `${model}/1/hard`);
    const message = await rejection(model);
    assertStringIncludes(message, `${model}/1/hard has 2 hard links`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("model dir: a file system mounted inside is refused", {
  // A mount needs CAP_SYS_ADMIN.
  ignore: Deno.uid() !== 0,
}, async () => {
  const { root, model } = await fixture();
  await Deno.mkdir(`${model}/1/mnt`);
  const mount = new Deno.Command("mount", { args: ["-t", "tmpfs", "none", `${model}/1/mnt`] });
  const mounted = (await mount.output()).code === 0;
  try {
    if (mounted) {
      assertStringIncludes(await rejection(model), `${model}/1/mnt is on another file system`);
    } else {
      console.warn("not checked: this root cannot mount a tmpfs");
    }
  } finally {
    if (mounted) await new Deno.Command("umount", { args: [`${model}/1/mnt`] }).output();
    await Deno.remove(root, { recursive: true });
  }
});
