/*
 * log.h: printf-style wrappers over TRITONSERVER_LogMessage, so every line
 * the backend logs lands in Triton's log with our file and line.
 */
#ifndef TDN_LOG_H
#define TDN_LOG_H

#include "triton_api.h"

void tdn_log(TRITONSERVER_LogLevel level, const char* file, int line, const char* format, ...)
    __attribute__((format(printf, 4, 5)));

#define TDN_LOG_INFO(...) tdn_log(TRITONSERVER_LOG_INFO, __FILE__, __LINE__, __VA_ARGS__)
#define TDN_LOG_WARN(...) tdn_log(TRITONSERVER_LOG_WARN, __FILE__, __LINE__, __VA_ARGS__)
#define TDN_LOG_ERROR(...) tdn_log(TRITONSERVER_LOG_ERROR, __FILE__, __LINE__, __VA_ARGS__)
#define TDN_LOG_VERBOSE(...) tdn_log(TRITONSERVER_LOG_VERBOSE, __FILE__, __LINE__, __VA_ARGS__)

/* Logs `error`'s message with `what` in front, then deletes the error.
 * For errors nobody can be told about (e.g. ResponseSend failing). */
void tdn_log_and_delete(const char* file, int line, const char* what, TRITONSERVER_Error* error);

#define TDN_LOG_IF_ERROR(expr, what)                            \
  do {                                                          \
    TRITONSERVER_Error* tdn_log_error_ = (expr);                \
    if (tdn_log_error_ != NULL) {                               \
      tdn_log_and_delete(__FILE__, __LINE__, what, tdn_log_error_); \
    }                                                           \
  } while (0)

#endif /* TDN_LOG_H */
