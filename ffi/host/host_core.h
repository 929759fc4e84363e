/*
 * host_core.h: the stand-in's server, as Triton's server API drives it
 * (TRITONSERVER_ServerOptions*, ServerNew, ...): options, the model
 * repository, the configurations it reads, the scheduler in front of each
 * model it loads, statistics, and the server's own state. Nothing declared
 * here is exported: the server functions are declared in triton_api.h.
 *
 * Locks: the server's (server.c), the statistics' (model_stats.c) and a
 * model's config_lock are leaves: nothing that takes another lock is called
 * with them held. The registry's (model_registry.c) may be held when the
 * server's is taken. A scheduler's lock and the registry's are never held
 * together. An inference request's lock may be held when either is taken.
 */
#ifndef HOST_CORE_H
#define HOST_CORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "host_json.h"
#include "host_server.h"

/* ---- Options (server_options.c). ---- */

typedef struct host_backend_setting {
  char* backend;
  char* key;
  char* value;
} host_backend_setting;

struct TRITONSERVER_ServerOptions {
  char* server_id;
  uint32_t repository_count;
  char** repositories;
  char* backend_dir;
  char* repoagent_dir;
  TRITONSERVER_ModelControlMode control_mode;
  uint32_t startup_model_count;
  char** startup_models;
  bool strict_model_config;
  bool strict_readiness;
  bool exit_on_error;
  unsigned int exit_timeout_s;
  unsigned int load_retry_count;
  char* log_file;
  bool log_info;
  bool log_warn;
  bool log_error;
  int log_verbose;
  bool metrics;
  uint32_t backend_setting_count;
  host_backend_setting* backend_settings;
};

TRITONSERVER_ServerOptions* host_server_options_copy(const TRITONSERVER_ServerOptions* options);
void host_server_options_free(TRITONSERVER_ServerOptions* options);
/* The backend's --backend-config settings as Triton passes them in the
 * backend config's "cmdline" (with backend-directory,
 * min-compute-capability and default-max-batch-size), a JSON object. */
char* host_server_options_cmdline(const TRITONSERVER_ServerOptions* options, const char* backend);

/* ---- Logging settings (log.c). ---- */

/* --log-info/warn/error/verbose and --log-file: which levels
 * TRITONSERVER_LogIsEnabled answers true, and a file every line is also
 * appended to (NULL: none). */
void host_log_configure(bool info, bool warn, bool error, int verbose, const char* file);
/* Back to the defaults (info, warn, error; no verbose; no file). */
void host_log_reset(void);

/* ---- Model configuration (model_config.c). ---- */

typedef enum host_schedule_kind {
  HOST_SCHEDULE_DEFAULT = 0, /* each request alone, on the first idle instance */
  HOST_SCHEDULE_DYNAMIC,     /* dynamic_batching */
  HOST_SCHEDULE_SEQUENCE     /* sequence_batching, direct strategy */
} host_schedule_kind;

typedef struct host_config_tensor {
  char* name;
  TRITONSERVER_DataType datatype;
  uint32_t rank;
  int64_t* dims;
  bool optional;
} host_config_tensor;

typedef enum host_control_kind {
  HOST_CONTROL_START = 0,
  HOST_CONTROL_END,
  HOST_CONTROL_READY,
  HOST_CONTROL_CORRID
} host_control_kind;

typedef struct host_config_control {
  char* name;
  host_control_kind kind;
  TRITONSERVER_DataType datatype;
  uint8_t values[2][4]; /* the tensor's bytes for false and true (not CORRID) */
  uint32_t value_size;
} host_config_control;

typedef struct host_instance_group {
  char* name;
  uint32_t count;
} host_instance_group;

/* What the server needs of a (normalized) configuration. */
typedef struct host_model_config {
  char* name;
  char* backend;
  char* platform;
  int64_t max_batch_size;
  bool decoupled;
  uint32_t input_count;
  host_config_tensor* inputs;
  uint32_t output_count;
  host_config_tensor* outputs;
  host_schedule_kind schedule;
  uint32_t preferred_count;
  int64_t* preferred_batch_sizes;
  uint64_t max_queue_delay_us;
  uint64_t max_sequence_idle_us;
  uint32_t control_count;
  host_config_control* controls;
  uint32_t group_count;
  host_instance_group* groups;
} host_model_config;

