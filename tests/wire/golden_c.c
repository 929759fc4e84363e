/*
 * golden_c: the C side of the wire golden test. It runs the backend's own
 * encoders and decoder (ffi/src/batch_codec.c) against committed bytes that
 * the TypeScript side checks too.
 *
 *   golden_c write-batch FILE   encode the sample batch below, write arena [0, arena_used)
 *   golden_c check-batch FILE   exit 0 only if the encoder reproduces FILE byte for byte
 *   golden_c read-result FILE   decode FILE as an arena holding a RESULT header at offset 0
 *                               (3 responses) and print it as canonical JSON
 *   golden_c write-records FILE write the parent's sample records (below) as tdn_record[]
 *   golden_c read-records FILE  print FILE's tdn_record[] as JSON, each checked the way the
 *                               parent checks that kind
 *   golden_c layout             print every struct field's offset and every struct's size
 *   golden_c write-bls-response FILE
 *                               the parent's sample BLS_RESPONSE (below): arena bytes
 *                               [0, end) with the payload at BLS_RESPONSE_AT
 *   golden_c check-bls-response FILE
 *                               exit 0 only if the encoder reproduces FILE byte for byte
 *   golden_c read-metrics FILE  read FILE as a METRICS payload with the parent's checks and
 *                               print every item as canonical JSON
 *   golden_c read-bls FILE BASE decode FILE as an arena whose stub half starts at BASE, with a
 *                               BLS_REQUEST payload there, and print it as canonical JSON (or
 *                               the parent's complaint on stderr, exit 1)
 *
 * Built by `make build` (GOLDEN_SRCS in the Makefile).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_codec.h"
#include "bls_request.h"
#include "record_check.h"
#include "metrics_batch.h"
#include "tdn_wire.h"

/* ---- The sample batch (tests/wire/golden/batch_v3.bin) ------------------ */

enum { DATATYPE_INT32 = 8, DATATYPE_FP32 = 11, DATATYPE_BYTES = 13 };

/* Request 0: id "req-0", correlation id 42, flags 0, timeout 1.5 s. */
static const float request0_input0_data[4] = {1.0f, 2.0f, 3.0f, 4.0f};
static const int64_t request0_input0_shape[2] = {1, 4};
/* BYTES in Triton's layout: "ab" then "" (u32 little-endian length + bytes). */
static const uint8_t request0_input1_data[10] = {2, 0, 0, 0, 'a', 'b', 0, 0, 0, 0};
static const int64_t request0_input1_shape[1] = {2};
static const tdn_input_buffer request0_input0_buffers[1] = {
    {request0_input0_data, sizeof(request0_input0_data)}};
static const tdn_input_buffer request0_input1_buffers[1] = {
    {request0_input1_data, sizeof(request0_input1_data)}};
static const tdn_input_desc request0_inputs[2] = {
    {"INPUT0", DATATYPE_FP32, 2, request0_input0_shape, 1, request0_input0_buffers},
    {"INPUT1", DATATYPE_BYTES, 1, request0_input1_shape, 1, request0_input1_buffers},
};
static const char* const request0_outputs[1] = {"OUTPUT0"};

/* Request 1: no id, correlation id string "seq-A", flags 3 (start | end). */
static const int32_t request1_input0_data[3] = {-1, 0, 7};
static const int64_t request1_input0_shape[1] = {3};
static const tdn_input_buffer request1_input0_buffers[1] = {
    {request1_input0_data, sizeof(request1_input0_data)}};
static const tdn_input_desc request1_inputs[1] = {
    {"INPUT0", DATATYPE_INT32, 1, request1_input0_shape, 1, request1_input0_buffers},
};

/* Request 0's parameters, in the wire's object form (ffi/src/batch_codec.h). */
static const char request0_parameters[] =
    "{\"n\":{\"type\":\"INT\",\"value\":\"3\"},"
    "\"temperature\":{\"type\":\"DOUBLE\",\"value\":\"0.5\"}}";

static const tdn_request_desc sample_batch[2] = {
    {"req-0", "", 42, 0, 2, request0_inputs, 1, request0_outputs, request0_parameters,
     sizeof(request0_parameters) - 1, 1500000},
    {"", "seq-A", 0, 3, 1, request1_inputs, 0, NULL, NULL, 0, 0},
};

/* ---- Helpers ------------------------------------------------------------ */

static int fail(const char* format, const char* detail)
{
  fprintf(stderr, "golden_c: ");
  fprintf(stderr, format, detail);
  fprintf(stderr, "\n");
  return 1;
}

