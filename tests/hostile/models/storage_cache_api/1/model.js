/**
 * Hostile fixture `storage_cache_api` (tests/hostile/hostile_test.ts): stores data with the Cache API (shared deno_dir).
 *
 * The model around the attack is ../../../hostile_shell.js, which the test
 * copies beside this file.
 *
 * @module
 */

import { hostileModel } from "./hostile_shell.js";

/** The attack; may return "huge" or "malformed" to shape the answer. */
async function attack(_requests, _port) {
  await (await caches.open("x")).put("http://x.invalid/", new Response("secret"));
}

export default hostileModel(attack);
