/*
 * bls_request.c: see bls_request.h. Every struct is copied out of the
 * arena before any of its fields is looked at, so the stub cannot change a
 * value between our check and our use of it.
 */
#include "bls_request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena_view.h"
#include "batch_codec.h"
#include "tdn_wire.h"
#include "utf8.h"

/* TRITONSERVER_REQUEST_FLAG_SEQUENCE_START | _END. */
#define KNOWN_FLAGS 3u

/* Copies a string that must be UTF-8 text without NULs of at most
 * `max_length` bytes (at least one unless `may_be_empty`). */
static bool copy_text(
    const arena_view* arena, const tdn_str* str, uint32_t max_length, bool may_be_empty,
    const char* what, char** out, tdn_diag* why)
{
  *out = NULL;
  if (str->length > max_length || (str->length == 0 && !may_be_empty)) {
    return tdn_diag_set(
        why, "%s is %u bytes; expected %s%u", what, str->length,
        may_be_empty ? "at most " : "1 to ", max_length);
  }
  if (!in_bounds(arena, str->offset, str->length)) {
    return tdn_diag_set(why, "%s lies outside the arena", what);
  }
  char* copy = malloc((size_t)str->length + 1);
  if (copy == NULL) {
    return tdn_diag_set(why, "%s cannot be copied: out of memory", what);
  }
  memcpy(copy, arena->base + str->offset, str->length);
  copy[str->length] = '\0';
  if (!tdn_utf8_is_valid_text((const uint8_t*)copy, str->length)) {
    free(copy);
    return tdn_diag_set(why, "%s is not UTF-8 text without NUL bytes", what);
  }
  *out = copy;
  return true;
}

static bool decode_inputs(
    const arena_view* arena, uint64_t stub_base, const tdn_bls_request* wire, tdn_bls_spec* spec,
    tdn_diag* why)
{
  if (wire->input_count > TDN_BLS_MAX_INPUTS) {
    return tdn_diag_set(
        why, "input_count is %u; at most %u", wire->input_count, TDN_BLS_MAX_INPUTS);
  }
  if (wire->input_count == 0) {
    return true;
  }
  spec->inputs = calloc(wire->input_count, sizeof(tdn_bls_input));
  if (spec->inputs == NULL) {
    return tdn_diag_set(why, "the inputs cannot be copied: out of memory");
  }
  spec->input_count = wire->input_count;
  const tdn_tensor_rules rules = {
      .kind = "input", .where = "", .region = "the stub's half", .data_start = stub_base};
  for (uint32_t i = 0; i < wire->input_count; ++i) {
    tdn_tensor tensor;
    if (wire->inputs_offset > UINT64_MAX - (uint64_t)wire->input_count * sizeof(tdn_tensor) ||
        !read_struct(
            arena, wire->inputs_offset + (uint64_t)i * sizeof(tdn_tensor), &tensor,
            sizeof(tensor))) {
      return tdn_diag_set(why, "input %u lies outside the arena", i);
    }
    tdn_bls_input* input = &spec->inputs[i];
    /* Triton reads fixed-size data in place (its size cannot change under
     * it); BYTES data is copied and the copy checked and read. */
    if (!tdn_tensor_decode(arena, &tensor, i, &rules, &input->tensor, &input->owned, why)) {
      return false;
    }
    for (uint32_t earlier = 0; earlier < i; ++earlier) {
      if (strcmp(spec->inputs[earlier].tensor.name, input->tensor.name) == 0) {
        return tdn_diag_set(why, "input '%s' appears twice", input->tensor.name);
      }
    }
  }
  return true;
}

static bool decode_outputs(
    const arena_view* arena, const tdn_bls_request* wire, tdn_bls_spec* spec, tdn_diag* why)
{
  if (wire->requested_output_count > TDN_MAX_OUTPUTS) {
    return tdn_diag_set(
        why, "requested_output_count is %u; at most %u", wire->requested_output_count,
        TDN_MAX_OUTPUTS);
  }
  if (wire->requested_output_count == 0) {
    return true;
  }
  spec->outputs = calloc(wire->requested_output_count, sizeof(char*));
  if (spec->outputs == NULL) {
    return tdn_diag_set(why, "the requested outputs cannot be copied: out of memory");
  }
  spec->output_count = wire->requested_output_count;
  for (uint32_t i = 0; i < wire->requested_output_count; ++i) {
    tdn_str str;
    if (wire->requested_outputs_offset >
            UINT64_MAX - (uint64_t)wire->requested_output_count * sizeof(tdn_str) ||
        !read_struct(
            arena, wire->requested_outputs_offset + (uint64_t)i * sizeof(tdn_str), &str,
            sizeof(str))) {
      return tdn_diag_set(why, "requested output %u lies outside the arena", i);
    }
    char what[64];
    snprintf(what, sizeof(what), "requested output %u", i);
    if (!copy_text(arena, &str, TDN_MAX_NAME_LENGTH, false, what, &spec->outputs[i], why)) {
      return false;
    }
    for (uint32_t earlier = 0; earlier < i; ++earlier) {
      if (strcmp(spec->outputs[earlier], spec->outputs[i]) == 0) {
        return tdn_diag_set(why, "output '%s' is requested twice", spec->outputs[i]);
      }
    }
  }
  return true;
}

