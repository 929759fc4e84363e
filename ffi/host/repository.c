/*
 * repository.c: the stand-in server's model repository: its model
 * directories and their version directories, read from disk as Triton
 * reads them, and each model's configuration, which is NOT read from disk.
 *
 * config.pbtxt is protobuf text format, which the stand-in does not parse:
 * host_repository_set_config is the stand-in's stand-in for Triton's own
 * config parser. The driver (runtime/core/server.ts, when the core exports
 * this function) parses each model's config.pbtxt with the TypeScript
 * parser and registers Triton's JSON form here before TRITONSERVER_ServerNew
 * and before each TRITONSERVER_ServerLoadModel. A model with no registered
 * configuration does not load, and says why.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host_api.h"
#include "host_core.h"

typedef struct host_registered_config {
  struct host_registered_config* next;
  char* repository;
  char* model_name;
  char* config_json; /* or NULL with problem */
  char* problem;
} host_registered_config;

static pthread_mutex_t host_repository_lock = PTHREAD_MUTEX_INITIALIZER;
static host_registered_config* host_registered;

/* The repository path without trailing slashes (malloc'ed). */
static char* host_repository_key(const char* repository) {
  char* key = host_strdup(repository);
  size_t length = strlen(key);
  while (length > 1 && key[length - 1] == '/') key[--length] = '\0';
  return key;
}

static void host_registered_free(host_registered_config* entry) {
  free(entry->repository);
  free(entry->model_name);
  free(entry->config_json);
  free(entry->problem);
  free(entry);
}

int32_t host_repository_set_config(const char* repository, const char* model_name,
                                   const char* config_json, const char* problem) {
  if (repository == NULL || model_name == NULL || model_name[0] == '\0') return -1;
  if (config_json != NULL) {
    const char* invalid = host_json_check(config_json, strlen(config_json));
    if (invalid != NULL) return -1;
  }
  char* key = host_repository_key(repository);
  pthread_mutex_lock(&host_repository_lock);
  host_registered_config** link = &host_registered;
  while (*link != NULL && (strcmp((*link)->repository, key) != 0 ||
                           strcmp((*link)->model_name, model_name) != 0)) {
    link = &(*link)->next;
  }
  host_registered_config* old = *link;
  if (old != NULL) *link = old->next;
  if (config_json != NULL || problem != NULL) {
    host_registered_config* entry = host_alloc(sizeof *entry);
    entry->repository = key;
    key = NULL;
    entry->model_name = host_strdup(model_name);
    entry->config_json = config_json == NULL ? NULL : host_strdup(config_json);
    entry->problem = config_json == NULL ? host_strdup(problem) : NULL;
    entry->next = host_registered;
    host_registered = entry;
  }
  pthread_mutex_unlock(&host_repository_lock);
  if (old != NULL) host_registered_free(old);
  free(key);
  return 0;
}

char* host_repository_config(const char* repository, const char* model_name, char** problem) {
  char* key = host_repository_key(repository);
  char* config = NULL;
  *problem = NULL;
  pthread_mutex_lock(&host_repository_lock);
  host_registered_config* entry = host_registered;
  while (entry != NULL && (strcmp(entry->repository, key) != 0 ||
                           strcmp(entry->model_name, model_name) != 0)) {
    entry = entry->next;
  }
  if (entry != NULL && entry->config_json != NULL) {
    config = host_strdup(entry->config_json);
  } else if (entry != NULL) {
    *problem = host_strdup(entry->problem);
  }
  pthread_mutex_unlock(&host_repository_lock);
  if (entry == NULL) {
    host_text reason = {0};
    host_text_printf(&reason,
                     "the stand-in core has no configuration for model '%s' of repository '%s': "
                     "it cannot read config.pbtxt itself, and its driver registered none "
                     "(host_repository_set_config; runtime/core/server.ts registers every "
                     "model directory that has a config.pbtxt)",
                     model_name, key);
    *problem = reason.data;
  }
  free(key);
  return config;
}