/* Reads a configuration's settings. An error (INVALID_ARG, or UNSUPPORTED
 * for what the stand-in does not do) names the problem. */
TRITONSERVER_Error* host_model_config_read(const host_json* config, host_model_config* out);
void host_model_config_free(host_model_config* config);
/* Triton's normalization, in place, of what the stand-in uses: the name
 * (the directory's), the instance groups (one if none, each named, counted
 * and CPU), the defaults of the version policy, optimization and dynamic
 * batching. An error for what it cannot serve (KIND_GPU). */
TRITONSERVER_Error* host_model_config_normalize(host_json* config, const char* model_name);
/* The versions to load of those available (ascending), by the config's
 * version_policy (default: the latest one). Returns their number. */
uint32_t host_model_config_versions(const host_json* config, const uint64_t* available,
                                    uint32_t available_count, uint64_t** selected);
/* The backend a configuration names ("backend", or the one its platform
 * implies); NULL if it names none. */
const char* host_model_config_backend(const host_json* config);

/* ---- The model repository (repository.c). ---- */

/* The registered configuration of a model (malloc'ed), or NULL with the
 * reason the server gives (malloc'ed). */
char* host_repository_config(const char* repository, const char* model_name, char** problem);
/* The model directories of a repository (malloc'ed, sorted by name). */
uint32_t host_repository_models(const char* repository, char*** names);
/* The numeric version directories of a model, ascending (malloc'ed). */
uint32_t host_repository_versions(const char* repository, const char* model_name,
                                  uint64_t** versions);
/* A stamp of a model directory's contents (the newest modification time
 * in it), to tell whether a reload finds anything changed. */
int64_t host_repository_stamp(const char* repository, const char* model_name);
/* Forgets the registrations of a repository (when the server goes). */
void host_repository_forget(const char* repository);

/* ---- Statistics (model_stats.c). ---- */

typedef struct host_duration {
  uint64_t count;
  uint64_t ns;
} host_duration;

typedef struct host_batch_stats {
  uint64_t batch_size;
  host_duration compute_input;
  host_duration compute_infer;
  host_duration compute_output;
} host_batch_stats;

typedef struct host_model_stats {
  pthread_mutex_t lock;
  uint64_t last_inference_ms;
  uint64_t inference_count;
  uint64_t execution_count;
  host_duration success;
  host_duration fail;
  host_duration queue;
  host_duration compute_input;
  host_duration compute_infer;
  host_duration compute_output;
  uint32_t batch_count;
  host_batch_stats* batches; /* sorted by batch size */
  uint64_t pending;          /* queued, not yet executing */
  double load_seconds;
} host_model_stats;

void host_model_stats_init(host_model_stats* stats);
void host_model_stats_destroy(host_model_stats* stats);
/* TRITONBACKEND_ModelInstanceReportStatistics of a served model's request. */
void host_model_stats_request(host_model_stats* stats, uint64_t queued_ns, uint64_t batch_size,
                              bool success, uint64_t exec_start_ns, uint64_t compute_start_ns,
                              uint64_t compute_end_ns, uint64_t exec_end_ns);
/* TRITONBACKEND_ModelInstanceReportBatchStatistics. */
void host_model_stats_batch(host_model_stats* stats, uint64_t batch_size, uint64_t exec_start_ns,
                            uint64_t compute_start_ns, uint64_t compute_end_ns,
                            uint64_t exec_end_ns);
void host_model_stats_pending(host_model_stats* stats, int64_t delta);
/* Appends Triton's model_stats entry for one model version. */
void host_model_stats_json(host_text* out, host_model_stats* stats, const char* name,
                           uint64_t version);

/* ---- Scheduling (scheduler.c, batcher.c, sequence_batcher.c). ---- */

