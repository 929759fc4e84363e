/*
 * json_reader_check: unit tests of ffi/src/json_reader.c (every kind, the
 * limits, the errors) and of its callers that have no Triton dependency
 * (the parameter reader in batch_codec.c): they still refuse every kind they did not take before
 * numbers, arrays and booleans existed. Exit status: the failure count.
 */
#include <locale.h>
#include <stdlib.h>

#include "check.h"
#include "json_reader.h"
#include "batch_codec.h"

static tdn_json_value* parse(const char* text, unsigned depth, tdn_diag* why)
{
  return tdn_json_parse(text, strlen(text), depth, why);
}

/* `text` is refused with a message containing `reason`. */
static void refused(const char* text, unsigned depth, const char* reason)
{
  tdn_diag why = {{0}};
  tdn_json_value* value = parse(text, depth, &why);
  CHECK(value == NULL, "'%s' was accepted", text);
  tdn_json_free(value);
  CHECK_HAS(why.text, reason);
}

static void refused_limited(const char* text, const tdn_json_limits* limits, const char* reason)
{
  tdn_diag why = {{0}};
  tdn_json_value* value = tdn_json_parse_limited(text, strlen(text), limits, &why);
  CHECK(value == NULL, "'%s' was accepted", text);
  tdn_json_free(value);
  CHECK_HAS(why.text, reason);
}

static void test_kinds(void)
{
  tdn_diag why;
  tdn_json_value* root =
      parse(" {\"s\":\"a\\u00e9\\n\",\"n\":-12.5e1,\"z\":0,\"t\":true,\"f\":false,"
            "\"a\":[1,[\"x\"],{}],\"o\":{\"k\":\"v\"}} ",
            3, &why);
  CHECK(root != NULL, "%s", why.text);
  if (root == NULL) {
    return;
  }
  const tdn_json_value* s = tdn_json_member_value(root, "s");
  CHECK(s->kind == TDN_JSON_STRING && strcmp(s->string, "a\xc3\xa9\n") == 0, "string");
  const tdn_json_value* n = tdn_json_member_value(root, "n");
  CHECK(n->kind == TDN_JSON_NUMBER && n->number == -125.0, "number %g", n->number);
  CHECK(strcmp(n->string, "-12.5e1") == 0, "number text '%s'", n->string);
  const tdn_json_value* z = tdn_json_member_value(root, "z");
  CHECK(z->kind == TDN_JSON_NUMBER && z->number == 0.0 && strcmp(z->string, "0") == 0, "zero");
  CHECK(tdn_json_member_value(root, "t")->boolean, "true");
  CHECK(tdn_json_member_value(root, "f")->kind == TDN_JSON_BOOL, "false's kind");
  CHECK(!tdn_json_member_value(root, "f")->boolean, "false");
  const tdn_json_value* a = tdn_json_member_value(root, "a");
  CHECK(a->kind == TDN_JSON_ARRAY && a->element_count == 3, "array");
  CHECK(a->elements[1]->kind == TDN_JSON_ARRAY && a->elements[1]->element_count == 1, "nested");
  CHECK(a->elements[2]->kind == TDN_JSON_OBJECT && a->elements[2]->member_count == 0, "{}");
  CHECK(tdn_json_member_value(root, "o")->kind == TDN_JSON_OBJECT, "object");
  CHECK(strcmp(tdn_json_kind_name(a->kind), "an array") == 0, "kind name");
  tdn_json_free(root);

  /* The smallest and largest doubles, and underflow to zero, are numbers. */
  root = parse("[5e-324,1.7976931348623157e308,1e-400,-0]", 1, &why);
  CHECK(root != NULL, "%s", why.text);
  if (root != NULL) {
    CHECK(root->elements[0]->number > 0, "denormal");
    CHECK(root->elements[2]->number == 0, "underflow");
    tdn_json_free(root);
  }
}

static void test_numbers_in_another_locale(void)
{
  /* A decimal comma locale must not change what "0.5" means. */
  if (setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL && setlocale(LC_NUMERIC, "fr_FR.UTF-8") == NULL) {
    return; /* none installed: nothing to show */
  }
  tdn_diag why;
  tdn_json_value* value = parse("0.5", 0, &why);
  CHECK(value != NULL && value->number == 0.5, "0.5 in a decimal comma locale");
  tdn_json_free(value);
  setlocale(LC_NUMERIC, "C");
}

