/**
 * The TCP front of the HTTP server: it owns the client connections that
 * `Deno.serve` would otherwise own, so that they can be counted, capped and
 * closed when they hold the server without asking anything of it.
 *
 * Why a front: `Deno.serve` (Deno 2.9) has no socket timeouts and no
 * connection limit. Measured against it: a connection that sends nothing,
 * half a header block, part of a body or a chunk header announcing a huge
 * chunk, or that stays idle after a response, was still open after 70 s;
 * `node:http`'s `headersTimeout`/`requestTimeout` closed only the idle
 * keep-alive one. `Deno.serveHttp`, which took a caller's connection, is
 * gone in Deno 2. So the front accepts on the public port, relays each
 * connection's bytes to a `Deno.serve` listening on the loopback, and closes
 * a connection that
 *
 * - stays idle with no request in flight for `idleTimeoutMs` (keep-alive),
 * - began a request (sent a byte) but did not finish its header block within
 *   `headerTimeoutMs` (slow or half-sent headers: the handler never ran).
 *
 * A slow body is the handler's to time out (`readBody`'s read timeout);
 * once the handler answered, the connection is idle again and the rules
 * above close it. The front knows which connection a request came on from
 * the loopback port it relays from (the inner server's `remoteAddr`), and
 * the inner server refuses connections that did not come through it.
 *
 * At `maxConnections`, a new connection evicts the connection idle the
 * longest; when none is idle it is refused (closed at once). Accept errors
 * (`EMFILE`, out of descriptors) are waited out, never fatal. The default
 * cap leaves room in the descriptor limit for the stubs' IPC: each relayed
 * connection holds three descriptors (client, relay, inner server's side).
 *
 * @module
 */

/** The limits the front applies. */
export interface FrontLimits {
  /** Idle with no request in flight this long: closed. */
  readonly idleTimeoutMs: number;
  /** From a request's first byte to the end of its header block, at most. */
  readonly headerTimeoutMs: number;
  /** Open client connections at most. */
  readonly maxConnections: number;
}

/** At shutdown, how long relays may take to forward what the inner server sent last. */
const SHUTDOWN_FLUSH_MS = 2_000;

/** The descriptors one relayed connection holds in this process. */
export const DESCRIPTORS_PER_CONNECTION = 3;
/** Descriptors kept free for the rest of the server (stubs' IPC, files, the listeners). */
export const DESCRIPTOR_RESERVE = 256;

/**
 * The default connection cap for a descriptor limit: what fits with
 * {@linkcode DESCRIPTOR_RESERVE} kept free, at least 16 and at most 10,000.
 *
 * @example
 * ```ts
 * import { defaultMaxConnections } from "./connection_front.ts";
 *
 * console.log(defaultMaxConnections(1024)); // 256
 * ```
 */
export function defaultMaxConnections(descriptorLimit: number | undefined): number {
  if (descriptorLimit === undefined) return 10_000;
  const fit = Math.floor((descriptorLimit - DESCRIPTOR_RESERVE) / DESCRIPTORS_PER_CONNECTION);
  return Math.max(16, Math.min(10_000, fit));
}

/** This process's soft limit on open descriptors (from /proc), if known. */
export function descriptorLimit(): number | undefined {
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(text);
    if (match === null || match[1] === "unlimited") return undefined;
    return Number(match[1]);
  } catch {
    return undefined;
  }
}

interface Relay {
  /** The loopback port it relays from (the inner server's remote port). */
  readonly key: number;
  readonly client: Deno.TcpConn;
  readonly inner: Deno.TcpConn;
  /** Requests whose response has not ended. */
  inFlight: number;
  /** Since when no request is in flight. */
  idleSince: number;
  /** The first byte from the client after `idleSince`, if one came. */
  requestStarted: number | undefined;
  closed: boolean;
  /** A response is being written to the client. */
  writing: boolean;
  /** Resolves once both copies ended (its descriptors are closed). */
  readonly released: Promise<void>;
}

/** What the front tells about itself. */
export interface FrontState {
  /** Open client connections. */
  readonly connections: number;
  /** Connections closed for a timeout, evicted or refused at the cap, so far. */
  readonly closedIdle: number;
  readonly closedHeader: number;
  readonly evicted: number;
  readonly refused: number;
}

/**
 * A listening front and the inner `Deno.serve` behind it.
 */
export class ConnectionFront {
  readonly #listener: Deno.TcpListener;
  readonly #limits: FrontLimits;
  readonly #relays = new Map<number, Relay>();
  readonly #log: (line: string) => void;
  #inner: Deno.HttpServer<Deno.NetAddr> | undefined;
  #innerPort = 0;
  #closing = false;
  #timer: ReturnType<typeof setInterval>;
  #acceptLoop: Promise<void> = Promise.resolve();
  #counts = { closedIdle: 0, closedHeader: 0, evicted: 0, refused: 0 };
  #lastAcceptError = 0;
  #restarting = false;
  readonly #handler: Deno.ServeHandler<Deno.NetAddr>;

