/*
 * errors.h: building TRITONSERVER_Error objects with formatted messages, and
 * adding context to an error on its way up ("model 'm': instance 'i': ...").
 */
#ifndef TDN_ERRORS_H
#define TDN_ERRORS_H

#include "triton_api.h"

/* A new error with a printf-style message. */
TRITONSERVER_Error* tdn_error(TRITONSERVER_Error_Code code, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

/* Replaces `error` by one with the same code and "<context>: <message>";
 * returns NULL when error is NULL, so it can wrap any call. */
TRITONSERVER_Error* tdn_error_context(TRITONSERVER_Error* error, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

/* A load error as clients may see it (client_text.h): paths inside
 * `model_directory` relative to it, other server paths hidden, runtime
 * frames dropped. When that changes the text, Triton's log gets the whole
 * text first (operators need the paths), prefixed by `what`. Returns
 * `error` itself when nothing changes, NULL when it is NULL. */
TRITONSERVER_Error* tdn_error_for_client(
    TRITONSERVER_Error* error, const char* model_directory, const char* what);

/* Returns from the enclosing function if `expr` yields an error. */
#define TDN_RETURN_IF_ERROR(expr)               \
  do {                                          \
    TRITONSERVER_Error* tdn_error_ = (expr);    \
    if (tdn_error_ != NULL) {                   \
      return tdn_error_;                        \
    }                                           \
  } while (0)

/* Same, with context added: TDN_RETURN_IF_ERROR_CTX(call(), "reading %s", x). */
#define TDN_RETURN_IF_ERROR_CTX(expr, ...)                 \
  do {                                                     \
    TRITONSERVER_Error* tdn_error_ = (expr);               \
    if (tdn_error_ != NULL) {                              \
      return tdn_error_context(tdn_error_, __VA_ARGS__);   \
    }                                                      \
  } while (0)

#endif /* TDN_ERRORS_H */