/* A request waiting for an instance. */
typedef struct host_queued {
  struct host_queued* next;
  host_infer_call* call;
  uint64_t batch_size; /* the first dimension for a batching model, else 1 */
  uint64_t enqueued_ns;
  char* sequence_key;  /* sequence batching: "n<id>" or "s<id>" */
  bool sequence_end;
} host_queued;

typedef struct host_sequence_batcher host_sequence_batcher;

typedef struct host_scheduler {
  pthread_mutex_t lock;
  pthread_cond_t changed;
  TRITONBACKEND_Model* model;
  const host_model_config* config;
  host_model_stats* stats;
  bool stopping;  /* threads leave once nothing is queued */
  bool aborting;  /* queued requests are dropped (already answered) */
  uint32_t thread_count;
  pthread_t* threads;
  /* Default and dynamic scheduling: one queue for every instance. */
  host_queued* head;
  host_queued* tail;
  uint64_t queued;
  host_sequence_batcher* sequences;
} host_scheduler;

/* Starts one thread per instance of the model. */
host_scheduler* host_scheduler_start(TRITONBACKEND_Model* model, const host_model_config* config,
                                     host_model_stats* stats);
/* Checks a request against the model (Triton's refusals, returned by
 * ServerInferAsync) and adds the sequence control inputs to the backend
 * request; then the call can be queued. */
TRITONSERVER_Error* host_scheduler_prepare(host_scheduler* scheduler,
                                           const TRITONSERVER_InferenceRequest* request,
                                           TRITONBACKEND_Request* backend_request,
                                           host_queued** queued);
/* Queues a prepared call; the scheduler holds its worker reference. */
void host_scheduler_enqueue(host_scheduler* scheduler, host_queued* queued);
void host_scheduler_discard(host_queued* queued);
/* Queued requests are dropped (the registry answered them). */
void host_scheduler_abort(host_scheduler* scheduler);
/* Waits for the threads to leave, then frees the scheduler. */
void host_scheduler_stop(host_scheduler* scheduler);

/* Called with the scheduler's lock held: the next batch for an instance,
 * as a list, or NULL; *wake_ns (0: none) says when to look again. */
host_queued* host_batcher_next(host_scheduler* scheduler, uint32_t instance, uint64_t now_ns,
                               uint64_t* wake_ns);

host_sequence_batcher* host_sequence_batcher_new(const host_model_config* config,
                                                 uint32_t instance_count);
void host_sequence_batcher_free(host_sequence_batcher* batcher);
/* With the scheduler's lock held: Triton's checks of a sequence request;
 * sets the queued request's key and adds the control inputs. */
TRITONSERVER_Error* host_sequence_prepare(host_scheduler* scheduler,
                                          const TRITONSERVER_InferenceRequest* request,
                                          TRITONBACKEND_Request* backend_request,
                                          host_queued* queued);
void host_sequence_enqueue(host_scheduler* scheduler, host_queued* queued);
host_queued* host_sequence_next(host_scheduler* scheduler, uint32_t instance, uint64_t now_ns,
                                uint64_t* wake_ns);
/* Every queued request, for an abort or a stop. */
host_queued* host_sequence_take_all(host_scheduler* scheduler);

/* Triton's checks of an inference request against the model's
 * configuration (infer_check.c). */
TRITONSERVER_Error* host_infer_check_config(const TRITONSERVER_InferenceRequest* request,
                                            const host_model_config* config,
                                            uint64_t* batch_size);

/* ---- A served model (what the server adds to a loaded model). ---- */

struct host_model_runtime {
  host_json* config_json; /* the configuration as loaded */
  host_model_config config;
  host_model_stats stats;
  host_scheduler* scheduler;
};

/* ---- Execution of a queued call (infer_call.c, model_registry.c). ---- */

