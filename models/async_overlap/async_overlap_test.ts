import {
  ErrorCode,
  type InferenceRequest,
  type InferenceResponse,
  TritonError,
} from "@triton/deno";
import { assert, assertEquals } from "../../runtime/api/_test_assert.ts";
import { checkResponse, makeRequest, makeResponseSender } from "../../runtime/api/internal.ts";
import { loadTestModelConfig, TestArena } from "../../runtime/api/test_support.ts";
import AsyncOverlap from "./1/model.ts";

const { config, args } = await loadTestModelConfig(new URL("./", import.meta.url));

/** A request whose final response lands in `sent`. */
function request(
  arena: TestArena,
  tag: number,
  delayMs: unknown,
  sent: InferenceResponse[],
): InferenceRequest {
  return makeRequest({
    id: `tag-${tag}`,
    correlationId: 0n,
    flags: 0,
    inputs: [arena.input("TAG", "INT32", [1], [tag])],
    requestedOutputNames: [],
    allocator: arena,
    parameters: { delay_ms: delayMs as number },
    decoupled: true,
    createResponseSender: () =>
      makeResponseSender({
        requestId: `tag-${tag}`,
        requestIndex: 0,
        transport: (_index, response, final) => {
          assert(final && response !== undefined, "one final response");
          sent.push(response);
        },
        isCancelled: () => false,
        checker: (response) => checkResponse(response, config, []),
      }),
  });
}

function running(response: InferenceResponse): number[] {
  return response.outputs.map((output) => (output.data as Int32Array)[0]);
}

Deno.test("async_overlap reports how many of its executes overlapped", async () => {
  const arena = new TestArena();
  const model = new AsyncOverlap();
  model.initialize(args);
  const sent: InferenceResponse[] = [];
  await Promise.all([
    model.execute([request(arena, 1, 60, sent)]),
    model.execute([request(arena, 2, 20, sent)]),
  ]);
  // [TAG, RUNNING]: the shorter one answers first; both saw two executes running.
  assertEquals(sent.map(running), [[2, 2], [1, 2]]);
  await model.execute([request(arena, 3, 0, sent)]);
  assertEquals(running(sent[2]), [3, 1]);
});

Deno.test("async_overlap refuses a malformed delay_ms", async () => {
  const model = new AsyncOverlap();
  model.initialize(args);
  let error: unknown;
  try {
    await model.execute([request(new TestArena(), 1, 1.5, [])]);
  } catch (caught) {
    error = caught;
  }
  assert(error instanceof TritonError, `expected a TritonError, got ${error}`);
  assertEquals([error.code, error.message], [
    ErrorCode.INVALID_ARG,
    "request 'tag-1': parameter delay_ms must be an integer from 0 to 60000, got 1.5",
  ]);
});
