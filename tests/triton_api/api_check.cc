// Compiled by `make triton-api-check` (and `make test-triton`) against a
// Triton install's own headers: every function ffi/include/triton_api.h
// declares must be declared identically there (a mismatch is a
// "conflicting declaration of C function" error), and the generated
// enum_values.h asserts that every enum value we wrote equals Triton's.
// Triton's headers are C++ (they name structs without `struct`), so this
// one check is C++; the backend itself stays C11.
#include <triton/core/tritonbackend.h>
#include <triton/core/tritonserver.h>

#define TRITONDENO_API_CHECK
#include "triton_api.h"

#include "enum_values.h"

int main() { return 0; }
