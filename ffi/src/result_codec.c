/*
 * result_codec.c: see result_codec.h.
 */
#include "result_codec.h"

#include <string.h>

uint64_t tdn_one_response_size(const tdn_encoded_response* response)
{
  uint64_t bytes = sizeof(tdn_result_header) + sizeof(tdn_response) +
                   (uint64_t)response->output_count * sizeof(tdn_tensor) +
                   response->message_length + response->parameters_length;
  for (uint32_t i = 0; i < response->output_count; ++i) {
    bytes += (uint64_t)response->outputs[i].rank * sizeof(int64_t) +
             strlen(response->outputs[i].name);
  }
  return bytes;
}

static void put_str(uint8_t* arena, uint64_t* cursor, const void* text, size_t length, tdn_str* str)
{
  str->offset = *cursor;
  str->length = (uint32_t)length;
  str->reserved = 0;
  if (length > 0) {
    memcpy(arena + *cursor, text, length);
  }
  *cursor += length;
}

uint64_t tdn_one_response_encode(
    uint8_t* arena, uint64_t base, const tdn_encoded_response* response)
{
  const uint64_t response_at = base + sizeof(tdn_result_header);
  const uint64_t tensors_at = response_at + sizeof(tdn_response);
  uint64_t cursor = tensors_at + (uint64_t)response->output_count * sizeof(tdn_tensor);

  const tdn_result_header header = {
      .response_count = 1, .reserved = 0, .responses_offset = response_at};
  memcpy(arena + base, &header, sizeof(header));
  tdn_response wire;
  memset(&wire, 0, sizeof(wire));
  wire.status = response->status;
  wire.error_code = response->error_code;
  wire.output_count = response->output_count;
  wire.outputs_offset = tensors_at;
  /* The shapes, then the strings: the message, the output names, the parameters. */
  uint64_t shapes_end = cursor;
  for (uint32_t i = 0; i < response->output_count; ++i) {
    shapes_end += (uint64_t)response->outputs[i].rank * sizeof(int64_t);
  }
  uint64_t names = shapes_end + response->message_length;
  for (uint32_t i = 0; i < response->output_count; ++i) {
    const tdn_encoded_output* output = &response->outputs[i];
    tdn_tensor tensor;
    memset(&tensor, 0, sizeof(tensor));
    tensor.datatype = output->datatype;
    tensor.rank = output->rank;
    tensor.shape_offset = cursor;
    if (output->rank > 0) {
      memcpy(arena + cursor, output->shape, (size_t)output->rank * sizeof(int64_t));
    }
    cursor += (uint64_t)output->rank * sizeof(int64_t);
    tensor.data_offset = output->data_offset;
    tensor.data_size = output->data_size;
    put_str(arena, &names, output->name, strlen(output->name), &tensor.name);
    memcpy(arena + tensors_at + (uint64_t)i * sizeof(tdn_tensor), &tensor, sizeof(tensor));
  }
  put_str(arena, &cursor, response->message, response->message_length, &wire.error_message);
  cursor = names;
  put_str(arena, &cursor, response->parameters, response->parameters_length,
          &wire.parameters_json);
  memcpy(arena + response_at, &wire, sizeof(wire));
  return cursor - base;
}