void host_repository_forget(const char* repository) {
  char* key = host_repository_key(repository);
  pthread_mutex_lock(&host_repository_lock);
  host_registered_config** link = &host_registered;
  while (*link != NULL) {
    host_registered_config* entry = *link;
    if (strcmp(entry->repository, key) == 0) {
      *link = entry->next;
      host_registered_free(entry);
    } else {
      link = &entry->next;
    }
  }
  pthread_mutex_unlock(&host_repository_lock);
  free(key);
}

/* ---- The directories. ---- */

static bool host_is_directory(const char* parent, const char* name) {
  host_text path = {0};
  host_text_printf(&path, "%s/%s", parent, name);
  struct stat info;
  bool directory = stat(path.data, &info) == 0 && S_ISDIR(info.st_mode);
  host_text_free(&path);
  return directory;
}

static int64_t host_stamp_of(const char* path, int depth) {
  struct stat info;
  if (lstat(path, &info) != 0) return 0;
  int64_t newest = (int64_t)info.st_mtim.tv_sec * 1000000000 + info.st_mtim.tv_nsec;
  if (!S_ISDIR(info.st_mode) || depth > 16) return newest;
  DIR* directory = opendir(path);
  if (directory == NULL) return newest;
  for (struct dirent* entry = readdir(directory); entry != NULL; entry = readdir(directory)) {
    if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0) continue;
    host_text child = {0};
    host_text_printf(&child, "%s/%s", path, entry->d_name);
    int64_t stamp = host_stamp_of(child.data, depth + 1);
    host_text_free(&child);
    if (stamp > newest) newest = stamp;
  }
  closedir(directory);
  return newest;
}

int64_t host_repository_stamp(const char* repository, const char* model_name) {
  host_text path = {0};
  host_text_printf(&path, "%s/%s", repository, model_name);
  int64_t stamp = host_stamp_of(path.data, 0);
  host_text_free(&path);
  return stamp;
}

static int host_name_order(const void* left, const void* right) {
  return strcmp(*(char* const*)left, *(char* const*)right);
}

uint32_t host_repository_models(const char* repository, char*** names) {
  *names = NULL;
  uint32_t count = 0;
  DIR* directory = opendir(repository);
  if (directory == NULL) return 0;
  for (struct dirent* entry = readdir(directory); entry != NULL; entry = readdir(directory)) {
    if (entry->d_name[0] == '.') continue; /* ".", "..", and hidden ones, as Triton skips */
    if (!host_is_directory(repository, entry->d_name)) continue;
    *names = host_grow(*names, sizeof **names * (count + 1u));
    (*names)[count++] = host_strdup(entry->d_name);
  }
  closedir(directory);
  if (count > 1) qsort(*names, count, sizeof **names, host_name_order);
  return count;
}

static int host_version_order(const void* left, const void* right) {
  uint64_t a = *(const uint64_t*)left;
  uint64_t b = *(const uint64_t*)right;
  return a < b ? -1 : a > b ? 1 : 0;
}

uint32_t host_repository_versions(const char* repository, const char* model_name,
                                  uint64_t** versions) {
  *versions = NULL;
  uint32_t count = 0;
  host_text path = {0};
  host_text_printf(&path, "%s/%s", repository, model_name);
  DIR* directory = opendir(path.data);
  if (directory != NULL) {
    for (struct dirent* entry = readdir(directory); entry != NULL; entry = readdir(directory)) {
      const char* name = entry->d_name;
      /* Triton takes directories named by a non-negative integer. */
      if (name[0] == '\0' || strspn(name, "0123456789") != strlen(name) || strlen(name) > 19) {
        continue;
      }
      if (!host_is_directory(path.data, name)) continue;
      *versions = host_grow(*versions, sizeof **versions * (count + 1u));
      (*versions)[count++] = strtoull(name, NULL, 10);
    }
    closedir(directory);
  }
  host_text_free(&path);
  if (count > 1) qsort(*versions, count, sizeof **versions, host_version_order);
  return count;
}
