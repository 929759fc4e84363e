/**
 * Finds a key repeated within one object of a JSON text. `JSON.parse` keeps
 * the last value of a repeated key silently; Triton's parser keeps both, and
 * a `/generate` body with a repeated key is refused (HTTP 400) rather than
 * half-read.
 *
 * @module
 */

/**
 * The first key that appears twice in the same object of `text` (a text
 * that `JSON.parse` accepted), or undefined.
 *
 * @example
 * ```ts
 * import { repeatedKey } from "./json_keys.ts";
 *
 * console.log(repeatedKey('{"a":1,"b":{"a":2},"a":3}')); // "a"
 * ```
 */
export function repeatedKey(text: string): string | undefined {
  // One entry per open container: the keys seen so far (null for arrays).
  const stack: (Set<string> | null)[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x7b) stack.push(new Set()); // {
    else if (c === 0x5b) stack.push(null); // [
    else if (c === 0x7d || c === 0x5d) stack.pop(); // } ]
    else if (c === 0x22) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c) i++;
        else if (d === 0x22) break;
      }
      const keys = stack[stack.length - 1];
      if (keys === null || keys === undefined) continue;
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j])) j++;
      if (text[j] !== ":") continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (keys.has(key)) return key;
      keys.add(key);
    }
  }
  return undefined;
}