static bool decode_spec(
    const arena_view* arena, uint64_t stub_base, uint64_t offset, uint64_t length,
    tdn_bls_spec* spec, tdn_diag* why)
{
  tdn_bls_request wire;
  if (length < sizeof(wire) || offset < stub_base ||
      !read_struct(arena, offset, &wire, sizeof(wire))) {
    return tdn_diag_set(
        why, "the request [%llu, +%llu) is not a tdn_bls_request inside the stub's half",
        (unsigned long long)offset, (unsigned long long)length);
  }
  if (!copy_text(
          arena, &wire.model_name, TDN_MAX_NAME_LENGTH, false, "the model name", &spec->model_name,
          why)) {
    return false;
  }
  if (wire.model_version < -1) {
    return tdn_diag_set(
        why, "model_version is %lld; expected -1 or more", (long long)wire.model_version);
  }
  spec->model_version = wire.model_version;
  if (!copy_text(arena, &wire.id, TDN_BLS_MAX_ID_LENGTH, true, "the request id", &spec->id, why)) {
    return false;
  }
  if (wire.correlation_id_string.length > 0) {
    if (!copy_text(
            arena, &wire.correlation_id_string, TDN_BLS_MAX_ID_LENGTH, false,
            "the correlation id", &spec->correlation_id_string, why)) {
      return false;
    }
  }
  spec->correlation_id = wire.correlation_id;
  if ((wire.flags & ~KNOWN_FLAGS) != 0) {
    return tdn_diag_set(why, "flags are %u; only 1 (sequence start) and 2 (end) exist", wire.flags);
  }
  spec->flags = wire.flags;
  spec->timeout_us = wire.timeout_us;
  if (!decode_inputs(arena, stub_base, &wire, spec, why) ||
      !decode_outputs(arena, &wire, spec, why)) {
    return false;
  }
  if (wire.parameters_json.length > 0) {
    char* json = NULL;
    if (!copy_text(
            arena, &wire.parameters_json, UINT32_MAX, true, "parameters_json", &json, why)) {
      return false;
    }
    tdn_diag problem;
    const bool parsed =
        tdn_parameters_parse(json, wire.parameters_json.length, &spec->parameters, &problem);
    free(json);
    if (!parsed) {
      return tdn_diag_set(why, "bad parameters: %s", problem.text);
    }
  }
  return true;
}

bool tdn_bls_spec_decode(
    const uint8_t* arena, uint64_t arena_size, uint64_t stub_base, uint64_t offset,
    uint64_t length, tdn_bls_spec* spec, tdn_diag* why)
{
  memset(spec, 0, sizeof(*spec));
  const arena_view view = {.base = arena, .size = arena_size};
  if (!decode_spec(&view, stub_base, offset, length, spec, why)) {
    tdn_bls_spec_free(spec);
    return false;
  }
  return true;
}

void tdn_bls_spec_free(tdn_bls_spec* spec)
{
  for (uint32_t i = 0; i < spec->input_count; ++i) {
    free(spec->inputs[i].tensor.name);
    free(spec->inputs[i].tensor.shape);
    free(spec->inputs[i].owned);
  }
  free(spec->inputs);
  for (uint32_t i = 0; i < spec->output_count; ++i) {
    free(spec->outputs[i]);
  }
  free(spec->outputs);
  tdn_parameter_list_free(&spec->parameters);
  free(spec->model_name);
  free(spec->id);
  free(spec->correlation_id_string);
  memset(spec, 0, sizeof(*spec));
}

/* A file's path must name a place inside the model's directory: relative,
 * and no part empty, "." or "..". Triton checks too; this is the parent's
 * own word, whatever core runs. */
static bool control_path_ok(const char* path)
{
  if (path[0] == '/') {
    return false;
  }
  const char* part = path;
  for (;;) {
    const char* end = strchr(part, '/');
    const size_t length = end == NULL ? strlen(part) : (size_t)(end - part);
    if (length == 0 || (length == 1 && part[0] == '.') ||
        (length == 2 && part[0] == '.' && part[1] == '.')) {
      return false;
    }
    if (end == NULL) {
      return true;
    }
    part = end + 1;
  }
}