static uint8_t* read_file(const char* path, uint64_t* size)
{
  FILE* file = fopen(path, "rb");
  if (file == NULL) {
    return NULL;
  }
  uint8_t* data = NULL;
  long length = -1;
  if (fseek(file, 0, SEEK_END) == 0 && (length = ftell(file)) >= 0 &&
      fseek(file, 0, SEEK_SET) == 0) {
    data = malloc(length > 0 ? (size_t)length : 1);
    if (data != NULL && fread(data, 1, (size_t)length, file) != (size_t)length) {
      free(data);
      data = NULL;
    }
  }
  fclose(file);
  *size = (uint64_t)(length > 0 ? length : 0);
  return data;
}

/* Encodes the sample into a fresh arena; the caller frees it. */
static uint8_t* encode_sample(uint64_t* used)
{
  tdn_diag diag;
  uint64_t needed;
  if (!tdn_batch_measure(sample_batch, 2, &needed, &diag)) {
    fail("measure failed: %s", diag.text);
    return NULL;
  }
  /* Stale bytes everywhere: the encoder must overwrite every byte it emits. */
  uint8_t* arena = malloc(needed);
  if (arena == NULL) {
    return NULL;
  }
  memset(arena, 0xA5, needed);
  if (!tdn_batch_encode(arena, 0, needed, sample_batch, 2, used, &diag)) {
    fail("encode failed: %s", diag.text);
    free(arena);
    return NULL;
  }
  return arena;
}

static void print_json_string(const char* text)
{
  putchar('"');
  for (const unsigned char* c = (const unsigned char*)text; *c != '\0'; ++c) {
    if (*c == '"' || *c == '\\') {
      printf("\\%c", *c);
    } else if (*c < 0x20) {
      printf("\\u%04x", *c);
    } else {
      putchar(*c);
    }
  }
  putchar('"');
}

/* ---- Commands ----------------------------------------------------------- */

static int write_batch(const char* path)
{
  uint64_t used;
  uint8_t* arena = encode_sample(&used);
  if (arena == NULL) {
    return 1;
  }
  FILE* file = fopen(path, "wb");
  int status = 0;
  if (file == NULL || fwrite(arena, 1, used, file) != used) {
    status = fail("cannot write %s", path);
  }
  if (file != NULL && fclose(file) != 0) {
    status = fail("cannot write %s", path);
  }
  free(arena);
  return status;
}

static int check_batch(const char* path)
{
  uint64_t expected_size;
  uint8_t* expected = read_file(path, &expected_size);
  if (expected == NULL) {
    return fail("cannot read %s", path);
  }
  uint64_t used;
  uint8_t* arena = encode_sample(&used);
  int status = arena == NULL ? 1 : 0;
  if (arena != NULL && used != expected_size) {
    fprintf(stderr, "golden_c: encoder wrote %llu bytes, %s has %llu\n",
            (unsigned long long)used, path, (unsigned long long)expected_size);
    status = 1;
  }
  for (uint64_t i = 0; status == 0 && i < used; ++i) {
    if (arena[i] != expected[i]) {
      fprintf(stderr, "golden_c: first difference at byte %llu: encoder 0x%02x, %s 0x%02x\n",
              (unsigned long long)i, arena[i], path, expected[i]);
      status = 1;
    }
  }
  free(arena);
  free(expected);
  return status;
}

