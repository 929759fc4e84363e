import { assertEquals } from "../api/_test_assert.ts";
import { workerFailureText } from "./worker_failure.ts";

Deno.test("worker failure: clients see model-relative places and no server path; the log has all", () => {
  const { full, client } = workerFailureText({
    message: "cannot read /srv/secret/key",
    filename: "file:///models/m/1/model.ts",
    lineno: 4,
    colno: 9,
  }, "/models/m");
  assertEquals(
    full,
    "the model's Worker died: cannot read /srv/secret/key (file:///models/m/1/model.ts:4:9)",
  );
  assertEquals(client, "the model's Worker died: cannot read <server path> (1/model.ts:4:9)");
  const runtime = workerFailureText(
    { message: "boom", filename: "file:///opt/b/runtime/worker/main.ts", lineno: 1, colno: 2 },
    "/models/m",
  );
  assertEquals(runtime.client, "the model's Worker died: boom (<server path>:1:2)");
  assertEquals(
    workerFailureText({ message: "gone", filename: "", lineno: 0, colno: 0 }, "/models/m").client,
    "the model's Worker died: gone",
  );
});