static bool decode_control_files(
    const arena_view* view, uint64_t stub_base, const tdn_control_request* wire,
    tdn_control_spec* spec, tdn_diag* why)
{
  if (wire->file_count > TDN_MAX_CONTROL_FILES) {
    return tdn_diag_set(
        why, "a load gives %u files; at most %u", wire->file_count, TDN_MAX_CONTROL_FILES);
  }
  spec->files = calloc(wire->file_count, sizeof(*spec->files));
  if (spec->files == NULL) {
    return tdn_diag_set(why, "the load's files cannot be copied: out of memory");
  }
  for (uint32_t i = 0; i < wire->file_count; ++i) {
    tdn_control_file file;
    if (!read_struct(view, wire->files_offset + (uint64_t)i * sizeof(file), &file, sizeof(file))) {
      return tdn_diag_set(why, "file %u of the load lies outside the arena", i);
    }
    tdn_control_file_spec* out = &spec->files[i];
    spec->file_count = i + 1;
    char what[48];
    snprintf(what, sizeof(what), "file %u's path", i);
    if (!copy_text(view, &file.path, TDN_MAX_CONTROL_PATH_LENGTH, false, what, &out->path, why)) {
      return false;
    }
    if (!control_path_ok(out->path)) {
      return tdn_diag_set(
          why, "file path '%s' must be relative to the model's directory, without '.', '..' or "
               "empty parts",
          out->path);
    }
    for (uint32_t earlier = 0; earlier < i; ++earlier) {
      if (strcmp(spec->files[earlier].path, out->path) == 0) {
        return tdn_diag_set(why, "file path '%s' is given twice", out->path);
      }
    }
    if (file.data_offset < stub_base || !in_bounds(view, file.data_offset, file.data_size)) {
      return tdn_diag_set(why, "file '%s' has its data outside the stub's half", out->path);
    }
    out->data = malloc(file.data_size > 0 ? file.data_size : 1);
    if (out->data == NULL) {
      return tdn_diag_set(why, "file '%s' cannot be copied: out of memory", out->path);
    }
    memcpy(out->data, view->base + file.data_offset, file.data_size);
    out->size = file.data_size;
  }
  return true;
}

bool tdn_control_spec_decode(
    const uint8_t* arena, uint64_t arena_size, uint64_t stub_base, uint64_t offset,
    uint64_t length, uint32_t operation, tdn_control_spec* spec, tdn_diag* why)
{
  memset(spec, 0, sizeof(*spec));
  const arena_view view = {.base = arena, .size = arena_size};
  tdn_control_request wire;
  if (length < sizeof(wire) || !read_struct(&view, offset, &wire, sizeof(wire))) {
    return tdn_diag_set(
        why, "the request [%llu, +%llu) is not a tdn_control_request inside the arena",
        (unsigned long long)offset, (unsigned long long)length);
  }
  if (wire.model_version < -1) {
    return tdn_diag_set(
        why, "model_version is %lld; expected -1 or more", (long long)wire.model_version);
  }
  spec->model_version = wire.model_version;
  const bool load = operation == TDN_CONTROL_LOAD;
  if (!load && (wire.config.length != 0 || wire.file_count != 0)) {
    return tdn_diag_set(why, "only a load takes a configuration or files");
  }
  if ((wire.flags & ~TDN_CONTROL_FLAG_UNLOAD_DEPENDENTS) != 0 ||
      (wire.flags != 0 && operation != TDN_CONTROL_UNLOAD)) {
    return tdn_diag_set(why, "flags %u are not valid for this operation", wire.flags);
  }
  spec->unload_dependents = (wire.flags & TDN_CONTROL_FLAG_UNLOAD_DEPENDENTS) != 0;
  if (!copy_text(
          &view, &wire.model_name, TDN_MAX_NAME_LENGTH, false, "the model name",
          &spec->model_name, why)) {
    return false;
  }
  if (wire.config.length > 0 &&
      !copy_text(
          &view, &wire.config, TDN_MAX_CONTROL_CONFIG_LENGTH, false, "the configuration",
          &spec->config, why)) {
    return false;
  }
  if (wire.file_count > 0 && spec->config == NULL) {
    /* Triton's rule too: files replace the model's directory, config.pbtxt included. */
    return tdn_diag_set(why, "files are given without a configuration to load them with");
  }
  return wire.file_count == 0 || decode_control_files(&view, stub_base, &wire, spec, why);
}

void tdn_control_spec_free(tdn_control_spec* spec)
{
  free(spec->model_name);
  free(spec->config);
  for (uint32_t i = 0; i < spec->file_count; ++i) {
    free(spec->files[i].path);
    free(spec->files[i].data);
  }
  free(spec->files);
  memset(spec, 0, sizeof(*spec));
}
