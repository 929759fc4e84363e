/*
 * policy_cache_check: unit tests of the parent's kept evaluator answers
 * (ffi/src/policy_cache.c): exact-request matches only, a newer answer
 * replaces an older one for the same request, and beyond the slots the
 * oldest answer goes. Exit status: the failure count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "policy_cache.h"

static tdn_policy_cache cache; /* large: not on the stack */

static void keep(const char* request, const char* answer)
{
  tdn_policy_cache_keep(&cache, request, strlen(request), answer);
}

/* The kept answer for `request`, or "" (a static copy, for checks). */
static const char* found(const char* request)
{
  static char text[64];
  char* answer = tdn_policy_cache_find(&cache, request, strlen(request));
  snprintf(text, sizeof(text), "%s", answer == NULL ? "" : answer);
  free(answer);
  return text;
}

static void test_exact_requests_only(void)
{
  tdn_policy_cache_init(&cache);
  keep("{\"model\":\"a\"}", "A");
  CHECK(strcmp(found("{\"model\":\"a\"}"), "A") == 0, "the same request: %s", found("{\"model\":\"a\"}"));
  CHECK(strcmp(found("{\"model\":\"a\"} "), "") == 0, "one byte more is another request");
  CHECK(strcmp(found("{\"model\":\"b\"}"), "") == 0, "another request");
  keep("{\"model\":\"a\"}", "A2");
  CHECK(strcmp(found("{\"model\":\"a\"}"), "A2") == 0, "the newer answer");
  CHECK(cache.count == 1, "one entry per request: %u", cache.count);
  tdn_policy_cache_free(&cache);
}

static void test_oldest_goes(void)
{
  tdn_policy_cache_init(&cache);
  char request[32];
  for (unsigned i = 0; i <= TDN_POLICY_CACHE_SLOTS; ++i) {
    snprintf(request, sizeof(request), "r%u", i);
    keep(request, request);
  }
  CHECK(cache.count == TDN_POLICY_CACHE_SLOTS, "at most %u kept", TDN_POLICY_CACHE_SLOTS);
  CHECK(strcmp(found("r0"), "") == 0, "the oldest went");
  CHECK(strcmp(found("r1"), "r1") == 0, "the next stays");
  snprintf(request, sizeof(request), "r%u", TDN_POLICY_CACHE_SLOTS);
  CHECK(strcmp(found(request), request) == 0, "the newest is kept");
  tdn_policy_cache_free(&cache);
}

int main(void)
{
  test_exact_requests_only();
  test_oldest_goes();
  if (check_failures == 0) {
    printf("policy_cache_check: all checks passed\n");
  }
  return check_failures;
}
