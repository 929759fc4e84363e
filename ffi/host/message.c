/*
 * message.c: TRITONSERVER_Message, a JSON document. Like Triton, creating
 * one from text rejects malformed JSON, so a backend that builds a bad
 * configuration fails here as it would in the server.
 */
#include <stdlib.h>
#include <string.h>

#include "host_internal.h"

TRITONSERVER_Error* host_message_new(TRITONSERVER_Message** message, const char* base,
                                     size_t byte_size, bool counted) {
  if (message == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "message out-pointer is NULL");
  }
  *message = NULL;
  if (base == NULL && byte_size > 0) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "JSON base is NULL");
  }
  const char* problem = host_json_check(base == NULL ? "" : base, byte_size);
  if (problem != NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "failed to parse the JSON message: %s",
                          problem);
  }
  TRITONSERVER_Message* created = host_alloc(sizeof *created);
  created->magic = HOST_MAGIC_MESSAGE;
  created->json = host_alloc(byte_size + 1);
  if (byte_size > 0) memcpy(created->json, base, byte_size);
  created->byte_size = byte_size;
  created->counted = counted;
  if (counted) host_live_add(HOST_LIVE_MESSAGES, 1);
  *message = created;
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MessageNewFromSerializedJson(TRITONSERVER_Message** message,
                                                              const char* base,
                                                              size_t byte_size) {
  return host_message_new(message, base, byte_size, true);
}

void host_message_free(TRITONSERVER_Message* message) {
  if (message == NULL) return;
  message->magic = HOST_MAGIC_DEAD;
  if (message->counted) host_live_add(HOST_LIVE_MESSAGES, -1);
  free(message->json);
  free(message);
}

TRITONSERVER_Error* TRITONSERVER_MessageDelete(TRITONSERVER_Message* message) {
  if (!host_check_magic(message, HOST_MAGIC_MESSAGE, "TRITONSERVER_Message")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid message handle");
  }
  /* Messages the server keeps (the backend config) are not the caller's to
   * delete; in Triton this would be a double free. */
  if (!message->counted) {
    host_violation_record(HOST_VIOLATION_BAD_HANDLE,
                          "MessageDelete on a message owned by the server");
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                          "the message is owned by the server and must not be deleted");
  }
  host_message_free(message);
  return NULL;
}

TRITONSERVER_Error* TRITONSERVER_MessageSerializeToJson(TRITONSERVER_Message* message,
                                                        const char** base, size_t* byte_size) {
  if (!host_check_magic(message, HOST_MAGIC_MESSAGE, "TRITONSERVER_Message")) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "invalid message handle");
  }
  if (base == NULL || byte_size == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INVALID_ARG, "NULL out-pointer");
  }
  *base = message->json;
  *byte_size = message->byte_size;
  return NULL;
}
