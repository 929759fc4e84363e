/*
 * error.c: TRITONSERVER_Error objects. Whoever receives a non-NULL error owns
 * it and must delete it; the host counts live errors so a test can find
 * leaks on either side.
 */
#include <stdlib.h>

#include "host_internal.h"

TRITONSERVER_Error* TRITONSERVER_ErrorNew(TRITONSERVER_Error_Code code, const char* msg) {
  TRITONSERVER_Error* error = host_alloc(sizeof *error);
  error->magic = HOST_MAGIC_ERROR;
  error->code = code;
  error->message = host_strdup(msg);
  host_live_add(HOST_LIVE_ERRORS, 1);
  return error;
}

void TRITONSERVER_ErrorDelete(TRITONSERVER_Error* error) {
  if (error == NULL) return;
  if (!host_check_magic(error, HOST_MAGIC_ERROR, "TRITONSERVER_Error")) return;
  /* TRITONSERVER_InferenceResponseError's result belongs to the response;
   * freeing it here would be a double free when the response goes. */
  if (error->held_by_response) {
    host_violation_record(HOST_VIOLATION_RESPONSE_ERROR_DELETED,
                          "ErrorDelete on the error of an inference response: '%s'",
                          error->message);
    return;
  }
  error->magic = HOST_MAGIC_DEAD;
  free(error->message);
  free(error);
  host_live_add(HOST_LIVE_ERRORS, -1);
}

TRITONSERVER_Error_Code TRITONSERVER_ErrorCode(TRITONSERVER_Error* error) {
  if (!host_check_magic(error, HOST_MAGIC_ERROR, "TRITONSERVER_Error")) {
    return TRITONSERVER_ERROR_UNKNOWN;
  }
  return error->code;
}

/* Triton's names for the codes (Status::CodeString). */
const char* host_error_code_string(TRITONSERVER_Error_Code code) {
  switch (code) {
    case TRITONSERVER_ERROR_INTERNAL: return "Internal";
    case TRITONSERVER_ERROR_NOT_FOUND: return "Not found";
    case TRITONSERVER_ERROR_INVALID_ARG: return "Invalid argument";
    case TRITONSERVER_ERROR_UNAVAILABLE: return "Unavailable";
    case TRITONSERVER_ERROR_UNSUPPORTED: return "Unsupported";
    case TRITONSERVER_ERROR_ALREADY_EXISTS: return "Already exists";
    case TRITONSERVER_ERROR_CANCELLED: return "Cancelled";
    case TRITONSERVER_ERROR_UNKNOWN: break;
  }
  return "Unknown";
}

const char* TRITONSERVER_ErrorCodeString(TRITONSERVER_Error* error) {
  return host_error_code_string(TRITONSERVER_ErrorCode(error));
}

const char* TRITONSERVER_ErrorMessage(TRITONSERVER_Error* error) {
  if (!host_check_magic(error, HOST_MAGIC_ERROR, "TRITONSERVER_Error")) return "";
  return error->message;
}
