/**
 * What each hostile fixture (tests/hostile/models/<name>/) must run into.
 * hostile_test.ts loads every one beside a healthy add_sub, sends it an
 * "attack" request and then a benign one, and checks these expectations.
 *
 * @module
 */

/** Where an attack must be stopped. */
export type Outcome =
  /** The model never loads; `error` matches the load error. */
  | "load"
  /** The attack request fails; `error` matches its message. */
  | "request"
  /** The attack request is answered (printing is allowed, only bounded). */
  | "answered"
  /** Either: the model only hurts its own request (shared-memory scribbling). */
  | "contained";

/** One case of the table. */
export interface HostileCase {
  /** The fixture's directory name (and model name). */
  name: string;
  /** The category of the list it covers. */
  category: string;
  /** Where the attack is stopped. */
  outcome: Outcome;
  /** What the load or request error must say. */
  error?: RegExp;
  /** What Triton's log must say about it (after the model's own prefix where there is one). */
  log?: RegExp;
  /** The model answers a benign request afterwards (default true for request outcomes). */
  servesAfterwards?: boolean;
  /** The most log lines the model's instance may have produced (floods). */
  maxLogLines?: number;
}

/** `denied <permission> access to "<target>"`, as the stub reports a denial. */
function denied(permission: string, target?: string | RegExp): RegExp {
  if (target === undefined) return new RegExp(`denied ${escape(permission)} access`);
  const quoted = typeof target === "string" ? escape(JSON.stringify(target)) : `"${target.source}"`;
  return new RegExp(`denied ${escape(permission)} access to ${quoted}`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

const REQUIRES = (permission: string) => new RegExp(`Requires ${permission} access`);
const NET = /127\.0\.0\.1:\d+/;
const DEADLINE = /exceeded the 1000 ms deadline/;
const CRASH = /(killed by signal|exited with status) .*during execute|during execute/;
const LIMIT = /resource limit reached/;
const GONE = /Cannot read properties of undefined|is not a constructor/;

/** The table: every fixture under tests/hostile/models/ appears once. */
// deno-fmt-ignore
export const HOSTILE_CASES: readonly HostileCase[] = [
  // Reads outside the model directory.
  { name: "read_absolute", category: "reads outside", outcome: "request", error: REQUIRES("read"), log: denied("read", "/etc/passwd") },
  { name: "read_dotdot", category: "reads outside", outcome: "request", error: REQUIRES("read"), log: denied("read", "/etc/hostname") },
  { name: "read_symlink", category: "reads outside", outcome: "load", error: /symbolic link .*leak .*points outside the model directory/ },
  { name: "read_hardlink", category: "reads outside", outcome: "load", error: /hard has 2 hard links/ },
  { name: "read_proc_self_environ", category: "reads outside", outcome: "request", error: REQUIRES("read"), log: denied("read", "/proc/self/environ") },
  { name: "read_proc_self_maps", category: "reads outside", outcome: "request", error: REQUIRES("read"), log: denied("read", "/proc/self/maps") },
  { name: "read_proc_parent", category: "reads outside", outcome: "request", error: REQUIRES("read"), log: denied("read", /\/proc\/\d+\/cmdline/) },
  { name: "read_node_fs", category: "reads outside", outcome: "request", error: REQUIRES("read"), log: denied("read", "/etc/passwd") },
  { name: "read_fetch_file", category: "reads outside", outcome: "request", error: REQUIRES("read"), log: denied("read", "/etc/passwd") },
  { name: "read_list_root", category: "reads outside", outcome: "request", error: REQUIRES("read"), log: denied("read", "/") },
  // Deno.chdir("/"): it would move the trusted main thread too; refused before any permission check.
  { name: "read_chdir_root", category: "working directory", outcome: "request", error: /Deno\.chdir\(\) is disabled/, log: denied("chdir", "Deno.chdir") },
  { name: "read_runtime_source", category: "reads outside", outcome: "request", error: REQUIRES("read"), log: denied("read", /[^"]*\/runtime\/stub\/main\.ts/) },
  // Writes.
  { name: "write_tmp", category: "writes", outcome: "request", error: REQUIRES("write"), log: denied("write", "/tmp/tdn_hostile_written") },
  { name: "write_check_verdict", category: "writes", outcome: "request", error: REQUIRES("write"), log: denied("write", /[^"]*\/deno_dir\/check_verdicts\/0{64}/) },
  { name: "write_own_directory", category: "writes", outcome: "request", error: REQUIRES("write"), log: denied("write", /[^"]*\/write_own_directory\/1\/planted\.js/) },
  { name: "write_temp_file", category: "writes", outcome: "request", error: REQUIRES("write"), log: denied("write") },
  { name: "write_symlink", category: "writes", outcome: "request", error: /requires unscoped --allow-read and --allow-write/, log: denied("read+write", "Deno.symlinkSync()") },
  // Environment.
  { name: "env_get", category: "environment", outcome: "request", error: REQUIRES("env"), log: denied("env", "HOME") },
  { name: "env_to_object", category: "environment", outcome: "request", error: REQUIRES("env"), log: denied("env") },
  { name: "env_process_env", category: "environment", outcome: "request", error: REQUIRES("env"), log: denied("env", "PATH") },
  // System information.
  { name: "sys_hostname", category: "system information", outcome: "request", error: REQUIRES("sys"), log: denied("sys", "hostname") },
  { name: "sys_network_interfaces", category: "system information", outcome: "request", error: REQUIRES("sys"), log: denied("sys", "networkInterfaces") },
  { name: "sys_node_cpus", category: "system information", outcome: "request", error: REQUIRES("sys"), log: denied("sys", "cpus") },
  // Subprocesses.
  { name: "run_shell", category: "subprocess", outcome: "request", error: REQUIRES("run"), log: denied("run", "/bin/sh") },
  { name: "run_child_process", category: "subprocess", outcome: "request", error: /Requires (run|env) access/, log: /denied (run|env) access/ },
  { name: "run_deno", category: "subprocess", outcome: "request", error: REQUIRES("run"), log: denied("run", /[^"]*deno/) },
  // Signals to other processes.
  { name: "signal_kill_parent", category: "signals", outcome: "request", error: REQUIRES("run"), log: denied("run") },
  { name: "signal_kill_group", category: "signals", outcome: "request", error: REQUIRES("run"), log: denied("run") },
  { name: "signal_listener", category: "signals", outcome: "request", error: /cannot listen for signals/, log: denied("signal", "SIGTERM") },
  // Network to undeclared hosts and ports.
  { name: "net_fetch", category: "network", outcome: "request", error: REQUIRES("net"), log: denied("net", NET) },
  { name: "net_connect", category: "network", outcome: "request", error: REQUIRES("net"), log: denied("net", NET) },
  { name: "net_websocket", category: "network", outcome: "request", error: REQUIRES("net"), log: denied("net", NET) },
  { name: "net_listen", category: "network", outcome: "request", error: REQUIRES("net"), log: denied("net", "127.0.0.1:0") },
  { name: "net_other_port", category: "network", outcome: "request", error: REQUIRES("net"), log: denied("net", NET) },
  { name: "net_localhost_alias", category: "network", outcome: "request", error: REQUIRES("net"), log: denied("net", "127.0.0.1:9") },
  // DNS.
  { name: "dns_resolve", category: "DNS", outcome: "request", error: REQUIRES("net"), log: denied("net", /[^"]+:53/) },
  { name: "dns_node_lookup", category: "DNS", outcome: "request", error: /EPERM|Requires net access/, log: denied("net", "example.com") },
  // FFI and native addons.
  { name: "ffi_dlopen", category: "FFI", outcome: "request", error: REQUIRES("ffi"), log: denied("ffi", "libc.so.6") },
  { name: "ffi_native_addon", category: "FFI", outcome: "request", error: REQUIRES("ffi"), log: denied("ffi", /[^"]*addon\.node/) },
  // Dynamic imports outside the model directory.
  { name: "import_absolute", category: "imports outside", outcome: "request", error: REQUIRES("read"), log: denied("read", "/tmp/tdn_hostile_outside.js") },
  { name: "import_relative", category: "imports outside", outcome: "request", error: REQUIRES("read"), log: denied("read", /[^"]*\/outside_module\.js/) },
  // The load error shows clients no server path; Triton's log has it.
  { name: "import_static", category: "imports outside", outcome: "load", error: /Requires read access to "<server path>"/, log: /Requires read access to "[^"]*\/outside_module\.js"/ },
  { name: "import_runtime", category: "imports outside", outcome: "request", error: REQUIRES("read"), log: denied("read", /[^"]*\/runtime\/stub\/main\.ts/) },
  // Remote and npm imports at run time.
  { name: "import_remote", category: "remote imports", outcome: "request", error: REQUIRES("import"), log: denied("import", "example.com:443") },
  { name: "import_npm", category: "remote imports", outcome: "request", error: /--cached-only/, log: denied("import", "npm:left-pad") },
  // The runtime's internals, and the runtime in the model's own realm.
  { name: "deno_internal", category: "Deno[Deno.internal]", outcome: "request", error: GONE, log: denied("internal", "Deno[Deno.internal]") },
  { name: "pollution_result_writer", category: "prototype pollution", outcome: "request", error: /broke the protocol/, log: /broke the protocol/ },
  { name: "pollution_array_map", category: "prototype pollution", outcome: "request", error: /Failed to process the request|response/, servesAfterwards: false },
  // Storage shared across models.
  { name: "storage_cache_api", category: "localStorage and Cache API", outcome: "request", error: GONE, log: denied("storage", "caches") },
  { name: "storage_local_storage", category: "localStorage and Cache API", outcome: "request", error: GONE, log: denied("storage", "localStorage") },
  // WebGPU.
  { name: "webgpu", category: "WebGPU", outcome: "request", error: GONE, log: denied("gpu", "navigator.gpu") },
  // Memory, Workers, time.
  { name: "heap_bomb", category: "heap bomb", outcome: "request", error: /stub for instance 'heap_bomb_0' .*during execute/, log: CRASH },
  { name: "arraybuffer_bomb", category: "ArrayBuffer bomb", outcome: "request", error: /Array buffer allocation failed/, log: LIMIT },
  { name: "wasm_memory_bomb", category: "Wasm memory bomb", outcome: "request", error: /WebAssembly\.Memory/, log: LIMIT },
  { name: "worker_spam", category: "worker spam", outcome: "request", error: GONE, log: denied("worker", "Worker") },
  { name: "worker_threads_spam", category: "worker spam", outcome: "request", error: /cannot start Workers/, log: denied("worker", "node:worker_threads Worker") },
  { name: "fd_exhaustion", category: "descriptor exhaustion", outcome: "request", error: /Too many open files/, log: LIMIT },
  { name: "busy_loop", category: "infinite loop", outcome: "request", error: DEADLINE, log: DEADLINE },
  { name: "atomics_wait", category: "Atomics.wait forever", outcome: "request", error: DEADLINE, log: DEADLINE },
  { name: "deno_exit", category: "Deno.exit", outcome: "request", error: /Deno\.exit\(\) is disabled/, log: denied("exit", "Deno.exit") },
  { name: "self_close", category: "Deno.exit", outcome: "request", error: /close\(\) is disabled/, log: denied("exit", "close") },
  // Deno itself refuses a Worker's process.chdir (runtime/worker/harden_realm.ts); the log names it.
  { name: "process_chdir", category: "working directory", outcome: "request", error: /process\.chdir\(\) is not supported in workers/, log: denied("chdir", "process.chdir") },
  { name: "process_stdin", category: "standard input", outcome: "request", error: /standard input is disabled for models/, log: denied("stdio", "standard input") },
  // Output.
  // At most: a burst of 20, 5 more a second for the ~1 s a case runs, and the rate-limit notices.
  { name: "stdout_flood", category: "stdout/stderr flooding", outcome: "answered", log: /log rate limit reached/, maxLogLines: 30 },
  { name: "stderr_flood", category: "stdout/stderr flooding", outcome: "answered", log: /log rate limit reached/, maxLogLines: 30 },
  { name: "stderr_descriptor_flood", category: "stdout/stderr flooding", outcome: "answered", log: /standard error: flood/, maxLogLines: 30 },
  // Descriptor 1 is the parent's doorbell: a flood there would keep a thread of Triton's spinning.
  { name: "doorbell_flood", category: "stdout/stderr flooding", outcome: "request", error: /broke the protocol/, log: /rang the parent's doorbell more than 4096 times .*descriptor 1/ },
  // Descriptor 0 is the stub's own doorbell: a read there blocks only the model's own Worker.
  { name: "doorbell_read", category: "the stub's descriptors", outcome: "request", error: DEADLINE, log: DEADLINE },
  { name: "huge_output", category: "huge and malformed outputs", outcome: "request", error: /above its limit of 1048576 bytes/, log: /outputs of \d+ bytes refused \(deno\.max_output_bytes is 1048576\)/ },
  { name: "malformed_output", category: "huge and malformed outputs", outcome: "request", error: /InferenceResponse|response/ },
  // The shared memory.
  // It goes on scribbling over its own region for 300 ms after the attack, so
  // its own next request may fail too (clearly); the model beside it is checked.
  { name: "scribble_arena", category: "scribbling over the shared memory", outcome: "contained", servesAfterwards: false },
  { name: "scribble_control", category: "scribbling over the shared memory", outcome: "request", error: /broke the protocol|unusable|stub for instance 'scribble_control_0'/, log: /broke the protocol|unusable RESULT/ },
  // Asking for more.
  { name: "escalate_permissions", category: "permission escalation", outcome: "request", error: REQUIRES("read"), log: denied("read", "/etc/passwd") },
];
