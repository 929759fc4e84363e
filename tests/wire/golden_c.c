/*
 * golden_c: the C side of the wire golden test. It runs the backend's own
 * encoder (ffi/src/batch_writer.c) and decoder (ffi/src/result_reader.c)
 * against committed bytes that the TypeScript side checks too.
 *
 *   golden_c write-batch FILE   encode the sample batch below, write arena [0, arena_used)
 *   golden_c check-batch FILE   exit 0 only if the encoder reproduces FILE byte for byte
 *   golden_c read-result FILE   decode FILE as an arena holding a RESULT header at offset 0
 *                               (3 responses) and print it as canonical JSON
 *   golden_c write-records FILE write the parent's sample records (below) as tdn_record[]
 *   golden_c read-records FILE  print FILE's tdn_record[] as JSON, each checked the way the
 *                               parent checks that kind
 *   golden_c read-bls FILE BASE decode FILE as an arena whose stub half starts at BASE, with a
 *                               BLS_REQUEST payload there, and print it as canonical JSON (or
 *                               the parent's complaint on stderr, exit 1)
 *
 * Build: gcc -std=c11 -D_GNU_SOURCE -Iffi/include -Iffi/src tests/wire/golden_c.c
 *        ffi/src/batch_writer.c ffi/src/result_reader.c -o build/golden_c
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch_writer.h"
#include "bls_request.h"
#include "record_check.h"
#include "result_reader.h"
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

/* Request 0's parameters, in the wire's object form (ffi/src/parameters.h). */
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
      const tdn_output_view* output = &response->outputs[k];
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
    const tdn_bls_input* input = &spec.inputs[i];
    printf("%s{\"name\":", i == 0 ? "" : ",");
    print_json_string(input->name);
    printf(",\"datatype\":%u,\"shape\":[", input->datatype);
    for (uint32_t d = 0; d < input->rank; ++d) {
      printf("%s%lld", d == 0 ? "" : ",", (long long)input->shape[d]);
    }
    printf("],\"copied\":%s,\"data_hex\":", input->owned != NULL ? "true" : "false");
    print_hex(input->owned != NULL ? input->owned : arena + input->data_offset, input->data_size);
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
 * IS_READY probe 7. */
static const tdn_record parent_records[1] = {
    {.kind = TDN_MSG_IS_READY, .flags = 0, .aux = 0, .id = 7, .offset = 0, .length = 0},
};

static int write_records(const char* path)
{
  FILE* file = fopen(path, "wb");
  if (file == NULL) {
    return fail("cannot write %s", path);
  }
  const size_t written = fwrite(parent_records, sizeof(tdn_record), 1, file);
  return fclose(file) == 0 && written == 1 ? 0 : fail("cannot write %s", path);
}

/* The parent's own checks of each stub kind the sample holds
 * (ffi/src/record_check.c). */
static bool record_ok(const tdn_record* record, tdn_diag* why)
{
  switch (record->kind) {
    case TDN_MSG_READY:
      return tdn_check_ready(record, why);
    case TDN_MSG_READINESS:
      return tdn_check_readiness(record, why);
    case TDN_MSG_RESPONSE:
      return tdn_check_response_flags(record, why);
    default:
      return tdn_diag_set(why, "sent kind %u, which the sample does not hold", record->kind);
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
  if (argc == 4 && strcmp(argv[1], "read-bls") == 0) {
    return read_bls(argv[2], argv[3]);
  }
  if (argc == 5 && strcmp(argv[1], "read-control") == 0) {
    return read_control(argv[2], argv[3], argv[4]);
  }
  fprintf(
      stderr,
      "usage: golden_c write-batch|check-batch|read-result|write-records|read-records FILE, "
      "read-bls FILE BASE, read-control FILE BASE OPERATION\n");
  return 2;
}
