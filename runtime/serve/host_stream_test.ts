/**
 * The streaming path against the real test host (build/libtriton_host.so):
 * this file plays a decoupled backend through the host's TRITONBACKEND_*
 * functions while pumpResponses reads the responses as they are sent.
 */
import { fileURLToPath } from "node:url";
import { dataTypeCode } from "../api/datatype.ts";
import { cString, openHostLibrary } from "../../ffi/host/bindings.ts";
import { assert, assertEquals } from "./_test_assert.ts";
import { bytesData, readStrings } from "./_test_fakes.ts";
import { pumpResponses } from "./host_stream.ts";
import { ResponseChannel } from "./response_channel.ts";
import type { InferResult } from "./types.ts";

const HOST_LIBRARY = fileURLToPath(new URL("../../build/libtriton_host.so", import.meta.url));

/** The TRITONBACKEND_ functions a decoupled backend calls, as the host exports them. */
const BACKEND_SYMBOLS = {
  TRITONBACKEND_ResponseFactoryNew: { parameters: ["buffer", "pointer"], result: "pointer" },
  TRITONBACKEND_ResponseFactoryDelete: { parameters: ["pointer"], result: "pointer" },
  TRITONBACKEND_ResponseFactorySendFlags: { parameters: ["pointer", "u32"], result: "pointer" },
  TRITONBACKEND_ResponseNewFromFactory: { parameters: ["buffer", "pointer"], result: "pointer" },
  TRITONBACKEND_ResponseOutput: {
    parameters: ["pointer", "buffer", "buffer", "u32", "buffer", "u32"],
    result: "pointer",
  },
  TRITONBACKEND_OutputBuffer: {
    parameters: ["pointer", "buffer", "u64", "buffer", "buffer"],
    result: "pointer",
  },
  TRITONBACKEND_ResponseSetIntParameter: {
    parameters: ["pointer", "buffer", "i64"],
    result: "pointer",
  },
  TRITONBACKEND_ResponseSend: { parameters: ["pointer", "u32", "pointer"], result: "pointer" },
  TRITONBACKEND_RequestRelease: { parameters: ["pointer", "u32"], result: "pointer" },
  TRITONBACKEND_RequestIsCancelled: { parameters: ["pointer", "buffer"], result: "pointer" },
  TRITONSERVER_ErrorNew: { parameters: ["u32", "buffer"], result: "pointer" },
  TRITONSERVER_ErrorDelete: { parameters: ["pointer"], result: "void" },
} as const;

const RESPONSE_COMPLETE_FINAL = 1;
const REQUEST_RELEASE_ALL = 1;

/** A decoupled backend's side of one request, driven by the test. */
class FakeBackend {
  readonly #backend: Deno.DynamicLibrary<typeof BACKEND_SYMBOLS>;
  readonly #request: Deno.PointerObject;
  readonly #factory: Deno.PointerValue;

  constructor(backend: Deno.DynamicLibrary<typeof BACKEND_SYMBOLS>, request: Deno.PointerObject) {
    this.#backend = backend;
    this.#request = request;
    const out = new BigUint64Array(1);
    check(backend.symbols.TRITONBACKEND_ResponseFactoryNew(out, request));
    this.#factory = Deno.UnsafePointer.create(out[0]);
  }

