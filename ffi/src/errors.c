/*
 * errors.c: see errors.h. Messages are formatted into a heap buffer because
 * they can quote long strings (a stub's error text is up to 64 KiB).
 */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_text.h"
#include "format.h"
#include "log.h"

TRITONSERVER_Error* tdn_error(TRITONSERVER_Error_Code code, const char* format, ...)
{
  va_list args;
  va_start(args, format);
  char* text = tdn_vformat(format, args);
  va_end(args);
  /* TRITONSERVER_ErrorNew copies the message. */
  TRITONSERVER_Error* error =
      TRITONSERVER_ErrorNew(code, text != NULL ? text : "out of memory formatting an error");
  free(text);
  return error;
}

TRITONSERVER_Error* tdn_error_context(TRITONSERVER_Error* error, const char* format, ...)
{
  if (error == NULL) {
    return NULL;
  }
  va_list args;
  va_start(args, format);
  char* context = tdn_vformat(format, args);
  va_end(args);
  TRITONSERVER_Error* wrapped = tdn_error(
      TRITONSERVER_ErrorCode(error), "%s: %s", context != NULL ? context : "(no context)",
      TRITONSERVER_ErrorMessage(error));
  free(context);
  TRITONSERVER_ErrorDelete(error);
  return wrapped;
}

TRITONSERVER_Error* tdn_error_for_client(
    TRITONSERVER_Error* error, const char* model_directory, const char* what)
{
  if (error == NULL) {
    return NULL;
  }
  const char* full = TRITONSERVER_ErrorMessage(error);
  char* text = tdn_client_text(full, model_directory);
  if (text != NULL && strcmp(text, full) == 0) {
    free(text);
    return error;
  }
  TDN_LOG_ERROR("%s: %s", what, full);
  TRITONSERVER_Error* client = tdn_error(
      TRITONSERVER_ErrorCode(error), "%s",
      text != NULL ? text : "out of memory (the whole message is in the server's log)");
  free(text);
  TRITONSERVER_ErrorDelete(error);
  return client;
}
