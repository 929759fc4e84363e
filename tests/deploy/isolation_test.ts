import { assertEquals } from "../harness/assert.ts";
import { isolatedCommand, isUnder, traceViolations } from "./isolation.ts";

Deno.test("isolation: isUnder matches a root and what is below it, not a sibling prefix", () => {
  assertEquals(isUnder("/work/wt15", "/work/wt15"), true);
  assertEquals(isUnder("/work/wt15/runtime/x.ts", "/work/wt15/"), true);
  assertEquals(isUnder("/work/wt150/x", "/work/wt15"), false);
  assertEquals(isUnder("/work", "/work/wt15"), false);
});

Deno.test("isolation: traceViolations finds forbidden paths and IP connections, nothing else", () => {
  const log = [
    '101 openat(AT_FDCWD, "/opt/deno/runtime/stub/main.ts", O_RDONLY|O_CLOEXEC) = 3',
    '101 openat(AT_FDCWD, "/work/wt15/build/deno/deno_dir/npm", O_RDONLY) = -1 ENOENT (No such file)',
    '102 stat("/root/.npmrc", 0x7ffc) = -1 ENOENT (No such file or directory)',
    '103 connect(24, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}, 16) = -1 ENETUNREACH',
    "103 connect(25, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0)}, 28) = -1",
    '104 connect(9, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT',
    '105 bind(7, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    '106 execve("/opt/deno/deno", ["/opt/deno/deno", "run", "/work/wt15x/a.ts"], 0x1 /* 4 vars */) = 0',
  ].join("\n");
  const found = traceViolations(log, ["/work/wt15", "/root/.npmrc"]);
  assertEquals(found.map((line) => line.split(" ")[0]), ["101", "102", "103", "103"]);
});

Deno.test("isolation: the command runs as is without a mount namespace, wrapped with one", () => {
  const run = { hideDirectories: ["/src"], hideFiles: ["/h/.npmrc"], readOnly: ["/opt/d"] };
  const command = ["/opt/d/deno", "run", "x.ts"];
  const none = { mount: false, network: false, trace: false, missing: [] };
  assertEquals(isolatedCommand(none, { ...run, command }), command);
  const full = { mount: true, network: true, trace: true, missing: [] };
  const wrapped = isolatedCommand(full, { ...run, command });
  assertEquals(wrapped.slice(0, 6), [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "--net",
    "--fork",
  ]);
  assertEquals(wrapped.slice(-10), [
    "net",
    "1",
    "/src",
    "1",
    "/h/.npmrc",
    "1",
    "/opt/d",
    ...command,
  ]);
});

Deno.test("isolation: loopback is not the network only in a network namespace of its own", () => {
  const log = [
    '201 connect(59, {sa_family=AF_INET, sin_port=htons(38765), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS',
    '202 connect(60, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("10.1.2.3")}, 16) = -1 ENETUNREACH',
  ].join("\n");
  assertEquals(traceViolations(log, []).map((line) => line.split(" ")[0]), ["201", "202"]);
  assertEquals(
    traceViolations(log, [], { privateLoopback: true }).map((line) => line.split(" ")[0]),
    ["202"],
  );
});