static int read_result(const char* path)
{
  uint64_t size;
  uint8_t* arena = read_file(path, &size);
  if (arena == NULL) {
    return fail("cannot read %s", path);
  }
  tdn_result_view result;
  tdn_diag diag;
  if (!tdn_result_decode(arena, size, 0, sizeof(tdn_result_header), 3, &result, &diag)) {
    free(arena);
    return fail("decoding failed: the stub %s", diag.text);
  }
  for (uint32_t r = 0; r < result.response_count; ++r) {
    if (result.responses[r].problem != NULL) {
      fail("decoding failed: the stub %s", result.responses[r].problem);
      tdn_result_view_free(&result);
      free(arena);
      return 1;
    }
  }
  printf("{\"responses\":[");
  for (uint32_t r = 0; r < result.response_count; ++r) {
    const tdn_response_view* response = &result.responses[r];
    printf("%s{\"status\":%u,\"error_code\":%u,\"reschedule\":%s,\"error\":", r == 0 ? "" : ",",
           response->status, response->error_code, response->reschedule ? "true" : "false");
    print_json_string(response->error_message);
    printf(",\"parameters\":[");
    for (uint32_t p = 0; p < response->parameters.count; ++p) {
      const tdn_parameter* parameter = &response->parameters.items[p];
      printf("%s[", p == 0 ? "" : ",");
      print_json_string(parameter->key);
      switch (parameter->type) {
        case TRITONSERVER_PARAMETER_STRING:
          printf(",\"STRING\",");
          print_json_string(parameter->string_value);
          break;
        case TRITONSERVER_PARAMETER_INT:
          printf(",\"INT\",%lld", (long long)parameter->int_value);
          break;
        case TRITONSERVER_PARAMETER_BOOL:
          printf(",\"BOOL\",%s", parameter->bool_value ? "true" : "false");
          break;
        default:
          printf(",\"DOUBLE\",%.17g", parameter->double_value);
          break;
      }
      printf("]");
    }
    printf("],\"outputs\":[");
    for (uint32_t k = 0; k < response->output_count; ++k) {
      const tdn_tensor_view* output = &response->outputs[k];
      printf("%s{\"name\":", k == 0 ? "" : ",");
      print_json_string(output->name);
      printf(",\"datatype\":%u,\"shape\":[", output->datatype);
      for (uint32_t d = 0; d < output->rank; ++d) {
        printf("%s%lld", d == 0 ? "" : ",", (long long)output->shape[d]);
      }
      printf("],\"data_hex\":\"");
      for (uint64_t i = 0; i < output->data_size; ++i) {
        printf("%02x", arena[output->data_offset + i]);
      }
      printf("\"}");
    }
    printf("]}");
  }
  printf("]}\n");
  tdn_result_view_free(&result);
  free(arena);
  return 0;
}

static void print_hex(const uint8_t* data, uint64_t size)
{
  putchar('"');
  for (uint64_t i = 0; i < size; ++i) {
    printf("%02x", data[i]);
  }
  putchar('"');
}

static int read_bls(const char* path, const char* base_text)
{
  uint64_t size;
  uint8_t* arena = read_file(path, &size);
  if (arena == NULL) {
    return fail("cannot read %s", path);
  }
  const uint64_t base = strtoull(base_text, NULL, 10);
  tdn_bls_spec spec;
  tdn_diag diag;
  if (!tdn_bls_spec_decode(arena, size, base, base, size - base, &spec, &diag)) {
    free(arena);
    return fail("%s", diag.text);
  }
  printf("{\"model\":");
  print_json_string(spec.model_name);
  printf(",\"version\":%lld,\"id\":", (long long)spec.model_version);
  print_json_string(spec.id);
  printf(",\"correlation_string\":");
  if (spec.correlation_id_string != NULL) {
    print_json_string(spec.correlation_id_string);
  } else {
    printf("null");
  }
  printf(",\"correlation\":\"%llu\",\"flags\":%u,\"timeout_us\":\"%llu\",\"inputs\":[",
         (unsigned long long)spec.correlation_id, spec.flags, (unsigned long long)spec.timeout_us);
  for (uint32_t i = 0; i < spec.input_count; ++i) {
    const tdn_tensor_view* input = &spec.inputs[i].tensor;
    const uint8_t* owned = spec.inputs[i].owned;
    printf("%s{\"name\":", i == 0 ? "" : ",");
    print_json_string(input->name);
    printf(",\"datatype\":%u,\"shape\":[", input->datatype);
    for (uint32_t d = 0; d < input->rank; ++d) {
      printf("%s%lld", d == 0 ? "" : ",", (long long)input->shape[d]);
    }
    printf("],\"copied\":%s,\"data_hex\":", owned != NULL ? "true" : "false");
    print_hex(owned != NULL ? owned : arena + input->data_offset, input->data_size);
    printf("}");
  }
  printf("],\"outputs\":[");
  for (uint32_t i = 0; i < spec.output_count; ++i) {
    printf("%s", i == 0 ? "" : ",");
    print_json_string(spec.outputs[i]);
  }
  printf("],\"parameters\":[");
  for (uint32_t i = 0; i < spec.parameters.count; ++i) {
    const tdn_parameter* p = &spec.parameters.items[i];
    printf("%s{\"key\":", i == 0 ? "" : ",");
    print_json_string(p->key);
    switch (p->type) {
      case TRITONSERVER_PARAMETER_STRING:
        printf(",\"string\":");
        print_json_string(p->string_value);
        break;
      case TRITONSERVER_PARAMETER_INT:
        printf(",\"int\":\"%lld\"", (long long)p->int_value);
        break;
      case TRITONSERVER_PARAMETER_BOOL:
        printf(",\"bool\":%s", p->bool_value ? "true" : "false");
        break;
      default:
        printf(",\"double\":%.17g", p->double_value);
        break;
    }
    printf("}");
  }
  printf("]}\n");
  tdn_bls_spec_free(&spec);
  free(arena);
  return 0;
}

