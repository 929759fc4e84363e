import { assert, assertEquals } from "./_test_assert.ts";
import * as api from "./mod.ts";

Deno.test("mod.ts exports the model-facing names of the new features", () => {
  const expected = [
    "AutoCompleteConfig",
    "BlsRequest",
    "LogLevel",
    "MAX_PARAMETERS",
    "MAX_PARAMETER_STRING_BYTES",
    "Metric",
    "MetricFamily",
    "logger",
    "models",
  ];
  for (const name of expected) assert(name in api, `mod.ts should export ${name}`);
});

Deno.test("mod.ts keeps the runtime's hooks out of the public API", () => {
  const internal = [
    "setLogSink",
    "droppedLogLines",
    "drainMetricOps",
    "METRIC_KIND_CODES",
    "setBlsTransport",
    "makeResponseSender",
    "makeRequest",
    "makeAutoCompleteConfig",
    "parametersFromWire",
    "parametersToWire",
    "checkResponse",
    "snapshotResponse",
  ];
  assertEquals(internal.filter((name) => name in api), []);
});