  /** Sends one response with a TOKEN output and an INT parameter (or an error). */
  send(token: string | Error, flags = 0): void {
    const symbols = this.#backend.symbols;
    const out = new BigUint64Array(1);
    check(symbols.TRITONBACKEND_ResponseNewFromFactory(out, this.#factory));
    const response = Deno.UnsafePointer.create(out[0]);
    let error: Deno.PointerValue = null;
    if (token instanceof Error) {
      error = symbols.TRITONSERVER_ErrorNew(3, cString(token.message));
    } else {
      const data = bytesData([token]);
      check(symbols.TRITONBACKEND_ResponseOutput(
        response,
        out,
        cString("TOKEN"),
        dataTypeCode("BYTES"),
        new BigInt64Array([1n]),
        1,
      ));
      const output = Deno.UnsafePointer.create(out[0]);
      const buffer = new BigUint64Array(1);
      check(symbols.TRITONBACKEND_OutputBuffer(
        output,
        buffer,
        BigInt(data.byteLength),
        new Int32Array(1),
        new BigInt64Array(1),
      ));
      const target = Deno.UnsafePointer.create(buffer[0])!;
      new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(target, data.byteLength)).set(data);
      check(
        symbols.TRITONBACKEND_ResponseSetIntParameter(
          response,
          cString("length"),
          BigInt(token.length),
        ),
      );
    }
    check(symbols.TRITONBACKEND_ResponseSend(response, flags, error));
    if (error !== null) symbols.TRITONSERVER_ErrorDelete(error);
  }

  /** Ends the stream without a response (as `ResponseSender.close()`). */
  finish(): void {
    check(this.#backend.symbols.TRITONBACKEND_ResponseFactorySendFlags(
      this.#factory,
      RESPONSE_COMPLETE_FINAL,
    ));
    check(this.#backend.symbols.TRITONBACKEND_ResponseFactoryDelete(this.#factory));
  }

  /** Deletes the factory without sending FINAL (a backend bug). */
  abandon(): void {
    check(this.#backend.symbols.TRITONBACKEND_ResponseFactoryDelete(this.#factory));
  }

  release(): void {
    check(this.#backend.symbols.TRITONBACKEND_RequestRelease(this.#request, REQUEST_RELEASE_ALL));
  }

  cancelled(): boolean {
    const flag = new Uint8Array(1);
    check(this.#backend.symbols.TRITONBACKEND_RequestIsCancelled(this.#request, flag));
    return flag[0] !== 0;
  }
}

function check(error: Deno.PointerValue): void {
  if (error !== null) throw new Error("a TRITONBACKEND_ call failed");
}

function open() {
  const host = openHostLibrary(HOST_LIBRARY);
  const backend = Deno.dlopen(HOST_LIBRARY, BACKEND_SYMBOLS);
  const request = host.symbols.host_request_new(cString("s1"), 0n, cString(""), 0, 0n)!;
  const channel = new ResponseChannel();
  const pump = pumpResponses(host, request, channel, {
    model: "stream_text",
    requestId: "s1",
    requestedOutputs: [],
    aborted: () => undefined,
  });
  return {
    channel,
    pump,
    fake: new FakeBackend(backend, request),
    close() {
      backend.close();
      host.close();
    },
  };
}

function tokens(result: InferResult): string {
  if (!result.ok) return `error: ${result.message}`;
  const output = result.outputs[0];
  const bytes = new Uint8Array(output.byteSize);
  output.read(bytes);
  return `${readStrings(bytes)[0]}/${result.parameters.length}`;
}

Deno.test("host_stream: responses arrive one by one, before the final one is sent", async () => {
  const { channel, pump, fake, close } = open();
  try {
    fake.release(); // A decoupled backend may release first and answer later.
    fake.send("hello");
    assertEquals(tokens((await channel.next())!), "hello/5");
    fake.send("streaming");
    assertEquals(tokens((await channel.next())!), "streaming/9");
    fake.send(new Error("the third word failed"));
    assertEquals(tokens((await channel.next())!), "error: the third word failed");
    fake.finish(); // FINAL without a response: no event.
    assertEquals(await channel.next(), undefined);
    await pump;
    assert(channel.ended);
  } finally {
    close();
  }
});

Deno.test("host_stream: a final response ends the stream; cancellation reaches the model", async () => {
  const { channel, pump, fake, close } = open();
  try {
    assert(!fake.cancelled());
    channel.cancel();
    assert(fake.cancelled(), "TRITONBACKEND_RequestIsCancelled sees the client go");
    fake.send("last", RESPONSE_COMPLETE_FINAL);
    fake.release();
    assertEquals(tokens((await channel.next())!), "last/4");
    assertEquals(await channel.next(), undefined);
    await pump;
  } finally {
    close();
  }
});

Deno.test("host_stream: a request released with nothing left to answer it is an error", async () => {
  const { channel, pump, fake, close } = open();
  try {
    fake.send("only");
    fake.release();
    assertEquals(tokens((await channel.next())!), "only/4");
    fake.abandon(); // The factory goes without FINAL: nothing can answer any more.
    assertEquals(
      tokens((await channel.next())!),
      "error: model 'stream_text' released request 's1' without sending a final response",
    );
    assertEquals(await channel.next(), undefined);
    await pump;
  } finally {
    close();
  }
});