static int read_control(const char* path, const char* base_text, const char* operation_text)
{
  uint64_t size;
  uint8_t* arena = read_file(path, &size);
  if (arena == NULL) {
    return fail("cannot read %s", path);
  }
  const uint64_t base = strtoull(base_text, NULL, 10);
  tdn_control_spec spec;
  tdn_diag diag;
  const uint32_t operation = (uint32_t)strtoul(operation_text, NULL, 10);
  if (!tdn_control_spec_decode(arena, size, base, base, size - base, operation, &spec, &diag)) {
    tdn_control_spec_free(&spec);
    free(arena);
    return fail("%s", diag.text);
  }
  printf("{\"model\":");
  print_json_string(spec.model_name);
  printf(",\"version\":%lld,\"config\":", (long long)spec.model_version);
  if (spec.config != NULL) {
    print_json_string(spec.config);
  } else {
    printf("null");
  }
  printf(",\"unload_dependents\":%s,\"files\":[", spec.unload_dependents ? "true" : "false");
  for (uint32_t i = 0; i < spec.file_count; ++i) {
    printf("%s{\"path\":", i == 0 ? "" : ",");
    print_json_string(spec.files[i].path);
    printf(",\"data_hex\":");
    print_hex(spec.files[i].data, spec.files[i].size);
    printf("}");
  }
  printf("]}\n");
  tdn_control_spec_free(&spec);
  free(arena);
  return 0;
}

/* ---- Records ------------------------------------------------------------ */

/* The parent's sample records (tests/wire/golden/parent_records_v3.bin):
 * one of every parent -> stub kind, as the parent sends it. */
enum { PARENT_RECORD_COUNT = 8 };
static const tdn_record parent_records[PARENT_RECORD_COUNT] = {
    {.kind = TDN_MSG_INIT, .flags = 0, .aux = 0, .id = 0, .offset = 0, .length = 120},
    {.kind = TDN_MSG_EXECUTE, .flags = 0, .aux = 0, .id = 5, .offset = 64, .length = 24},
    {.kind = TDN_MSG_FINALIZE, .flags = 0, .aux = 0, .id = 0, .offset = 0, .length = 0},
    {.kind = TDN_MSG_CANCEL, .flags = TDN_FLAG_CLOSED, .aux = 1, .id = 5, .offset = 0, .length = 0},
    {.kind = TDN_MSG_BLS_RESPONSE, .flags = TDN_FLAG_FINAL, .aux = 0, .id = 9,
     .offset = 128, .length = 268},
    {.kind = TDN_MSG_CONTROL_DONE, .flags = 0, .aux = 2, .id = 10, .offset = 640, .length = 9},
    {.kind = TDN_MSG_INSTANCE, .flags = 0, .aux = 0, .id = 0, .offset = 0, .length = 300},
    {.kind = TDN_MSG_IS_READY, .flags = 0, .aux = 0, .id = 7, .offset = 0, .length = 0},
};

static int write_records(const char* path)
{
  FILE* file = fopen(path, "wb");
  if (file == NULL) {
    return fail("cannot write %s", path);
  }
  const size_t written = fwrite(parent_records, sizeof(tdn_record), PARENT_RECORD_COUNT, file);
  return fclose(file) == 0 && written == PARENT_RECORD_COUNT ? 0 : fail("cannot write %s", path);
}

/* The parent's own checks of each stub kind (ffi/src/record_check.c) where
 * the kind has them; the others are checked where their payload is read. */
static bool record_ok(const tdn_record* record, tdn_diag* why)
{
  switch (record->kind) {
    case TDN_MSG_READY:
      return tdn_check_ready(record, why);
    case TDN_MSG_READINESS:
      return tdn_check_readiness(record, why);
    case TDN_MSG_RESPONSE:
      return tdn_check_response_flags(record, why);
    case TDN_MSG_ERROR:
    case TDN_MSG_RESULT:
    case TDN_MSG_FINALIZED:
    case TDN_MSG_LOG:
    case TDN_MSG_EXECUTE_DONE:
    case TDN_MSG_METRICS:
    case TDN_MSG_BLS_REQUEST:
    case TDN_MSG_BLS_CANCEL:
    case TDN_MSG_CONTROL:
    case TDN_MSG_CONFIG:
    case TDN_MSG_TRACE:
    case TDN_MSG_PROGRESS:
      return true;
    default:
      return tdn_diag_set(why, "sent kind %u, which is not a stub -> parent kind", record->kind);
  }
}