/* Delivers what the backend did, then drops the worker's reference. */
void host_infer_call_worker_finish(host_infer_call* call);
/* Counts an execute on the entry; false if its unload gave up on calls. */
bool host_registry_begin_run(host_model_entry* entry);
void host_registry_end_run(host_model_entry* entry);
/* Makes one model unreachable by name (its unload follows). */
void host_registry_retire_model(TRITONBACKEND_Model* model);

/* ---- Model loading for the server (model.c). ---- */

/* host_model_load for a served model: ModelInitialize with the given
 * configuration, then the configuration normalized again (the backend may
 * have completed it), the instances its groups ask for (named
 * "<group>_<index>", as Triton names them), the scheduler; then it is
 * reachable by name. */
TRITONBACKEND_Model* host_model_load_served(TRITONBACKEND_Backend* backend, const char* name,
                                            uint64_t version, const char* model_dir,
                                            const char* config_json, bool auto_complete,
                                            TRITONSERVER_Error** error);

/* ---- The server (server.c). ---- */

/* Whether TRITONSERVER_ServerNew made a server that is not deleted. */
bool host_server_running(void);
/* A copy of the running server's options (NULL if none runs). */
TRITONSERVER_ServerOptions* host_server_options_snapshot(void);
/* Whether the server tried to load `name` (it has a state for it), for
 * the registry's "has no available versions". */
bool host_server_knows(const char* name);
/* Model control by the server (model_control.c calls these when a server
 * runs). config_json: NULL, or a configuration replacing the registered one. */
TRITONSERVER_Error* host_server_load(const char* name, const char* config_json);
/* Loads `name` from `root` (a directory holding <root>/<name>/, made by
 * host_load_files_write) with the configuration `config_json`; the model
 * keeps `root` (it is removed when another load replaces it, or at exit). */
TRITONSERVER_Error* host_server_load_files(const char* name, const char* config_json, char* root);

/* ---- Model files given with a load (load_files.c). ---- */

/* Writes the "file:<path>" parameters into a new temporary directory that
 * holds <root>/<model_name>/; *root is it (caller frees; remove with
 * host_load_files_remove). Triton's errors for bad types and paths. */
TRITONSERVER_Error* host_load_files_write(const char* model_name,
                                          const TRITONSERVER_Parameter** files, uint64_t count,
                                          char** root);
/* Removes a directory host_load_files_write made (NULL: nothing). */
void host_load_files_remove(const char* root);
TRITONSERVER_Error* host_server_unload(const char* name);
/* The server's table of models and versions, sorted by name: views read
 * it between host_server_table_lock and _unlock (the server's lock). A
 * version's model is only used while it is READY: an unload makes it
 * UNLOADING under this lock before the model goes. */
typedef enum host_version_state {
  HOST_VERSION_LOADING = 0,
  HOST_VERSION_READY,
  HOST_VERSION_UNLOADING,
  HOST_VERSION_UNAVAILABLE
} host_version_state;

typedef struct host_served_version {
  uint64_t version;
  host_version_state state;
  char* reason; /* UNAVAILABLE: why ("unloaded", or the load error) */
  TRITONBACKEND_Model* model;
} host_served_version;

typedef struct host_served_model {
  struct host_served_model* next;
  char* name;
  char* reason; /* why it failed when no version could even be tried */
  bool loaded;          /* the last load succeeded; then: */
  char* loaded_config;  /* the repository's configuration, */
  int64_t loaded_stamp; /* and the directory's stamp */
  char* files_root;     /* the loaded copy's model files given with its load, or NULL */
  uint32_t version_count;
  host_served_version* versions; /* ascending */
} host_served_model;

host_served_model* host_server_table_lock(void);
void host_server_table_unlock(void);
const char* host_version_state_name(host_version_state state);
/* With the table locked: the ready version a request for (name, version)
 * uses (-1: the highest), or NULL and Triton's error. */
host_served_version* host_server_find_ready(host_served_model* table, const char* name,
                                            int64_t version, TRITONSERVER_Error** error);
bool host_server_metrics_enabled(void);

/* The custom metrics' text (metrics_text.c), appended. */
void host_metrics_text_append(host_text* out);

#endif /* HOST_CORE_H */
