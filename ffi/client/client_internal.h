/*
 * client_internal.h: the client's objects, shared by call.c and bench.c.
 */
#ifndef TDC_CLIENT_INTERNAL_H
#define TDC_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>

#include "buffer_pool.h"
#include "client.h"
#include "core_api.h"

struct tdc_client {
  tdc_core core;
  TRITONSERVER_Server* server;
  /* CPU buffers for every output: malloc'd, large ones kept for reuse. */
  TRITONSERVER_ResponseAllocator* allocator;
  tdc_buffer_pool outputs;
};

/* A request parameter, kept so that benchmark requests repeat it. */
typedef struct tdc_parameter {
  char* key;
  uint32_t type; /* TRITONSERVER_ParameterType */
  char* string_value;
  int64_t int_value;
  double double_value;
} tdc_parameter;

typedef struct tdc_input {
  char* name;
  uint32_t datatype;
  int64_t* shape;
  uint32_t rank;
  void* data;
  uint64_t byte_size;
} tdc_input;

struct tdc_call {
  tdc_client* client;
  char* model;
  int64_t version;
  TRITONSERVER_InferenceRequest* request;
  tdc_input* inputs; /* copies, kept until the call is freed */
  uint32_t input_count;
  char** requested_outputs;
  uint32_t requested_output_count;
  tdc_parameter* parameters;
  uint32_t parameter_count;

  pthread_mutex_t lock;
  pthread_cond_t changed;
  /* Responses in arrival order; NULL for a flags-only FINAL. */
  TRITONSERVER_InferenceResponse** responses;
  uint32_t* response_flags;
  uint32_t response_count;
  uint32_t response_capacity;
  bool started;
  bool final;     /* a response or flags carried TRITONSERVER_RESPONSE_COMPLETE_FINAL */
  bool released;  /* Triton handed the request back */
  bool abandoned; /* freed by the caller while in flight: the last callback frees it */
};

/* The allocator every request of the client uses. */
TRITONSERVER_Error* tdc_alloc(TRITONSERVER_ResponseAllocator* allocator, const char* tensor_name,
                              size_t byte_size, TRITONSERVER_MemoryType memory_type,
                              int64_t memory_type_id, void* userp, void** buffer,
                              void** buffer_userp, TRITONSERVER_MemoryType* actual_memory_type,
                              int64_t* actual_memory_type_id);
TRITONSERVER_Error* tdc_release(TRITONSERVER_ResponseAllocator* allocator, void* buffer,
                                void* buffer_userp, size_t byte_size,
                                TRITONSERVER_MemoryType memory_type, int64_t memory_type_id);

/* Adds `call`'s inputs (by reference), requested outputs and parameters to
 * `request`. */
TRITONSERVER_Error* tdc_call_fill_request(const tdc_call* call,
                                          TRITONSERVER_InferenceRequest* request);

uint64_t tdc_now_ns(void);

#endif /* TDC_CLIENT_INTERNAL_H */
