import { assertEquals } from "../api/_test_assert.ts";
import type { SandboxRecord } from "../../sandbox/policy/sandbox_record.ts";
import { verdictDirectory } from "../../sandbox/checks/check_verdicts.ts";
import { verdictsApply } from "./prepare_model.ts";

const CACHE = verdictDirectory("/opt/backend");

function located(read: string[], write: string[] = []) {
  return { repository: "/models/m", sandbox: { read, write } as unknown as SandboxRecord };
}

Deno.test("verdicts apply to a model that reads only its own directory", () => {
  assertEquals(CACHE, "/opt/backend/deno_dir/check_verdicts");
  assertEquals(verdictsApply(located(["/models/m"]), CACHE), true);
  assertEquals(verdictsApply(located(["/models/m", "/models/m/1"], ["/tmp/out"]), CACHE), true);
});

Deno.test("verdicts do not apply where the model could write them or import unhashed code", () => {
  for (const root of ["/", "/opt", "/opt/backend/deno_dir", CACHE, `${CACHE}/`]) {
    assertEquals(verdictsApply(located(["/models/m"], [root]), CACHE), false, root);
  }
  assertEquals(verdictsApply(located(["/models/m", "/srv/shared"]), CACHE), false);
  assertEquals(verdictsApply(located(["/models/m", "/models/mx"]), CACHE), false);
});
