import {
  assert,
  assertEquals,
  assertStringIncludes,
  assertThrows,
} from "../../runtime/api/_test_assert.ts";
import {
  BUILT_IN_CEILING,
  ceilingFor,
  globToRegExp,
  parsePolicy,
  PolicyError,
} from "./policy_file.ts";

const POLICY = JSON.stringify({
  version: 1,
  default: {
    allow_read: ["/srv/shared/"],
    allow_env: ["API_TOKEN"],
    max_heap_mb: 512,
  },
  models: [
    { match: "vision_*", allow_net: ["api.internal:8080"], allow_gpu: true, max_heap_mb: 2048 },
    { match: "batch_[0-9]", allow_read: [] },
  ],
});

Deno.test("policy: no policy is the built-in ceiling", () => {
  assertEquals(ceilingFor(undefined, "anything"), BUILT_IN_CEILING);
});

Deno.test("policy: the first matching rule applies over the default", () => {
  const policy = parsePolicy(POLICY, "/etc/p.json");
  const vision = ceilingFor(policy, "vision_resnet");
  assertEquals(vision.read, ["/srv/shared"]);
  assertEquals(vision.net, [{ host: "api.internal", port: 8080 }]);
  assertEquals(vision.gpu, true);
  assertEquals(vision.limits.max_heap_mb, 2048);
  assertStringIncludes(vision.origin, 'models[0] (match "vision_*")');

  const batch = ceilingFor(policy, "batch_7");
  assertEquals(batch.read, []);
  assertEquals(batch.env, ["API_TOKEN"]);
  assertEquals(batch.limits.max_heap_mb, 512);

  const other = ceilingFor(policy, "add_sub");
  assertEquals(other.net, []);
  assertEquals(other.gpu, false);
  assertStringIncludes(other.origin, '"default"');
});

Deno.test("policy: calling and controlling models: any without a policy, only as written with one", () => {
  assertEquals(
    [BUILT_IN_CEILING.models, BUILT_IN_CEILING.modelControl],
    [["*"], ["*"]],
  );
  const policy = parsePolicy(
    JSON.stringify({
      version: 1,
      default: { allow_models: ["shared_*"] },
      models: [{
        match: "tenant_a_*",
        allow_models: ["tenant_a_*"],
        allow_model_control: ["tenant_a_tmp"],
      }],
    }),
    "p",
  );
  assertEquals(ceilingFor(policy, "other").models, ["shared_*"]);
  assertEquals(ceilingFor(policy, "other").modelControl, []);
  assertEquals(ceilingFor(policy, "tenant_a_1").models, ["tenant_a_*"]);
  assertEquals(ceilingFor(policy, "tenant_a_1").modelControl, ["tenant_a_tmp"]);
  const bare = parsePolicy('{"version":1}', "p");
  assertEquals([ceilingFor(bare, "m").models, ceilingFor(bare, "m").modelControl], [[], []]);
  assertThrows(
    () => parsePolicy('{"version":1,"default":{"allow_models":["a b"]}}', "p"),
    PolicyError,
    "default.allow_models.0",
  );
});

Deno.test("policy: without a default, unmatched models get the built-in ceiling", () => {
  const policy = parsePolicy('{"version":1,"models":[{"match":"x","allow_gpu":true}]}', "p");
  assertEquals(ceilingFor(policy, "y").gpu, false);
  assertStringIncludes(ceilingFor(policy, "y").origin, "no rule matches");
  assertEquals(ceilingFor(policy, "x").gpu, true);
});

Deno.test("policy: invalid files name the file and the field", () => {
  const cases: [string, string][] = [
    ["{", "is not JSON"],
    ['{"default":{}}', "version"],
    ['{"version":2}', "version"],
    ['{"version":1,"default":{"allow_run":["x"]}}', "allow_run"],
    ['{"version":1,"default":{"allow_read":["relative"]}}', "relative"],
    ['{"version":1,"default":{"allow_net":["bad host:1"]}}', "default.allow_net.0"],
    ['{"version":1,"default":{"allow_env":["LD_PRELOAD"]}}', "reserved"],
    ['{"version":1,"default":{"allow_sys":["setPriority"]}}', "allow_sys"],
    ['{"version":1,"default":{"max_heap_mb":"512"}}', "max_heap_mb"],
    ['{"version":1,"default":{"max_heap_mb":1.5}}', "max_heap_mb"],
    ['{"version":1,"models":[{"allow_gpu":true}]}', "models.0.match"],
    ['{"version":1,"models":[{"match":"[a"}]}', "unterminated"],
  ];
  for (const [text, expected] of cases) {
    const message = assertThrows(() => parsePolicy(text, "/etc/policy.json"), PolicyError).message;
    assertStringIncludes(message, "/etc/policy.json");
    assertStringIncludes(message, expected);
  }
});

Deno.test("policy: globs match whole names", () => {
  assert(globToRegExp("vision_*").test("vision_a"));
  assert(!globToRegExp("vision_*").test("my_vision_a"));
  assert(globToRegExp("m?").test("m1"));
  assert(!globToRegExp("m?").test("m12"));
  assert(globToRegExp("[!a]x").test("bx"));
  assert(!globToRegExp("[!a]x").test("ax"));
  assert(globToRegExp("a.b").test("a.b"));
  assert(!globToRegExp("a.b").test("axb"));
});
