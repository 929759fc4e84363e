/*
 * parameter_list.c: parses and checks the parameters JSON the stub wrote
 * (parameters.h). Nothing here calls Triton.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"
#include "parameters.h"

static bool parse_value(tdn_parameter* parameter, const char* type, const char* text, tdn_diag* diag)
{
  char* end = NULL;
  if (strcmp(type, "STRING") == 0) {
    parameter->type = TRITONSERVER_PARAMETER_STRING;
    parameter->string_value = strdup(text);
    return parameter->string_value != NULL || tdn_diag_set(diag, "out of memory");
  }
  if (strcmp(type, "INT") == 0) {
    errno = 0;
    const long long value = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0') {
      return tdn_diag_set(diag, "INT parameter '%s' has value '%.64s'", parameter->key, text);
    }
    parameter->type = TRITONSERVER_PARAMETER_INT;
    parameter->int_value = value;
    return true;
  }
  if (strcmp(type, "BOOL") == 0) {
    if (strcmp(text, "true") != 0 && strcmp(text, "false") != 0) {
      return tdn_diag_set(diag, "BOOL parameter '%s' has value '%.64s'", parameter->key, text);
    }
    parameter->type = TRITONSERVER_PARAMETER_BOOL;
    parameter->bool_value = text[0] == 't';
    return true;
  }
  if (strcmp(type, "DOUBLE") == 0) {
    errno = 0;
    const double value = strtod(text, &end);
    if (errno == ERANGE || end == text || *end != '\0') {
      return tdn_diag_set(diag, "DOUBLE parameter '%s' has value '%.64s'", parameter->key, text);
    }
    parameter->type = TRITONSERVER_PARAMETER_DOUBLE;
    parameter->double_value = value;
    return true;
  }
  return tdn_diag_set(
      diag, "parameter '%s' has type '%.32s'; expected STRING, INT, BOOL or DOUBLE",
      parameter->key, type);
}

bool tdn_parameters_parse(
    const char* text, size_t length, tdn_parameter_list* list, tdn_diag* diag)
{
  memset(list, 0, sizeof(*list));
  if (length == 0) {
    return true;
  }
  tdn_diag why;
  tdn_json_value* root = tdn_json_parse(text, length, 2, &why);
  if (root == NULL) {
    return tdn_diag_set(diag, "parameters are not valid: %s", why.text);
  }
  bool ok = true;
  if (root->kind != TDN_JSON_OBJECT) {
    ok = tdn_diag_set(diag, "parameters must be a JSON object");
  } else if (root->member_count > TDN_MAX_PARAMETERS) {
    ok = tdn_diag_set(
        diag, "%zu parameters, at most %u allowed", root->member_count, TDN_MAX_PARAMETERS);
  } else if (root->member_count > 0) {
    list->items = calloc(root->member_count, sizeof(tdn_parameter));
    ok = list->items != NULL || tdn_diag_set(diag, "out of memory");
  }
  for (size_t i = 0; ok && root->kind == TDN_JSON_OBJECT && i < root->member_count; ++i) {
    const tdn_json_member* member = &root->members[i];
    tdn_parameter* parameter = &list->items[i];
    parameter->key = strdup(member->key);
    list->count++;
    if (parameter->key == NULL) {
      ok = tdn_diag_set(diag, "out of memory");
      break;
    }
    if (member->key[0] == '\0' || strlen(member->key) > TDN_MAX_PARAMETER_TEXT) {
      ok = tdn_diag_set(diag, "a parameter name is empty or longer than %u bytes",
                        TDN_MAX_PARAMETER_TEXT);
      break;
    }
    const tdn_json_value* type = tdn_json_member_value(member->value, "type");
    const tdn_json_value* value = tdn_json_member_value(member->value, "value");
    if (member->value->kind != TDN_JSON_OBJECT || type == NULL || value == NULL ||
        type->kind != TDN_JSON_STRING || value->kind != TDN_JSON_STRING ||
        member->value->member_count != 2) {
      ok = tdn_diag_set(
          diag, "parameter '%s' must be {\"type\": ..., \"value\": ...} with string members",
          member->key);
      break;
    }
    if (strlen(value->string) > TDN_MAX_PARAMETER_TEXT) {
      ok = tdn_diag_set(
          diag, "parameter '%s' is longer than %u bytes", member->key, TDN_MAX_PARAMETER_TEXT);
      break;
    }
    ok = parse_value(parameter, type->string, value->string, diag);
  }
  tdn_json_free(root);
  if (!ok) {
    tdn_parameter_list_free(list);
  }
  return ok;
}

void tdn_parameter_list_free(tdn_parameter_list* list)
{
  for (uint32_t i = 0; i < list->count; ++i) {
    free(list->items[i].key);
    free(list->items[i].string_value);
  }
  free(list->items);
  memset(list, 0, sizeof(*list));
}

