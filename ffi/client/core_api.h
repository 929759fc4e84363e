/*
 * core_api.h: the functions of Triton's server API that the in-process
 * client calls, resolved at run time from whichever core it drives:
 * Triton's libtritonserver.so (TRITON_HOME/lib) or the stand-in
 * (build/libtriton_host.so). Both export the same names, declared once in
 * ffi/include/triton_api.h; this table only holds their addresses, so the
 * client links against neither.
 */
#ifndef TDC_CORE_API_H
#define TDC_CORE_API_H

#include <stdbool.h>
#include <stdint.h>

#include "triton_api.h"

/* X(name): every function the client uses. */
#define TDC_CORE_FUNCTIONS(X)                       \
  X(TRITONSERVER_ErrorNew)                          \
  X(TRITONSERVER_ErrorDelete)                       \
  X(TRITONSERVER_ErrorCode)                         \
  X(TRITONSERVER_ErrorMessage)                      \
  X(TRITONSERVER_ResponseAllocatorNew)              \
  X(TRITONSERVER_ResponseAllocatorDelete)           \
  X(TRITONSERVER_InferenceRequestNew)               \
  X(TRITONSERVER_InferenceRequestDelete)            \
  X(TRITONSERVER_InferenceRequestSetId)             \
  X(TRITONSERVER_InferenceRequestSetFlags)          \
  X(TRITONSERVER_InferenceRequestSetCorrelationId)  \
  X(TRITONSERVER_InferenceRequestSetCorrelationIdString) \
  X(TRITONSERVER_InferenceRequestSetTimeoutMicroseconds) \
  X(TRITONSERVER_InferenceRequestAddInput)          \
  X(TRITONSERVER_InferenceRequestAppendInputData)   \
  X(TRITONSERVER_InferenceRequestAddRequestedOutput) \
  X(TRITONSERVER_InferenceRequestSetReleaseCallback) \
  X(TRITONSERVER_InferenceRequestSetResponseCallback) \
  X(TRITONSERVER_InferenceRequestSetStringParameter) \
  X(TRITONSERVER_InferenceRequestSetIntParameter)   \
  X(TRITONSERVER_InferenceRequestSetBoolParameter)  \
  X(TRITONSERVER_InferenceRequestSetDoubleParameter) \
  X(TRITONSERVER_InferenceRequestCancel)            \
  X(TRITONSERVER_InferenceResponseDelete)           \
  X(TRITONSERVER_InferenceResponseError)            \
  X(TRITONSERVER_InferenceResponseParameterCount)   \
  X(TRITONSERVER_InferenceResponseParameter)        \
  X(TRITONSERVER_InferenceResponseOutputCount)      \
  X(TRITONSERVER_InferenceResponseOutput)           \
  X(TRITONSERVER_ServerInferAsync)

typedef struct tdc_core {
  void* library; /* dlopen handle */
#define TDC_CORE_FIELD(name) __typeof__(&name) name;
  TDC_CORE_FUNCTIONS(TDC_CORE_FIELD)
#undef TDC_CORE_FIELD
} tdc_core;

/* dlopens `path` (RTLD_NOW | RTLD_GLOBAL: a core that is already loaded,
 * e.g. by Deno, is the same object) and resolves every function. Returns
 * false with the reason in error (cap bytes) if any is missing. */
bool tdc_core_open(tdc_core* core, const char* path, char* error, uint32_t cap);
void tdc_core_close(tdc_core* core);

/* Writes "CODE: message" of `error` into out (cap bytes) and deletes it. */
void tdc_core_take_error(const tdc_core* core, TRITONSERVER_Error* error, char* out,
                         uint32_t cap);

#endif /* TDC_CORE_API_H */
