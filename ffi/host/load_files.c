/*
 * load_files.c: model files given with a load ("file:<path>" parameters of
 * TRITONSERVER_ServerLoadModelWithParameters). As Triton does, they make a
 * model directory of their own in a temporary place, which replaces the
 * repository's for that load; every path must stay inside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host_core.h"
#include "host_server.h"

/* Relative, and no part empty, "." or "..": the file stays in the directory. */
static bool path_stays_inside(const char* path) {
  if (path[0] == '\0' || path[0] == '/') return false;
  for (const char* part = path;;) {
    const char* end = strchr(part, '/');
    size_t length = end == NULL ? strlen(part) : (size_t)(end - part);
    if (length == 0 || (length == 1 && part[0] == '.') ||
        (length == 2 && part[0] == '.' && part[1] == '.')) {
      return false;
    }
    if (end == NULL) return true;
    part = end + 1;
  }
}

/* Creates the directories above `path` (inside `root`) and writes the file. */
static TRITONSERVER_Error* write_file(const char* root, const char* relative, const void* bytes,
                                      uint64_t size) {
  host_text path = {0};
  host_text_printf(&path, "%s/%s", root, relative);
  for (char* slash = strchr(path.data + strlen(root) + 1, '/'); slash != NULL;
       slash = strchr(slash + 1, '/')) {
    *slash = '\0';
    bool made = mkdir(path.data, 0700) == 0 || errno == EEXIST;
    struct stat info;
    bool directory = made && stat(path.data, &info) == 0 && S_ISDIR(info.st_mode);
    *slash = '/';
    if (!directory) {
      TRITONSERVER_Error* error = host_error_new(
          TRITONSERVER_ERROR_INVALID_ARG,
          "Invalid file parameter 'file:%s', directory has been created as a file", relative);
      host_text_free(&path);
      return error;
    }
  }
  TRITONSERVER_Error* error = NULL;
  int fd = open(path.data, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  const char* at = bytes;
  uint64_t left = size;
  while (fd >= 0 && left > 0) {
    ssize_t written = write(fd, at, left);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) break;
    at += written;
    left -= (uint64_t)written;
  }
  if (fd < 0 || left > 0) {
    error = host_error_new(TRITONSERVER_ERROR_INTERNAL, "cannot write model file '%s': %s",
                           relative, strerror(errno));
  }
  if (fd >= 0) close(fd);
  host_text_free(&path);
  return error;
}

TRITONSERVER_Error* host_load_files_write(const char* model_name,
                                          const TRITONSERVER_Parameter** files, uint64_t count,
                                          char** root) {
  *root = NULL;
  char pattern[] = "/tmp/triton_host_load_XXXXXX";
  if (mkdtemp(pattern) == NULL) {
    return host_error_new(TRITONSERVER_ERROR_INTERNAL, "cannot make a directory for model files: %s",
                          strerror(errno));
  }
  host_text model_dir = {0};
  host_text_printf(&model_dir, "%s/%s", pattern, model_name);
  TRITONSERVER_Error* error = NULL;
  if (mkdir(model_dir.data, 0700) != 0) {
    error = host_error_new(TRITONSERVER_ERROR_INTERNAL, "cannot make a directory for model files: %s",
                           strerror(errno));
  }
  for (uint64_t i = 0; error == NULL && i < count; i++) {
    const TRITONSERVER_Parameter* file = files[i];
    const char* relative = file->name + strlen("file:");
    if (file->type != TRITONSERVER_PARAMETER_BYTES) {
      error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                             "File parameter '%s' must have bytes type for its value", file->name);
    } else if (!path_stays_inside(relative)) {
      error = host_error_new(TRITONSERVER_ERROR_INVALID_ARG,
                             "Invalid file parameter '%s': it must stay within model directory.",
                             file->name);
    } else {
      error = write_file(model_dir.data, relative, file->bytes, file->byte_size);
    }
  }
  host_text_free(&model_dir);
  if (error != NULL) {
    host_load_files_remove(pattern);
    return error;
  }
  *root = host_strdup(pattern);
  return NULL;
}

static int remove_entry(const char* path, const struct stat* info, int flag, struct FTW* walk) {
  (void)info;
  (void)flag;
  (void)walk;
  remove(path);
  return 0;
}

void host_load_files_remove(const char* root) {
  if (root != NULL) nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
