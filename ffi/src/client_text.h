/*
 * client_text.h: what a client sees of an error text the backend returns
 * to Triton: the paths rule of runtime/worker/client_text.ts
 * (`clientPaths`; the Worker applies it, after dropping the runtime's
 * stack frames, to the errors it sends). The parent applies it again to
 * every load error it returns, whatever made it (the stub's main thread,
 * the type check, the policy evaluator, the parent itself), so that no
 * client sees a server path however the error was made; on the Worker's
 * texts it changes nothing:
 *
 * - a path inside the model's directory (`/models/m/1/model.ts`, or its
 *   `file:` URL) becomes relative to it (`1/model.ts`);
 * - any other absolute path or `file:` URL becomes `<server path>`;
 * - the text is capped at TDN_CLIENT_TEXT_LIMIT bytes (on a UTF-8
 *   character boundary), with a note that the log has the whole text.
 *
 * tests/fixtures/client_text_cases.json holds cases both sides must
 * answer alike (tests/units/client_text_check.c and
 * runtime/worker/client_text_test.ts).
 */
#ifndef TDN_CLIENT_TEXT_H
#define TDN_CLIENT_TEXT_H

/* The most bytes (UTF-8) of error text a client gets. */
#define TDN_CLIENT_TEXT_LIMIT 4096

/* The client's form of `text` (caller frees), or NULL when out of memory.
 * `model_directory` is absolute; a trailing slash is ignored. NULL or ""
 * means no directory is the client's own: every absolute path is hidden. */
char* tdn_client_text(const char* text, const char* model_directory);

#endif /* TDN_CLIENT_TEXT_H */
