/**
 * The inside of the offline install test (tests/deploy/install_test.ts).
 * That test copies this file out of the checkout and runs it, with the
 * installed `deno`, where the checkout, npm's cache and the user's Deno
 * cache are hidden and there is no network. So it imports nothing: only
 * Deno's built-in APIs.
 *
 * It starts the server command it is given (`deno task serve`'s main from a
 * copy, loading the installed backend directory, through Triton's core or
 * the stand-in), waits until it listens, asks every model's readiness and
 * serves a few requests, then records every process of the server's tree
 * (the server, the stubs, their type checks and policy evaluations): its
 * executable, working directory, command line, environment, mapped files and
 * open descriptors. It stops the server with SIGTERM and prints one JSON
 * report on standard output; the test judges it.
 *
 * ```
 * deno run -A offline_scenario.ts <config.json>
 * ```
 *
 * @module
 */

/** What the test asks for (the JSON file named on the command line). */
export interface ScenarioConfig {
  /** The server's command line: argv[0] is the program (strace when tracing). */
  command: string[];
  /** The server's whole environment. */
  env: Record<string, string>;
  /** Models whose readiness is asked. */
  models: string[];
  /** How long the server may take to listen, in milliseconds. */
  startTimeoutMs: number;
  /** A substring of the server process's command line (to find it below a tracer). */
  serverMarker: string;
}

/** One request and what came back. */
export interface Exchange {
  /** What was asked. */
  name: string;
  /** The HTTP status (0 when the request failed). */
  status: number;
  /** The body (or the error). */
  body: string;
}

/** What a process of the server's tree had open, mapped and inherited. */
export interface ProcessRecord {
  /** Its pid. */
  pid: number;
  /** Its command line. */
  cmdline: string[];
  /** `/proc/<pid>/exe`. */
  exe: string;
  /** `/proc/<pid>/cwd`. */
  cwd: string;
  /** Its environment, `NAME=value`. */
  environ: string[];
  /** The files it maps. */
  maps: string[];
  /** Where its descriptors point. */
  fds: string[];
}

/** The report printed on standard output. */
export interface ScenarioReport {
  /** The address served, or "" when the server never listened. */
  url: string;
  /** Readiness, then the requests. */
  exchanges: Exchange[];
  /** The server's tree while it served. */
  processes: ProcessRecord[];
  /** The server's pid (below the tracer, if any). */
  serverPid: number;
  /** The command's exit code after SIGTERM. */
  exitCode: number;
  /** Everything the server wrote. */
  log: string;
}

const config: ScenarioConfig = JSON.parse(Deno.readTextFileSync(Deno.args[0]));

function readLink(path: string): string {
  try {
    return Deno.readLinkSync(path);
  } catch (error) {
    return `<${error instanceof Error ? error.name : "error"}>`;
  }
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Pids whose parent is in `roots`, transitively, roots included. */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readText(`/proc/${entry.name}/stat`);
    // pid (comm) state ppid ...: comm may hold spaces and parentheses.
    const after = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (after.length > 1) parents.set(Number(entry.name), Number(after[1]));
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, parent] of parents) {
      if (parent === tree[i] && !tree.includes(pid)) tree.push(pid);
    }
  }
  return tree;
}

function recordProcess(pid: number): ProcessRecord {
  const maps = new Set<string>();
  for (const line of readText(`/proc/${pid}/maps`).split("\n")) {
    const path = line.split(/\s+/).slice(5).join(" ");
    if (path.startsWith("/")) maps.add(path);
  }
  const fds: string[] = [];
  try {
    for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
      fds.push(readLink(`/proc/${pid}/fd/${fd.name}`));
    }
  } catch { /* it ended */ }
  return {
    pid,
    cmdline: readText(`/proc/${pid}/cmdline`).split("\0").filter((part) => part !== ""),
    exe: readLink(`/proc/${pid}/exe`),
    cwd: readLink(`/proc/${pid}/cwd`),
    environ: readText(`/proc/${pid}/environ`).split("\0").filter((part) => part !== ""),
    maps: [...maps],
    fds,
  };
}

async function exchange(
  name: string,
  url: string,
  init?: RequestInit,
): Promise<Exchange> {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(60_000) });
    return { name, status: response.status, body: await response.text() };
  } catch (error) {
    return { name, status: 0, body: String(error) };
  }
}

function post(body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
}

async function requests(url: string): Promise<Exchange[]> {
  const exchanges: Exchange[] = [];
  exchanges.push(await exchange("server ready", `${url}/v2/health/ready`));
  exchanges.push(await exchange("server live", `${url}/v2/health/live`));
  for (const model of config.models) {
    exchanges.push(await exchange(`${model} ready`, `${url}/v2/models/${model}/ready`));
  }
  const fp32 = {
    inputs: [
      { name: "INPUT0", datatype: "FP32", shape: [4], data: [1, 2, 3, 4] },
      { name: "INPUT1", datatype: "FP32", shape: [4], data: [10, 20, 30, 40] },
    ],
  };
  exchanges.push(await exchange("add_sub", `${url}/v2/models/add_sub/infer`, post(fp32)));
  exchanges.push(await exchange("bls_add_sub", `${url}/v2/models/bls_add_sub/infer`, post(fp32)));
  exchanges.push(
    await exchange(
      "add_sub_string",
      `${url}/v2/models/add_sub_string/infer`,
      post({
        inputs: [
          { name: "INPUT0", datatype: "BYTES", shape: [2], data: ["1", "20"] },
          { name: "INPUT1", datatype: "BYTES", shape: [2], data: ["2", "5"] },
        ],
      }),
    ),
  );
  exchanges.push(
    await exchange(
      "stream_text",
      `${url}/v2/models/stream_text/generate_stream`,
      post({ TEXT: "offline and alone" }),
    ),
  );
  return exchanges;
}

async function main(): Promise<ScenarioReport> {
  const child = new Deno.Command(config.command[0], {
    args: config.command.slice(1),
    clearEnv: true,
    env: config.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  const { promise: listening, resolve: onListen } = Promise.withResolvers<string>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      log += text;
      const found = /listening on (http:\/\/[^\s]+)/.exec(log);
      if (found !== null) onListen(found[1]);
    }
  };
  const pumps = [collect(child.stdout), collect(child.stderr)];
  const ended = child.status.then(() => "");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(""), config.startTimeoutMs);
  });
  const url = await Promise.race([listening, ended, timeout]);
  clearTimeout(timer);

  const report: ScenarioReport = {
    url,
    exchanges: [],
    processes: [],
    serverPid: 0,
    exitCode: -1,
    log: "",
  };
  if (url !== "") {
    report.exchanges = await requests(url);
    report.processes = processTree(child.pid).map(recordProcess);
  }
  // The server itself, not a tracer whose command line holds it.
  const server = report.processes.find((process) =>
    process.exe.endsWith("/deno") &&
    process.cmdline.some((part) => part.includes(config.serverMarker))
  );
  report.serverPid = server?.pid ?? child.pid;
  try {
    Deno.kill(report.serverPid, "SIGTERM");
  } catch { /* already gone */ }
  const stopped = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, 60_000);
  report.exitCode = (await child.status).code;
  clearTimeout(stopped);
  await Promise.all(pumps);
  report.log = log;
  return report;
}

console.log(JSON.stringify(await main()));