static int read_records(const char* path)
{
  uint64_t size;
  uint8_t* data = read_file(path, &size);
  if (data == NULL || size % sizeof(tdn_record) != 0) {
    free(data);
    return fail("cannot read whole records from %s", path);
  }
  printf("[");
  for (uint64_t i = 0; i < size / sizeof(tdn_record); ++i) {
    tdn_record record;
    memcpy(&record, data + i * sizeof(tdn_record), sizeof(record));
    tdn_diag why;
    if (!record_ok(&record, &why)) {
      free(data);
      return fail("the stub %s", why.text);
    }
    printf(
        "%s{\"kind\":%u,\"flags\":%u,\"aux\":%u,\"id\":\"%llu\",\"offset\":\"%llu\","
        "\"length\":\"%llu\"}",
        i == 0 ? "" : ",", record.kind, record.flags, record.aux, (unsigned long long)record.id,
        (unsigned long long)record.offset, (unsigned long long)record.length);
  }
  printf("]\n");
  free(data);
  return 0;
}

/* ---- BLS_RESPONSE ------------------------------------------------------- */

/* The sample BLS_RESPONSE (tests/wire/golden/bls_response_v3.bin): Triton
 * wrote the two outputs in place at arena offsets 0 and 64; the payload
 * lies at BLS_RESPONSE_AT. */
enum { BLS_RESPONSE_AT = 128, BLS_RESPONSE_ARENA = 512 };
static const float bls_output0_data[2] = {0.5f, -2.0f};
static const int64_t bls_output0_shape[2] = {1, 2};
static const int64_t bls_output1_shape[1] = {2};
static const tdn_encoded_output bls_outputs[2] = {
    {"OUT0", DATATYPE_FP32, 2, bls_output0_shape, 0, sizeof(bls_output0_data)},
    {"TEXT", DATATYPE_BYTES, 1, bls_output1_shape, 64, sizeof(request0_input1_data)},
};
static const char bls_parameters[] =
    "{\"k\":{\"type\":\"BOOL\",\"value\":\"true\"},\"n\":{\"type\":\"INT\",\"value\":\"-4\"}}";
static const tdn_encoded_response bls_sample = {
    .status = TDN_STATUS_OK,
    .error_code = 0,
    .message = "",
    .message_length = 0,
    .output_count = 2,
    .outputs = bls_outputs,
    .parameters = bls_parameters,
    .parameters_length = sizeof(bls_parameters) - 1,
};

/* Encodes the sample into a fresh arena of stale bytes; *used: its end. */
static uint8_t* encode_bls_sample(uint64_t* used)
{
  uint8_t* arena = malloc(BLS_RESPONSE_ARENA);
  if (arena == NULL) {
    return NULL;
  }
  memset(arena, 0, BLS_RESPONSE_ARENA);
  memcpy(arena, bls_output0_data, sizeof(bls_output0_data));
  memcpy(arena + 64, request0_input1_data, sizeof(request0_input1_data));
  const uint64_t size = tdn_one_response_size(&bls_sample);
  memset(arena + BLS_RESPONSE_AT, 0xA5, size);
  *used = BLS_RESPONSE_AT + tdn_one_response_encode(arena, BLS_RESPONSE_AT, &bls_sample);
  if (*used != BLS_RESPONSE_AT + size) {
    fail("%s", "the encoder wrote another size than it measured");
    free(arena);
    return NULL;
  }
  return arena;
}

static int write_bls_response(const char* path)
{
  uint64_t used;
  uint8_t* arena = encode_bls_sample(&used);
  if (arena == NULL) {
    return 1;
  }
  FILE* file = fopen(path, "wb");
  int status = file != NULL && fwrite(arena, 1, used, file) == used ? 0 : 1;
  if (file != NULL && fclose(file) != 0) {
    status = 1;
  }
  free(arena);
  return status == 0 ? 0 : fail("cannot write %s", path);
}

static int compare_with_file(const char* path, const uint8_t* bytes, uint64_t used)
{
  uint64_t expected_size;
  uint8_t* expected = read_file(path, &expected_size);
  if (expected == NULL) {
    return fail("cannot read %s", path);
  }
  int status = 0;
  if (used != expected_size) {
    fprintf(stderr, "golden_c: encoder wrote %llu bytes, %s has %llu\n",
            (unsigned long long)used, path, (unsigned long long)expected_size);
    status = 1;
  }
  for (uint64_t i = 0; status == 0 && i < used; ++i) {
    if (bytes[i] != expected[i]) {
      fprintf(stderr, "golden_c: first difference at byte %llu: encoder 0x%02x, %s 0x%02x\n",
              (unsigned long long)i, bytes[i], path, expected[i]);
      status = 1;
    }
  }
  free(expected);
  return status;
}

