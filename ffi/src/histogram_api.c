/*
 * histogram_api.c: see histogram_api.h. tritonserver links
 * libtritonserver.so, so its functions are in the global scope and
 * dlsym(RTLD_DEFAULT) finds them. A process that loaded Triton privately
 * (RTLD_LOCAL) hides them from that scope, so the library that holds
 * TRITONSERVER_MetricNew (a function every supported Triton has, which we
 * link to) is asked next.
 */
#include "histogram_api.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static tdn_histogram_api api;
static const tdn_histogram_api* found = NULL;
static const char* missing = NULL;

/* `name` from the global scope, else from Triton's own library. */
static void* find(void* triton, const char* name)
{
  void* symbol = dlsym(RTLD_DEFAULT, name);
  if (symbol == NULL && triton != NULL) {
    symbol = dlsym(triton, name);
  }
  return symbol;
}

static void look_up(void)
{
  void* triton = NULL;
  Dl_info info;
  if (dladdr((void*)&TRITONSERVER_MetricNew, &info) != 0 && info.dli_fname != NULL) {
    triton = dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD);
  }
  static const char* const names[] = {
      "TRITONSERVER_MetricArgsNew",     "TRITONSERVER_MetricArgsSetHistogram",
      "TRITONSERVER_MetricArgsDelete",  "TRITONSERVER_MetricNewWithArgs",
      "TRITONSERVER_MetricObserve",
  };
  void* symbols[5];
  for (size_t i = 0; i < 5; ++i) {
    if ((symbols[i] = find(triton, names[i])) == NULL) {
      missing = names[i];
      break;
    }
  }
  if (triton != NULL) {
    dlclose(triton); /* NOLOAD took a reference to a library that stays loaded */
  }
  if (missing != NULL) {
    return;
  }
  /* POSIX guarantees that a dlsym result converts to a function pointer. */
  *(void**)&api.args_new = symbols[0];
  *(void**)&api.args_set_histogram = symbols[1];
  *(void**)&api.args_delete = symbols[2];
  *(void**)&api.metric_new_with_args = symbols[3];
  *(void**)&api.observe = symbols[4];
  found = &api;
}

const tdn_histogram_api* tdn_histogram_api_get(void)
{
  pthread_once(&once, look_up);
  return found;
}

const char* tdn_histogram_api_missing(void)
{
  pthread_once(&once, look_up);
  return missing;
}
