/**
 * What a client, or a model calling this one, sees of an error: the
 * model's message with its stack frames, but nothing of the server. Paths
 * inside the model's directory become relative to it (`1/model.ts:12:5`);
 * every other absolute path or `file:` URL becomes `<server path>`; stack
 * frames that are not in the model's own files are dropped; the text is
 * capped at {@linkcode CLIENT_TEXT_LIMIT} bytes. Triton's log keeps the
 * whole text (the Worker logs it before it answers). The parent applies
 * the paths rule ({@linkcode clientPaths}) again to every load error it
 * returns (ffi/src/client_text.c); tests/fixtures/client_text_cases.json
 * holds cases both sides answer alike.
 *
 * @example
 * ```ts
 * import { clientText } from "./client_text.ts";
 *
 * const full = "boom at /srv/secret/x\n    at run (file:///models/m/1/model.ts:3:9)\n" +
 *   "    at start (file:///opt/backend/runtime/worker/main.ts:259:9)";
 * console.log(clientText(full, "/models/m"));
 * // boom at <server path>
 * //     at run (1/model.ts:3:9)
 * ```
 *
 * @module
 */

/** The most bytes (UTF-8) of error text a client gets. */
export const CLIENT_TEXT_LIMIT = 4096;

const TRUNCATED = " ... (truncated; the whole message is in the server's log)";
const FRAME = /^\s+at\s/;
// An absolute path or file: URL that starts a word (not the /4 of 3/4) and
// names something (not the bare slashes of a // comment in a quoted line).
const ABSOLUTE_PATH = /(?<![\w.~-])(?:file:\/\/)?\/+[^\s"'`()<>,;:/][^\s"'`()<>,;:]*/g;

/**
 * The client's form of an error text.
 *
 * @param text The full text (message, then stack frames).
 * @param modelDirectory The model's directory, absolute (a trailing slash is
 * ignored); "" hides every absolute path.
 * @returns The text without server paths and runtime frames, capped.
 */
export function clientText(text: string, modelDirectory: string): string {
  const own = ownPrefixes(modelDirectory);
  // Plain loops: the model shares this realm and may have replaced
  // Array.prototype.map and friends (tests/hostile, pollution_array_map).
  const kept: string[] = [];
  for (const line of text.split("\n")) {
    // A frame of the model's own code stays; the runtime's go.
    if (!FRAME.test(line) || mentions(line, own)) kept[kept.length] = line;
  }
  return clientPaths(kept.join("\n"), modelDirectory);
}

/**
 * The paths rule alone, which the parent applies again to every load
 * error it returns (ffi/src/client_text.c): paths inside the model's
 * directory become relative to it, other absolute paths and `file:` URLs
 * become `<server path>`, and the text is capped. Applied to its own
 * result, it changes nothing.
 *
 * @param text Any error text.
 * @param modelDirectory As for {@linkcode clientText}.
 * @returns The text without server paths, capped.
 */
export function clientPaths(text: string, modelDirectory: string): string {
  const own = ownPrefixes(modelDirectory);
  const relative = text.replace(ABSOLUTE_PATH, (path) => {
    for (const prefix of own) {
      if (path.startsWith(prefix)) return path.slice(prefix.length);
    }
    return "<server path>";
  });
  return cap(relative);
}

function mentions(line: string, prefixes: readonly string[]): boolean {
  for (const prefix of prefixes) {
    if (line.includes(prefix)) return true;
  }
  return false;
}

/** `file://<dir>/` and `<dir>/`; none for "" or "/" (no model's own). */
function ownPrefixes(modelDirectory: string): string[] {
  const directory = modelDirectory.replace(/\/+$/, "");
  return directory === "" ? [] : [`file://${directory}/`, `${directory}/`];
}

function cap(text: string): string {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= CLIENT_TEXT_LIMIT) return text;
  const room = CLIENT_TEXT_LIMIT - new TextEncoder().encode(TRUNCATED).length;
  // Cut on a character boundary: the decoder drops an incomplete tail.
  const head = new TextDecoder().decode(bytes.subarray(0, room)).replace(/\uFFFD$/, "");
  return head + TRUNCATED;
}