static int check_bls_response(const char* path)
{
  uint64_t used;
  uint8_t* arena = encode_bls_sample(&used);
  if (arena == NULL) {
    return 1;
  }
  const int status = compare_with_file(path, arena, used);
  free(arena);
  return status;
}

/* ---- METRICS ------------------------------------------------------------ */

static int read_metrics(const char* path)
{
  uint64_t size;
  uint8_t* data = read_file(path, &size);
  if (data == NULL) {
    return fail("cannot read %s", path);
  }
  tdn_metrics_batch batch;
  tdn_diag why;
  if (!tdn_metrics_batch_parse(data, size, &batch, &why)) {
    free(data);
    return fail("the stub's METRICS: %s", why.text);
  }
  int status = 0;
  printf("{\"families\":[");
  for (uint32_t i = 0; status == 0 && i < batch.family_count; ++i) {
    tdn_metric_family_spec family;
    if (!tdn_metric_family_read(&batch.families[i], &family, &why)) {
      status = fail("the stub's METRICS: %s", why.text);
      break;
    }
    printf("%s{\"id\":%llu,\"name\":", i == 0 ? "" : ",", (unsigned long long)family.id);
    print_json_string(family.name);
    printf(",\"description\":");
    print_json_string(family.description);
    printf(",\"kind\":\"%s\"}", tdn_metric_kind_name(family.kind));
  }
  printf("],\"metrics\":[");
  for (uint32_t i = 0; status == 0 && i < batch.metric_count; ++i) {
    tdn_metric_spec metric;
    if (!tdn_metric_read(&batch.metrics[i], &metric, &why)) {
      status = fail("the stub's METRICS: %s", why.text);
      break;
    }
    printf("%s{\"id\":%llu,\"family\":%llu,\"labels\":[", i == 0 ? "" : ",",
           (unsigned long long)metric.id, (unsigned long long)metric.family);
    for (uint32_t l = 0; l < metric.label_count; ++l) {
      printf("%s[", l == 0 ? "" : ",");
      print_json_string(metric.labels[l].name.text);
      putchar(',');
      print_json_string(metric.labels[l].value.text);
      putchar(']');
    }
    printf("]");
    if (metric.has_buckets) {
      printf(",\"buckets\":[");
      for (uint32_t b = 0; b < metric.bucket_count; ++b) {
        printf("%s%.17g", b == 0 ? "" : ",", metric.buckets[b]);
      }
      printf("]");
    }
    printf("}");
  }
  printf("],\"updates\":[");
  for (uint32_t i = 0; status == 0 && i < batch.update_count; ++i) {
    tdn_metric_update update;
    if (!tdn_metric_update_read(&batch.updates[i], &update, &why)) {
      status = fail("the stub's METRICS: %s", why.text);
      break;
    }
    printf("%s[%llu,\"%s\",%.17g]", i == 0 ? "" : ",", (unsigned long long)update.id,
           tdn_metric_op_name(update.op), update.value);
  }
  const uint64_t* const deleted[2] = {batch.deleted_metrics, batch.deleted_families};
  const uint32_t deleted_counts[2] = {batch.deleted_metric_count, batch.deleted_family_count};
  printf("],\"deletes\":{");
  for (int d = 0; d < 2; ++d) {
    printf("%s\"%s\":[", d == 0 ? "" : ",", d == 0 ? "metrics" : "families");
    for (uint32_t i = 0; status == 0 && i < deleted_counts[d]; ++i) {
      if (!tdn_metrics_check_id(deleted[d][i], &why)) {
        status = fail("the stub's METRICS: %s", why.text);
        break;
      }
      printf("%s%llu", i == 0 ? "" : ",", (unsigned long long)deleted[d][i]);
    }
    printf("]");
  }
  printf("}}\n");
  tdn_metrics_batch_free(&batch);
  free(data);
  return status;
}

/* ---- Layout ------------------------------------------------------------- */

/* Every field offset and struct size of tdn_wire.h, as JSON keyed the way
 * runtime/wire/layout.ts names them (field names in capitals). */
#define FIELD(type, field, key) printf("%s\"%s\":%zu", first ? "" : ",", key, offsetof(type, field)), first = 0
#define STRUCT_END(type) printf(",\"SIZE\":%zu}", sizeof(type))

