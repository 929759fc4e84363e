import { assertEquals } from "../_test_assert.ts";
import { grpc } from "./service.ts";
import { GrpcStatus } from "./status.ts";

// grpc_js.d.ts declares the library's `status` as GrpcStatus: the numbers must be the same.
Deno.test("grpc status: GrpcStatus holds the gRPC library's own status numbers", () => {
  const names = Object.keys(GrpcStatus).filter((key) => Number.isNaN(Number(key)));
  assertEquals(names.length, 17);
  for (const name of names) {
    const ours = GrpcStatus[name as keyof typeof GrpcStatus];
    const theirs = (grpc.status as unknown as Record<string, number>)[name];
    assertEquals(theirs, ours, name);
  }
  assertEquals(Object.keys(grpc.status).length, Object.keys(GrpcStatus).length);
});
