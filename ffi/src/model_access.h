/*
 * model_access.h: which other models a model may reach, from its sandbox
 * record (`models`: call through BLS and ask whether ready;
 * `model_control`: load and unload). The lists hold model names and globs
 * (`*`, `?`, `[abc]`, `[!a-z]`, nothing escaped), exactly as the policy
 * evaluator checked them against the operator's ceiling
 * (sandbox/policy/rules.ts). The parent asks here before it touches the target,
 * so that a refusal says nothing about whether the target exists.
 */
#ifndef TDN_MODEL_ACCESS_H
#define TDN_MODEL_ACCESS_H

#include <stdbool.h>

/* Whether every comma-separated item of `patterns` is a well-formed
 * pattern (an empty list is). */
bool tdn_model_patterns_ok(const char* patterns);

/* Whether `model` matches one of the comma-separated `patterns`. */
bool tdn_model_allowed(const char* patterns, const char* model);

#endif /* TDN_MODEL_ACCESS_H */
