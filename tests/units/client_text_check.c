/*
 * client_text_check: unit tests of the parent's client form of error texts
 * (ffi/src/client_text.c). It answers every case of
 * tests/fixtures/client_text_cases.json (the path is the one argument) as
 * runtime/worker/client_text.ts's clientPaths does, changes nothing on a
 * second pass, and caps a long text on a character boundary. Exit status:
 * the failure count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "client_text.h"
#include "json_reader.h"

static char* read_file(const char* path, size_t* length)
{
  FILE* file = fopen(path, "rb");
  if (file == NULL) {
    return NULL;
  }
  char* text = NULL;
  if (fseek(file, 0, SEEK_END) == 0) {
    const long size = ftell(file);
    if (size >= 0 && fseek(file, 0, SEEK_SET) == 0 && (text = malloc((size_t)size + 1)) != NULL) {
      *length = fread(text, 1, (size_t)size, file);
      text[*length] = '\0';
    }
  }
  fclose(file);
  return text;
}

static const char* string_member(const tdn_json_value* object, const char* key)
{
  const tdn_json_value* value = tdn_json_member_value(object, key);
  return value != NULL && value->kind == TDN_JSON_STRING ? value->string : NULL;
}

static void test_shared_cases(const char* path)
{
  size_t length = 0;
  char* text = read_file(path, &length);
  CHECK(text != NULL, "cannot read %s", path);
  if (text == NULL) {
    return;
  }
  tdn_diag why;
  tdn_json_value* root = tdn_json_parse(text, length, 4, &why);
  CHECK(root != NULL, "%s: %s", path, why.text);
  const tdn_json_value* cases = root != NULL ? tdn_json_member_value(root, "cases") : NULL;
  CHECK(cases != NULL && cases->kind == TDN_JSON_ARRAY && cases->element_count >= 8,
        "%s has no cases", path);
  for (size_t i = 0; cases != NULL && i < cases->element_count; ++i) {
    const tdn_json_value* item = cases->elements[i];
    const char* name = string_member(item, "name");
    const char* directory = string_member(item, "directory");
    const char* input = string_member(item, "text");
    const char* client = string_member(item, "client");
    CHECK(name != NULL && directory != NULL && input != NULL && client != NULL,
          "case %zu is malformed", i);
    if (name == NULL || directory == NULL || input == NULL || client == NULL) {
      continue;
    }
    char* got = tdn_client_text(input, directory);
    CHECK(got != NULL && strcmp(got, client) == 0, "%s: got \"%s\", expected \"%s\"", name,
          got != NULL ? got : "(null)", client);
    char* again = got != NULL ? tdn_client_text(got, directory) : NULL;
    CHECK(again != NULL && got != NULL && strcmp(again, got) == 0, "%s: a second pass changed it",
          name);
    free(again);
    free(got);
  }
  tdn_json_free(root);
  free(text);
}

static void test_cap(void)
{
  /* 40000 × "é" (2 bytes each): cut on a boundary, with the note. */
  const size_t count = 40000;
  char* text = malloc(count * 2 + 1);
  CHECK(text != NULL, "out of memory");
  if (text == NULL) {
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    text[2 * i] = (char)0xC3;
    text[2 * i + 1] = (char)0xA9;
  }
  text[count * 2] = '\0';
  char* got = tdn_client_text(text, "/models/m");
  CHECK(got != NULL && strlen(got) <= TDN_CLIENT_TEXT_LIMIT, "capped at the limit");
  const char* note = " ... (truncated; the whole message is in the server's log)";
  const size_t note_length = strlen(note);
  if (got != NULL && strlen(got) >= note_length) {
    const size_t head = strlen(got) - note_length;
    CHECK(strcmp(got + head, note) == 0, "the note ends it");
    CHECK(head % 2 == 0 && head + note_length > TDN_CLIENT_TEXT_LIMIT - 2,
          "cut on a character boundary, as late as fits (head %zu)", head);
  }
  free(got);
  free(text);
  char* same = tdn_client_text("short", NULL);
  CHECK(same != NULL && strcmp(same, "short") == 0, "a short text without paths is unchanged");
  free(same);
}

int main(int argc, char** argv)
{
  test_shared_cases(argc > 1 ? argv[1] : "tests/fixtures/client_text_cases.json");
  test_cap();
  if (check_failures == 0) {
    printf("client_text_check: all checks passed\n");
  }
  return check_failures;
}
