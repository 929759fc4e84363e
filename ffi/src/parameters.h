/*
 * parameters.h: request and response parameters on the wire
 * (ffi/WIRE_FORMAT.md, "Parameters"): a JSON object whose members are the
 * parameters in order, each {"type": "STRING"|"INT"|"BOOL"|"DOUBLE",
 * "value": "<text>"}, every value a string (an INT in decimal, a DOUBLE as
 * printed by %.17g or "nan"/"inf"/"-inf", a BOOL "true" or "false"), so
 * that the one strict reader the C side has (json_reader.h) parses it.
 */
#ifndef TDN_PARAMETERS_H
#define TDN_PARAMETERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "triton_api.h"

/* Most parameters one response may carry, and longest key and value. */
#define TDN_MAX_PARAMETERS 256u
#define TDN_MAX_PARAMETER_TEXT 65536u

typedef struct tdn_parameter {
  char* key;
  TRITONSERVER_ParameterType type; /* STRING, INT, BOOL or DOUBLE */
  char* string_value;              /* STRING */
  int64_t int_value;               /* INT */
  bool bool_value;                 /* BOOL */
  double double_value;             /* DOUBLE */
} tdn_parameter;

typedef struct tdn_parameter_list {
  uint32_t count;
  tdn_parameter* items;
} tdn_parameter_list;

/* The request's parameters as wire JSON; *json NULL (length 0) when it has
 * none. BYTES parameters are skipped (Triton's HTTP and gRPC front ends
 * never make them). The caller frees *json. */
TRITONSERVER_Error* tdn_parameters_from_request(
    TRITONBACKEND_Request* request, char** json, size_t* length);

/* The same for a response of another model (BLS, bls.c). */
TRITONSERVER_Error* tdn_parameters_from_response(
    TRITONSERVER_InferenceResponse* response, char** json, size_t* length);

/* Parses and checks wire JSON the stub wrote. False with a message. */
bool tdn_parameters_parse(
    const char* text, size_t length, tdn_parameter_list* list, tdn_diag* diag);

void tdn_parameter_list_free(tdn_parameter_list* list);

/* Sets each parameter on a response. */
TRITONSERVER_Error* tdn_parameters_apply(
    TRITONBACKEND_Response* response, const tdn_parameter_list* list);

#endif /* TDN_PARAMETERS_H */