  /**
   * Binds `hostname:port` (throws `Deno.errors.AddrInUse` if taken) and
   * starts relaying to an inner server that answers with `handler`.
   */
  constructor(
    options: { hostname: string; port: number; limits: FrontLimits; log: (line: string) => void },
    handler: Deno.ServeHandler<Deno.NetAddr>,
  ) {
    this.#limits = options.limits;
    this.#log = options.log;
    this.#listener = Deno.listen({ hostname: options.hostname, port: options.port });
    this.#handler = handler;
    try {
      this.#startInner(handler);
    } catch (error) {
      this.#listener.close();
      throw error;
    }
    const tick = Math.max(50, Math.min(1000, this.#limits.headerTimeoutMs / 4));
    this.#timer = setInterval(() => this.#sweep(), tick);
    this.#acceptLoop = this.#accept();
    globalThis.addEventListener("unhandledrejection", this.#onRejection);
  }

  /** Starts the inner server (again: on a new port, the old one draining). */
  #startInner(handler: Deno.ServeHandler<Deno.NetAddr>): void {
    const old = this.#inner;
    const inner = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      onError: () => new Response(JSON.stringify({ error: "internal error" }), { status: 500 }),
    }, (request, info) => this.#handle(request, info, handler));
    this.#inner = inner;
    this.#innerPort = inner.addr.port;
    old?.shutdown().catch(() => {});
  }

  /**
   * Deno.serve's accept loop ends with an unhandled rejection when accept
   * fails (out of descriptors) and the server then accepts nothing more
   * (measured: `finished` does not settle). The front catches that
   * rejection and starts a new inner server, once descriptors are free.
   */
  #onRejection = (event: PromiseRejectionEvent): void => {
    const reason = event.reason;
    if (!(reason instanceof Error) || !/Too many open files/.test(reason.message)) return;
    event.preventDefault();
    if (this.#closing || this.#restarting) return;
    this.#restarting = true;
    this.#log(`out of file descriptors (${reason.message}); restarting the HTTP server`);
    const retry = () => {
      if (this.#closing) return;
      try {
        this.#startInner(this.#handler);
        this.#restarting = false;
      } catch {
        this.#evictIdle();
        setTimeout(retry, 200);
      }
    };
    retry();
  };

  /** The public address. */
  get addr(): Deno.NetAddr {
    return this.#listener.addr;
  }

  /** Counters, for logs and tests. */
  state(): FrontState {
    return { connections: this.#relays.size, ...this.#counts };
  }

  /**
   * Stops accepting, lets the inner server finish its requests (as
   * `Deno.HttpServer.shutdown`), then closes every connection left.
   */
  async shutdown(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      try {
        this.#listener.close();
      } catch { /* already closed */ }
    }
    // Idle connections go at once; busy ones when their request ends.
    for (const relay of this.#relays.values()) {
      if (relay.inFlight === 0) this.#close(relay);
    }
    await this.#inner?.shutdown();
    clearInterval(this.#timer);
    globalThis.removeEventListener("unhandledrejection", this.#onRejection);
    // The inner server closed its side: the relays forward what is left
    // (a stream's last event) and end; any still open after a while go.
    const left = [...this.#relays.values()];
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(left.map((relay) => relay.released)),
      new Promise((resolve) => timer = setTimeout(resolve, SHUTDOWN_FLUSH_MS)),
    ]);
    clearTimeout(timer);
    for (const relay of left) this.#close(relay);
    await this.#acceptLoop;
  }

  async #accept(): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch (error) {
        if (this.#closing) return;
        // Out of descriptors (EMFILE) or a connection reset before accept:
        // wait a little and go on, never stop serving for it.
        const now = Date.now();
        if (now - this.#lastAcceptError > 10_000) {
          this.#log(`accepting a connection failed (${(error as Error).message}); still serving`);
          this.#lastAcceptError = now;
        }
        await this.#evictIdle();
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (this.#relays.size >= this.#limits.maxConnections) {
        const evicted = this.#evictIdle();
        if (evicted === undefined) {
          this.#counts.refused++;
          client.close();
          continue;
        }
        // Its descriptors are free only once its copies ended: wait for that,
        // or a flood of connections outruns the releases.
        await evicted;
      }
      // Connected here, not in #relay, so that the count covers it at once.
      let inner: Deno.TcpConn;
      try {
        inner = await Deno.connect({ hostname: "127.0.0.1", port: this.#innerPort });
      } catch {
        client.close();
        continue;
      }
      this.#relay(client, inner);
    }
  }

  /**
   * Closes the connection idle the longest; resolves when it is released.
   * Undefined if none is idle.
   */
  #evictIdle(): Promise<void> | undefined {
    let oldest: Relay | undefined;
    for (const relay of this.#relays.values()) {
      if (relay.closed || relay.inFlight > 0 || relay.writing) continue;
      if (relay.requestStarted !== undefined) continue;
      if (oldest === undefined || relay.idleSince < oldest.idleSince) oldest = relay;
    }
    if (oldest === undefined) return undefined;
    this.#counts.evicted++;
    this.#close(oldest);
    return oldest.released;
  }

  async #relay(client: Deno.TcpConn, inner: Deno.TcpConn): Promise<void> {
    try {
      client.setNoDelay(true);
      inner.setNoDelay(true);
    } catch { /* not fatal */ }
    const key = inner.localAddr.port;
    const { promise: released, resolve: release } = Promise.withResolvers<void>();
    const relay: Relay = {
      key,
      client,
      inner,
      inFlight: 0,
      idleSince: Date.now(),
      requestStarted: undefined,
      closed: false,
      writing: false,
      released,
    };
    this.#relays.set(key, relay);
    try {
      await Promise.all([
        copy(client, inner, () => {
          if (relay.inFlight === 0) relay.requestStarted ??= Date.now();
        }, () => {}),
        // A response still being written to the client keeps it busy.
        copy(inner, client, () => {}, (busy) => {
          relay.writing = busy;
          if (!busy && relay.inFlight === 0) relay.idleSince = Date.now();
        }),
      ]);
    } catch { /* either side went away */ }
    this.#close(relay);
    // Counted until both copies ended: only then are its descriptors free.
    this.#relays.delete(key);
    release();
  }

  #close(relay: Relay): void {
    if (relay.closed) return;
    relay.closed = true;
    for (const conn of [relay.client, relay.inner]) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const relay of this.#relays.values()) {
      if (relay.inFlight > 0 || relay.writing || relay.closed) continue;
      if (relay.requestStarted === undefined) {
        if (now - relay.idleSince > this.#limits.idleTimeoutMs) {
          this.#counts.closedIdle++;
          this.#close(relay);
        }
      } else if (now - relay.requestStarted > this.#limits.headerTimeoutMs) {
        this.#counts.closedHeader++;
        this.#close(relay);
      }
    }
  }