static int print_layout(void)
{
  int first;
  printf("{\"RECORD\":{");
  first = 1;
  FIELD(tdn_record, kind, "KIND"); FIELD(tdn_record, flags, "FLAGS"); FIELD(tdn_record, aux, "AUX");
  FIELD(tdn_record, id, "ID"); FIELD(tdn_record, offset, "OFFSET");
  FIELD(tdn_record, length, "LENGTH");
  STRUCT_END(tdn_record);
  printf(",\"RING\":{");
  first = 1;
  FIELD(tdn_ring, tail, "TAIL"); FIELD(tdn_ring, consumer_sleeping, "CONSUMER_SLEEPING");
  FIELD(tdn_ring, soon, "SOON");
  FIELD(tdn_ring, head, "HEAD"); FIELD(tdn_ring, producer_sleeping, "PRODUCER_SLEEPING");
  FIELD(tdn_ring, done, "DONE"); FIELD(tdn_ring, records, "RECORDS");
  STRUCT_END(tdn_ring);
  printf(",\"CONTROL\":{");
  first = 1;
  FIELD(tdn_control, magic, "MAGIC"); FIELD(tdn_control, version, "VERSION");
  FIELD(tdn_control, window_size, "WINDOW_SIZE"); FIELD(tdn_control, arena_size, "ARENA_SIZE");
  FIELD(tdn_control, parent_pid, "PARENT_PID"); FIELD(tdn_control, reserved0, "RESERVED0");
  FIELD(tdn_control, stub_base, "STUB_BASE"); FIELD(tdn_control, to_stub, "TO_STUB");
  FIELD(tdn_control, to_parent, "TO_PARENT");
  STRUCT_END(tdn_control);
  printf(",\"STR\":{");
  first = 1;
  FIELD(tdn_str, offset, "OFFSET"); FIELD(tdn_str, length, "LENGTH");
  FIELD(tdn_str, reserved, "RESERVED");
  STRUCT_END(tdn_str);
  printf(",\"TENSOR\":{");
  first = 1;
  FIELD(tdn_tensor, name, "NAME"); FIELD(tdn_tensor, datatype, "DATATYPE");
  FIELD(tdn_tensor, rank, "RANK"); FIELD(tdn_tensor, shape_offset, "SHAPE_OFFSET");
  FIELD(tdn_tensor, data_offset, "DATA_OFFSET"); FIELD(tdn_tensor, data_size, "DATA_SIZE");
  STRUCT_END(tdn_tensor);
  printf(",\"BATCH_HEADER\":{");
  first = 1;
  FIELD(tdn_batch_header, request_count, "REQUEST_COUNT");
  FIELD(tdn_batch_header, reserved, "RESERVED"); FIELD(tdn_batch_header, arena_used, "ARENA_USED");
  STRUCT_END(tdn_batch_header);
  printf(",\"REQUEST\":{");
  first = 1;
  FIELD(tdn_request, id, "ID");
  FIELD(tdn_request, correlation_id_string, "CORRELATION_ID_STRING");
  FIELD(tdn_request, correlation_id, "CORRELATION_ID"); FIELD(tdn_request, flags, "FLAGS");
  FIELD(tdn_request, input_count, "INPUT_COUNT"); FIELD(tdn_request, inputs_offset, "INPUTS_OFFSET");
  FIELD(tdn_request, requested_output_count, "REQUESTED_OUTPUT_COUNT");
  FIELD(tdn_request, reserved, "RESERVED");
  FIELD(tdn_request, requested_outputs_offset, "REQUESTED_OUTPUTS_OFFSET");
  FIELD(tdn_request, parameters_json, "PARAMETERS_JSON");
  FIELD(tdn_request, timeout_us, "TIMEOUT_US");
  STRUCT_END(tdn_request);
  printf(",\"RESULT_HEADER\":{");
  first = 1;
  FIELD(tdn_result_header, response_count, "RESPONSE_COUNT");
  FIELD(tdn_result_header, reserved, "RESERVED");
  FIELD(tdn_result_header, responses_offset, "RESPONSES_OFFSET");
  STRUCT_END(tdn_result_header);
  printf(",\"RESPONSE\":{");
  first = 1;
  FIELD(tdn_response, status, "STATUS"); FIELD(tdn_response, error_code, "ERROR_CODE");
  FIELD(tdn_response, error_message, "ERROR_MESSAGE");
  FIELD(tdn_response, output_count, "OUTPUT_COUNT"); FIELD(tdn_response, flags, "FLAGS");
  FIELD(tdn_response, outputs_offset, "OUTPUTS_OFFSET");
  FIELD(tdn_response, parameters_json, "PARAMETERS_JSON");
  STRUCT_END(tdn_response);
  printf(",\"BLS_REQUEST\":{");
  first = 1;
  FIELD(tdn_bls_request, model_name, "MODEL_NAME");
  FIELD(tdn_bls_request, model_version, "MODEL_VERSION"); FIELD(tdn_bls_request, id, "ID");
  FIELD(tdn_bls_request, correlation_id_string, "CORRELATION_ID_STRING");
  FIELD(tdn_bls_request, correlation_id, "CORRELATION_ID"); FIELD(tdn_bls_request, flags, "FLAGS");
  FIELD(tdn_bls_request, input_count, "INPUT_COUNT");
  FIELD(tdn_bls_request, inputs_offset, "INPUTS_OFFSET");
  FIELD(tdn_bls_request, requested_output_count, "REQUESTED_OUTPUT_COUNT");
  FIELD(tdn_bls_request, reserved, "RESERVED");
  FIELD(tdn_bls_request, requested_outputs_offset, "REQUESTED_OUTPUTS_OFFSET");
  FIELD(tdn_bls_request, timeout_us, "TIMEOUT_US");
  FIELD(tdn_bls_request, parameters_json, "PARAMETERS_JSON");
  STRUCT_END(tdn_bls_request);
  printf(",\"METRICS_HEADER\":{");
  first = 1;
  FIELD(tdn_metrics_header, family_count, "FAMILY_COUNT");
  FIELD(tdn_metrics_header, metric_count, "METRIC_COUNT");
  FIELD(tdn_metrics_header, update_count, "UPDATE_COUNT");
  FIELD(tdn_metrics_header, deleted_metric_count, "DELETED_METRIC_COUNT");
  FIELD(tdn_metrics_header, deleted_family_count, "DELETED_FAMILY_COUNT");
  FIELD(tdn_metrics_header, reserved, "RESERVED");
  STRUCT_END(tdn_metrics_header);
  printf(",\"CONTROL_REQUEST\":{");
  first = 1;
  FIELD(tdn_control_request, model_name, "MODEL_NAME");
  FIELD(tdn_control_request, model_version, "MODEL_VERSION");
  FIELD(tdn_control_request, config, "CONFIG");
  FIELD(tdn_control_request, files_offset, "FILES_OFFSET");
  FIELD(tdn_control_request, file_count, "FILE_COUNT");
  FIELD(tdn_control_request, flags, "FLAGS");
  STRUCT_END(tdn_control_request);
  printf(",\"CONTROL_FILE\":{");
  first = 1;
  FIELD(tdn_control_file, path, "PATH");
  FIELD(tdn_control_file, data_offset, "DATA_OFFSET");
  FIELD(tdn_control_file, data_size, "DATA_SIZE");
  STRUCT_END(tdn_control_file);
  printf("}\n");
  return 0;
}