static void test_errors(void)
{
  refused("", 2, "expected a value, found the end of the text");
  refused("null", 2, "null is not accepted here");
  refused("[null]", 2, "at byte 1: null is not accepted here");
  refused("nul", 2, "expected a value");
  refused("tru", 2, "expected true or false");
  refused("01", 2, "leading zero");
  refused("-", 2, "expected a digit");
  refused("1.", 2, "expected a digit after the decimal point");
  refused("1e", 2, "expected a digit in the exponent");
  refused("+1", 2, "expected a value");
  refused(".5", 2, "expected a value");
  refused("NaN", 2, "expected a value");
  refused("Infinity", 2, "expected a value");
  refused("1e309", 2, "the number 1e309 is too large for a double");
  refused("-1e999", 2, "too large for a double");
  refused("1" "00000000000000000000000000000000000000000000000000000000000000000", 2,
          "a number longer than 64 characters");
  refused("[1,]", 2, "expected a value");
  refused("[1 2]", 2, "expected ',' or ']'");
  refused("[1", 2, "expected ',' or ']'");
  refused("{\"a\":1,}", 2, "expected a string");
  refused("{\"a\":1,\"a\":2}", 2, "duplicate key \"a\"");
  refused("\"a\\u0000\"", 2, "\\u0000 is not allowed");
  refused("\"\xff\"", 2, "invalid UTF-8");
  refused("1 2", 2, "unexpected text after the value");
  refused("[[1]]", 1, "objects and arrays nested too deeply");
  refused("{\"a\":{}}", 1, "nested too deeply");
  refused("[]", 0, "nested too deeply");
}

static void test_limits(void)
{
  const tdn_json_limits limits = {
      .max_depth = 3, .max_members = 2, .max_elements = 3, .max_values = 6};
  tdn_diag why;
  tdn_json_value* value = tdn_json_parse_limited("[1,2,3]", 7, &limits, &why);
  CHECK(value != NULL, "%s", why.text);
  tdn_json_free(value);
  refused_limited("[1,2,3,4]", &limits, "an array with more than 3 elements");
  refused_limited("{\"a\":1,\"b\":2,\"c\":3}", &limits, "an object with more than 2 members");
  refused_limited("[[1,2],[3,4]]", &limits, "more than 6 values in the document");
  refused_limited("[[[[1]]]]", &limits, "nested too deeply");
}

/* The parameter reader (batch_codec.c) checks kinds: numbers, arrays and booleans stay refused. */
static void test_parameter_list_refuses_new_kinds(void)
{
  const char* const refused_lists[] = {
      "{\"a\":{\"type\":\"INT\",\"value\":42}}",
      "{\"a\":{\"type\":\"BOOL\",\"value\":true}}",
      "{\"a\":{\"type\":\"STRING\",\"value\":[\"x\"]}}",
      "{\"a\":[1]}",
      "{\"a\":7}",
      "[]",
      "3",
      "{\"a\":{\"type\":\"INT\",\"value\":null}}",
  };
  for (size_t i = 0; i < sizeof(refused_lists) / sizeof(refused_lists[0]); ++i) {
    tdn_parameter_list list;
    tdn_diag why = {{0}};
    const bool ok =
        tdn_parameters_parse(refused_lists[i], strlen(refused_lists[i]), &list, &why);
    CHECK(!ok, "parameters '%s' were accepted", refused_lists[i]);
    if (ok) {
      tdn_parameter_list_free(&list);
    }
  }
  tdn_parameter_list list;
  tdn_diag why;
  const char* good = "{\"n\":{\"type\":\"INT\",\"value\":\"42\"}}";
  CHECK(tdn_parameters_parse(good, strlen(good), &list, &why), "%s", why.text);
  CHECK(list.count == 1 && list.items[0].int_value == 42, "the INT parameter");
  tdn_parameter_list_free(&list);
}

int main(void)
{
  test_kinds();
  test_numbers_in_another_locale();
  test_errors();
  test_limits();
  test_parameter_list_refuses_new_kinds();
  if (check_failures == 0) {
    printf("json_reader_check: all checks passed\n");
  }
  return check_failures;
}
