/*
 * log.c: see log.h. A failure to log is dropped: there is nowhere else to
 * report it.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "format.h"

void tdn_log(TRITONSERVER_LogLevel level, const char* file, int line, const char* format, ...)
{
  if (!TRITONSERVER_LogIsEnabled(level)) {
    return;
  }
  va_list args;
  va_start(args, format);
  char* text = tdn_vformat(format, args);
  va_end(args);
  if (text == NULL) {
    return;
  }
  TRITONSERVER_Error* error = TRITONSERVER_LogMessage(level, file, line, text);
  if (error != NULL) {
    TRITONSERVER_ErrorDelete(error);
  }
  free(text);
}

void tdn_log_and_delete(const char* file, int line, const char* what, TRITONSERVER_Error* error)
{
  tdn_log(TRITONSERVER_LOG_ERROR, file, line, "%s: %s", what, TRITONSERVER_ErrorMessage(error));
  TRITONSERVER_ErrorDelete(error);
}
