/**
 * Wire limits the API enforces early, so that a model author gets a clear
 * error at the line that breaks them instead of a failed batch later. They
 * come from runtime/wire/layout.ts (which mirrors `TDN_MAX_*` in
 * ffi/include/tdn_wire.h); the parent enforces them again on everything the
 * stub writes.
 *
 * @module
 */

export {
  /** Longest error message, in UTF-8 bytes, that reaches Triton. */
  MAX_ERROR_LENGTH as MAX_ERROR_MESSAGE_BYTES,
  /** Most dimensions a tensor may have. */
  MAX_RANK,
} from "../wire/layout.ts";