int main(int argc, char** argv)
{
  const uint16_t probe = 1;
  if (*(const uint8_t*)&probe != 1) {
    return fail("%s", "the sample data assumes a little-endian host");
  }
  if (argc == 3 && strcmp(argv[1], "write-batch") == 0) {
    return write_batch(argv[2]);
  }
  if (argc == 3 && strcmp(argv[1], "check-batch") == 0) {
    return check_batch(argv[2]);
  }
  if (argc == 3 && strcmp(argv[1], "read-result") == 0) {
    return read_result(argv[2]);
  }
  if (argc == 3 && strcmp(argv[1], "write-records") == 0) {
    return write_records(argv[2]);
  }
  if (argc == 3 && strcmp(argv[1], "read-records") == 0) {
    return read_records(argv[2]);
  }
  if (argc == 2 && strcmp(argv[1], "layout") == 0) {
    return print_layout();
  }
  if (argc == 3 && strcmp(argv[1], "write-bls-response") == 0) {
    return write_bls_response(argv[2]);
  }
  if (argc == 3 && strcmp(argv[1], "check-bls-response") == 0) {
    return check_bls_response(argv[2]);
  }
  if (argc == 3 && strcmp(argv[1], "read-metrics") == 0) {
    return read_metrics(argv[2]);
  }
  if (argc == 4 && strcmp(argv[1], "read-bls") == 0) {
    return read_bls(argv[2], argv[3]);
  }
  if (argc == 5 && strcmp(argv[1], "read-control") == 0) {
    return read_control(argv[2], argv[3], argv[4]);
  }
  fprintf(
      stderr,
      "usage: golden_c layout, golden_c write-batch|check-batch|read-result|write-records|read-records|"
      "write-bls-response|check-bls-response|read-metrics FILE, read-bls FILE BASE, "
      "read-control FILE BASE OPERATION\n");
  return 2;
}
