/**
 * Real core: what Triton's clients see of a model that fails to load (the
 * load answer and the repository index) names the model-relative place
 * (`1/model.ts:LINE:COL`, the TypeScript error code) and no server path,
 * no `file:` URL, no Deno cache; Triton's log has the whole text with the
 * paths. On the stand-in core tests/model_errors_test.ts checks the same.
 *
 * @module
 */

import { assert, assertMatch, assertStringIncludes } from "../harness/assert.ts";
import { lineOf } from "../harness/fixtures.ts";
import { REPOSITORY_ROOT } from "../harness/paths.ts";
import { CoreError } from "../../runtime/core/mod.ts";
import { coreTest } from "./core_session.ts";

interface IndexEntry {
  name: string;
  reason?: string;
}

// Triton creates it (nothing is left behind when the test is skipped).
const LOG_FILE = `${Deno.env.get("TMPDIR") ?? "/tmp"}/core_load_errors_${crypto.randomUUID()}.log`;

/** Where a fixture's marker line is, in its `.broken` model file. */
function markerLine(fixture: string, marker: string): number {
  return lineOf(`${REPOSITORY_ROOT}/tests/fixtures/${fixture}/1/model.ts.broken`, marker);
}

function assertClientForm(text: string, repository: string): void {
  for (const part of [repository, "/tmp", "/root", "file://", "deno_dir", "runtime/"]) {
    assert(!text.includes(part), `what clients see names '${part}': ${text}`);
  }
}

coreTest("load errors name 1/model.ts:LINE:COL and no server path; Triton's log has the paths", {
  models: ["syntax_error", "type_error", "missing_model"],
  startupModels: [],
  logFile: LOG_FILE,
  realCoreOnly:
    "Triton's own load errors and log file (tests/model_errors_test.ts covers the stand-in)",
}, async (core, t) => {
  const cases = [
    {
      model: "syntax_error",
      place: new RegExp(
        `(?<![\\w/])1/model\\.ts:${markerLine("syntax_error", "SYNTAX ERROR HERE")}:\\d+`,
      ),
      words: "Expression expected",
    },
    {
      model: "type_error",
      place: new RegExp(
        `(?<![\\w/])1/model\\.ts:${markerLine("type_error", "TYPE ERROR HERE")}:\\d+`,
      ),
      words: "TS2322",
    },
    { model: "missing_model", place: /model file not found: 1\/model\.ts/, words: "not found" },
  ];
  try {
    for (const { model, place, words } of cases) {
      await t.step(model, async () => {
        const error = await core.server.loadModel(model).then(() => undefined, (e) => e);
        assert(error instanceof CoreError, `${model} loaded`);
        assertMatch(error.message, place);
        assertStringIncludes(error.message, words);
        assertClientForm(error.message, core.repository);
        const entry = (core.server.repositoryIndex() as IndexEntry[])
          .find((e) => e.name === model);
        assertMatch(entry?.reason ?? "", place);
        assertClientForm(entry?.reason ?? "", core.repository);
        assertStringIncludes(
          Deno.readTextFileSync(LOG_FILE),
          `${core.repository}/${model}/1/model.ts`,
        );
      });
    }
  } finally {
    Deno.removeSync(LOG_FILE, { recursive: true });
  }
});