  async #handle(
    request: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
    handler: Deno.ServeHandler<Deno.NetAddr>,
  ): Promise<Response> {
    const relay = this.#relays.get(info.remoteAddr.port);
    if (relay === undefined || info.remoteAddr.hostname !== "127.0.0.1") {
      // Only the front's relays may reach the inner server.
      return new Response(null, { status: 403, headers: { connection: "close" } });
    }
    relay.inFlight++;
    relay.requestStarted = undefined;
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      relay.inFlight--;
      if (relay.inFlight === 0) {
        relay.idleSince = Date.now();
        relay.requestStarted = undefined;
      }
    };
    let response: Response;
    try {
      response = await handler(request, info);
    } catch (error) {
      end();
      throw error;
    }
    // A body held in memory is written at once (and keeps its
    // Content-Length): the request ends here. A stream (server-sent events)
    // ends when its last event is out or the client cancels it. (Reading
    // `response.body` of the others would turn them into streams, sent
    // chunked.)
    const streamed = response.headers.get("content-type")?.startsWith("text/event-stream");
    if (!streamed || response.body === null) {
      end();
      return response;
    }
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            end();
            controller.close();
          } else {
            controller.enqueue(value);
          }
        } catch (error) {
          end();
          controller.error(error);
        }
      },
      cancel(reason) {
        end();
        return reader.cancel(reason);
      },
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }
}

const SMALL_BUFFER = 16 * 1024;
const LARGE_BUFFER = 256 * 1024;

/** Copies `from` to `to` until `from` ends, then half-closes `to`. */
async function copy(
  from: Deno.TcpConn,
  to: Deno.TcpConn,
  onBytes: () => void,
  writing: (busy: boolean) => void,
): Promise<void> {
  // A small buffer while the connection waits (thousands may be open); a
  // large one while a read fills it (a big body or answer streams through).
  const small: Uint8Array<ArrayBuffer> = new Uint8Array(SMALL_BUFFER);
  let large: Uint8Array<ArrayBuffer> | undefined;
  let buffer = small;
  for (;;) {
    const n = await from.read(buffer);
    if (n === null) break;
    onBytes();
    writing(true);
    let written = 0;
    while (written < n) written += await to.write(buffer.subarray(written, n));
    writing(false);
    if (n === buffer.byteLength) buffer = large ??= new Uint8Array(LARGE_BUFFER);
    else if (buffer !== small) {
      buffer = small;
      large = undefined;
    }
  }
  try {
    await to.closeWrite();
  } catch { /* already closed */ }
}
