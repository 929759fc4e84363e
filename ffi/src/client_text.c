/*
 * client_text.c: see client_text.h. A hand-written scanner for the one
 * pattern of client_text.ts: an absolute path (optionally a `file://` URL)
 * starts where the byte before is not a word character, `.`, `~` or `-`
 * (so the /4 of 3/4 is no path) and names something (bare slashes, such
 * as those of a // comment, are none), and runs from its `/` to the next
 * whitespace or one of " ' ` ( ) < > , ; :. Whitespace is ASCII's here,
 * where JavaScript's \s also knows Unicode's: a path followed by, say, a
 * no-break space runs on, and so is hidden the more, never the less.
 */
#include "client_text.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char TRUNCATED[] = " ... (truncated; the whole message is in the server's log)";
static const char HIDDEN[] = "<server path>";
static const char FILE_SCHEME[] = "file://";

typedef struct buffer {
  char* data;
  size_t length;
  size_t capacity;
  bool failed;
} buffer;

static void append(buffer* out, const char* bytes, size_t count)
{
  if (out->failed) {
    return;
  }
  if (out->length + count + 1 > out->capacity) {
    size_t capacity = out->capacity > 0 ? out->capacity : 256;
    while (out->length + count + 1 > capacity) {
      capacity *= 2;
    }
    char* grown = realloc(out->data, capacity);
    if (grown == NULL) {
      out->failed = true;
      return;
    }
    out->data = grown;
    out->capacity = capacity;
  }
  memcpy(out->data + out->length, bytes, count);
  out->length += count;
  out->data[out->length] = '\0';
}

/* JavaScript's \s, as far as ASCII goes. */
static bool is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static bool ends_path(char c)
{
  return c == '\0' || is_space(c) || strchr("\"'`()<>,;:", c) != NULL;
}

/* A byte after which no path may start: [A-Za-z0-9_.~-]. */
static bool joins_word(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || c == '.' || c == '~' || c == '-';
}

/* The length of a path starting at `at`, or 0: slashes, then a byte that
 * is neither a slash nor an end (bare slashes, such as a // comment's, are
 * no path), then all up to the next end. */
static size_t path_length(const char* at, size_t available)
{
  size_t length = 0;
  while (length < available && at[length] == '/') {
    length++;
  }
  if (length == 0 || length == available || at[length] == '/' || ends_path(at[length])) {
    return 0;
  }
  while (length < available && !ends_path(at[length])) {
    length++;
  }
  return length;
}

/* The length of a path or file: URL starting at `at`, or 0. */
static size_t match_length(const char* at, size_t available)
{
  const size_t scheme = sizeof(FILE_SCHEME) - 1;
  if (available > scheme && strncmp(at, FILE_SCHEME, scheme) == 0) {
    const size_t path = path_length(at + scheme, available - scheme);
    if (path > 0) {
      return scheme + path;
    }
  }
  return path_length(at, available);
}

typedef struct own_prefixes {
  char* url;   /* file://<dir>/ */
  char* plain; /* <dir>/ */
} own_prefixes;

static bool has_prefix(const char* text, size_t length, const char* prefix)
{
  const size_t count = strlen(prefix);
  return count <= length && strncmp(text, prefix, count) == 0;
}

/* One line with every path replaced. */
static void relative_line(buffer* out, const char* line, size_t length, const own_prefixes* own)
{
  size_t i = 0;
  while (i < length) {
    const bool may_start = i == 0 || !joins_word(line[i - 1]);
    const size_t match = may_start ? match_length(line + i, length - i) : 0;
    if (match == 0) {
      append(out, line + i, 1);
      i++;
      continue;
    }
    const char* path = line + i;
    if (own->url != NULL && has_prefix(path, match, own->url)) {
      const size_t skip = strlen(own->url);
      append(out, path + skip, match - skip);
    } else if (own->plain != NULL && has_prefix(path, match, own->plain)) {
      const size_t skip = strlen(own->plain);
      append(out, path + skip, match - skip);
    } else {
      append(out, HIDDEN, sizeof(HIDDEN) - 1);
    }
    i += match;
  }
}

/* Cuts `out` to the limit, on a character boundary, and adds the note. */
static void cap(buffer* out)
{
  if (out->failed || out->length <= TDN_CLIENT_TEXT_LIMIT) {
    return;
  }
  size_t room = TDN_CLIENT_TEXT_LIMIT - (sizeof(TRUNCATED) - 1);
  while (room > 0 && ((unsigned char)out->data[room] & 0xC0) == 0x80) {
    room--;
  }
  out->length = room;
  out->data[room] = '\0';
  append(out, TRUNCATED, sizeof(TRUNCATED) - 1);
}

static char* joined(const char* directory, size_t length, const char* before)
{
  const size_t head = strlen(before);
  char* text = malloc(head + length + 2);
  if (text != NULL) {
    memcpy(text, before, head);
    memcpy(text + head, directory, length);
    text[head + length] = '/';
    text[head + length + 1] = '\0';
  }
  return text;
}

char* tdn_client_text(const char* text, const char* model_directory)
{
  own_prefixes own = {NULL, NULL};
  size_t directory_length = model_directory != NULL ? strlen(model_directory) : 0;
  while (directory_length > 0 && model_directory[directory_length - 1] == '/') {
    directory_length--;
  }
  /* "/" (or "") as the model's directory would make every path its own. */
  if (directory_length > 0) {
    own.url = joined(model_directory, directory_length, FILE_SCHEME);
    own.plain = joined(model_directory, directory_length, "");
    if (own.url == NULL || own.plain == NULL) {
      free(own.url);
      free(own.plain);
      return NULL;
    }
  }
  buffer out = {NULL, 0, 0, false};
  append(&out, "", 0);
  const char* line = text;
  for (;;) {
    const char* end = strchr(line, '\n');
    const size_t length = end != NULL ? (size_t)(end - line) : strlen(line);
    relative_line(&out, line, length, &own);
    if (end == NULL) {
      break;
    }
    append(&out, "\n", 1);
    line = end + 1;
  }
  free(own.url);
  free(own.plain);
  cap(&out);
  if (out.failed) {
    free(out.data);
    return NULL;
  }
  return out.data;
}
