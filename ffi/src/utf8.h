/*
 * utf8.h: strict UTF-8 validation. Names the stub returns and strings we put
 * into JSON must be valid UTF-8 (Triton's frontends and JSON.parse assume
 * it). Header-only so the wire codec links without extra objects.
 */
#ifndef TDN_UTF8_H
#define TDN_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length of the valid UTF-8 sequence at text[0] (1..4), or 0 if the bytes
 * there are not one: overlong forms, surrogates, values above U+10FFFF and
 * truncated sequences are all rejected. */
static inline size_t tdn_utf8_sequence_length(const uint8_t* text, size_t available)
{
  if (available == 0) {
    return 0;
  }
  const uint8_t lead = text[0];
  if (lead < 0x80) {
    return 1;
  }
  size_t length;
  uint32_t min_value;
  uint32_t value;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, min_value = 0x80, value = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, min_value = 0x800, value = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, min_value = 0x10000, value = lead & 0x07;
  } else {
    return 0;
  }
  if (available < length) {
    return 0;
  }
  for (size_t i = 1; i < length; ++i) {
    if ((text[i] & 0xC0) != 0x80) {
      return 0;
    }
    value = (value << 6) | (text[i] & 0x3F);
  }
  if (value < min_value || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
    return 0;
  }
  return length;
}

/* True when all `length` bytes are valid UTF-8 and none is NUL (the text
 * becomes a C string). */
static inline bool tdn_utf8_is_valid_text(const uint8_t* text, size_t length)
{
  size_t at = 0;
  while (at < length) {
    const size_t step = tdn_utf8_sequence_length(text + at, length - at);
    if (step == 0 || text[at] == 0) {
      return false;
    }
    at += step;
  }
  return true;
}

/* Replaces every byte that does not start a valid sequence, and every NUL,
 * with '?', in place: untrusted text becomes a printable C string of the
 * same length. */
static inline void tdn_utf8_sanitize(char* text, size_t length)
{
  uint8_t* bytes = (uint8_t*)text;
  size_t at = 0;
  while (at < length) {
    const size_t step = tdn_utf8_sequence_length(bytes + at, length - at);
    if (step == 0 || bytes[at] == 0) {
      bytes[at] = '?';
      at += 1;
    } else {
      at += step;
    }
  }
}

#endif /* TDN_UTF8_H */
