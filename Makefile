# Builds the Deno backend for Triton.
#   make serve            builds, then serves models/ on port 8000 with Triton's HTTP/REST protocol
#   make build            library, stub helpers, test host and a ready backend dir in build/deno/
#   make test             installs the pinned Deno if missing, builds, runs every test
#   make bench            the benchmark
#   make test-triton TRITON_HOME=/opt/tritonserver
#                         the real-core suite (tests/core/) in Triton's own core, after checking
#                         ffi/include/triton_api.h against that install's headers
#   make install PREFIX=/opt/tritonserver/backends/deno
#   make asan             the same build with AddressSanitizer and UBSan, in build-asan/

DENO_VERSION := 2.9.6
PINNED_DENO  := $(CURDIR)/tools/deno/node_modules/@deno/linux-x64-glibc/deno
# TypeScript's native compiler (its directory: the binary beside its lib.*.d.ts), installed with
# the pinned Deno: the fast path of a model's type check (sandbox/checks/native_check.ts).
PINNED_TSC_DIR := $(CURDIR)/tools/deno/node_modules/@typescript/typescript-linux-x64/lib
DENO         ?= $(PINNED_DENO)
BUILD        ?= build
SANITIZE     ?=
PREFIX       ?= /opt/tritonserver/backends/deno
# Tasks and scripts that call `deno` find the pinned one first.
export PATH := $(patsubst %/,%,$(dir $(DENO))):$(PATH)

CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -D_GNU_SOURCE -Iffi/include $(SANITIZE)
LDFLAGS += -shared -Wl,--as-needed $(SANITIZE)

BACKEND_DIR := $(BUILD)/deno
LIB_SRCS  := $(wildcard ffi/src/*.c)
STUB_SRCS := $(wildcard ffi/stub/*.c)
HOST_SRCS := $(wildcard ffi/host/*.c)
CLIENT_SRCS := $(wildcard ffi/client/*.c)
# What tests/wire/golden_c.c links: the wire encoders and decoders, no Triton. The codecs (the
# batch's, batch_codec.c, both ways) hold their Triton glue beside their wire halves; a program that
# links them without Triton keeps only the code it reaches (WIRE_ONLY), so a Triton call reachable
# from an encoder or decoder fails its link.
WIRE_ONLY := -ffunction-sections -fdata-sections -Wl,--gc-sections
GOLDEN_SRCS := ffi/src/batch_codec.c ffi/src/tensor_copy.c ffi/src/json_reader.c ffi/src/bls_request.c ffi/src/record_check.c ffi/src/metrics_batch.c
FAKE_BLS_SRCS := $(wildcard tests/harness/fake_backend/fake_bls*.c)
# The C unit tests (tests/units/, run by tests/units/units_test.ts): the JSON reader and the
# parameter reader, the custom metrics registry against a fake Triton older than the histogram
# API, the parent's arena allocator and spin budget, a stub's standard error read into the log,
# and the client form of error texts (against
# the cases runtime/worker/client_text_test.ts checks too).
JSON_CHECK_SRCS := tests/units/json_reader_check.c ffi/src/json_reader.c ffi/src/batch_codec.c
ARENA_CHECK_SRCS := tests/units/arena_alloc_check.c ffi/src/arena_alloc.c
CHANNEL_CHECK_SRCS := tests/units/channel_check.c ffi/src/channel.c
BUFFER_POOL_CHECK_SRCS := tests/units/buffer_pool_check.c ffi/client/buffer_pool.c
POLICY_CACHE_CHECK_SRCS := tests/units/policy_cache_check.c ffi/src/policy_cache.c
SIBLINGS_CHECK_SRCS := tests/units/siblings_check.c ffi/src/siblings.c
TENSOR_COPY_CHECK_SRCS := tests/units/tensor_copy_check.c ffi/src/tensor_copy.c
STUB_LOG_CHECK_SRCS := tests/units/stub_log_check.c tests/units/fake_triton.c ffi/src/stub_log.c \
	ffi/src/log.c
STUB_STDERR_CHECK_SRCS := tests/units/stub_stderr_check.c tests/units/fake_triton.c \
	ffi/src/stub_stderr.c ffi/src/stub_log.c ffi/src/log.c
CLIENT_TEXT_CHECK_SRCS := tests/units/client_text_check.c ffi/src/client_text.c ffi/src/json_reader.c \
	ffi/src/batch_codec.c
METRICS_CHECK_SRCS := tests/units/metrics_check.c tests/units/fake_triton.c ffi/src/metrics.c \
	ffi/src/metrics_batch.c ffi/src/id_map.c ffi/src/histogram_api.c ffi/src/json_reader.c ffi/src/log.c
HEADERS   := $(wildcard ffi/include/*.h ffi/src/*.h ffi/stub/*.h ffi/host/*.h ffi/client/*.h)
TS_ENTRYPOINTS := runtime/stub/main.ts runtime/worker/main.ts runtime/api/mod.ts sandbox/evaluate_main.ts

.PHONY: all build deno serve test test-triton triton-api-check bench install asan clean check

# A Triton install prefix laid out like the container's /opt/tritonserver (lib/libtritonserver.so,
# include/triton/core/*.h, backends/). Only the real-core targets need it.
TRITON_HOME ?=
CXX ?= g++

all: build

# The pinned Deno comes from the npm package `deno`, which ships the real binary.
deno: $(PINNED_DENO)
$(PINNED_DENO): tools/deno/package.json tools/deno/package-lock.json
	cd tools/deno && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@test -x $@ && touch $@

build: $(BACKEND_DIR)/libtriton_deno.so $(BACKEND_DIR)/libtriton_deno_stub.so $(BUILD)/libtriton_host.so $(BUILD)/libtriton_deno_client.so $(BUILD)/golden_c $(BUILD)/fake_bls/libtriton_fake_bls.so $(BUILD)/fake_cudart/libcudart_fake.so $(BUILD)/units/json_reader_check $(BUILD)/units/metrics_check $(BUILD)/units/arena_alloc_check $(BUILD)/units/channel_check $(BUILD)/units/buffer_pool_check $(BUILD)/units/policy_cache_check $(BUILD)/units/siblings_check $(BUILD)/units/tensor_copy_check $(BUILD)/units/stub_log_check $(BUILD)/units/stub_stderr_check $(BUILD)/units/client_text_check $(BACKEND_DIR)/.layout $(BACKEND_DIR)/deno_dir/.cached $(BACKEND_DIR)/native_check/tsconfig.json

$(BACKEND_DIR)/libtriton_deno.so: $(LIB_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LIB_SRCS) -o $@ $(LDFLAGS) -ldl -lpthread

# Never sanitized: stubs start with a clean environment, so no sanitizer runtime is preloaded there.
$(BACKEND_DIR)/libtriton_deno_stub.so: $(STUB_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(filter-out $(SANITIZE),$(CFLAGS)) $(STUB_SRCS) -o $@ $(filter-out $(SANITIZE),$(LDFLAGS))

# Encodes and decodes the golden wire samples with the library's own encoder and validator.
$(BUILD)/golden_c: tests/wire/golden_c.c $(GOLDEN_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WIRE_ONLY) -Iffi/src tests/wire/golden_c.c $(GOLDEN_SRCS) -o $@ $(SANITIZE)

$(BUILD)/units/json_reader_check: $(JSON_CHECK_SRCS) $(HEADERS) tests/units/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WIRE_ONLY) -Iffi/src $(JSON_CHECK_SRCS) -o $@ $(SANITIZE) -lpthread

$(BUILD)/units/arena_alloc_check: $(ARENA_CHECK_SRCS) $(HEADERS) tests/units/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/src $(ARENA_CHECK_SRCS) -o $@ $(SANITIZE)

$(BUILD)/units/channel_check: $(CHANNEL_CHECK_SRCS) $(HEADERS) tests/units/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/src $(CHANNEL_CHECK_SRCS) -o $@ $(SANITIZE)

$(BUILD)/units/policy_cache_check: $(POLICY_CACHE_CHECK_SRCS) $(HEADERS) tests/units/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/src $(POLICY_CACHE_CHECK_SRCS) -o $@ $(SANITIZE) -lpthread

$(BUILD)/units/siblings_check: $(SIBLINGS_CHECK_SRCS) $(HEADERS) tests/units/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/src $(SIBLINGS_CHECK_SRCS) -o $@ $(SANITIZE) -lpthread

$(BUILD)/units/tensor_copy_check: $(TENSOR_COPY_CHECK_SRCS) $(HEADERS) tests/units/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/src $(TENSOR_COPY_CHECK_SRCS) -o $@ $(SANITIZE)

$(BUILD)/units/buffer_pool_check: $(BUFFER_POOL_CHECK_SRCS) $(HEADERS) tests/units/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/client $(BUFFER_POOL_CHECK_SRCS) -o $@ $(SANITIZE) -lpthread

# Links only if the registry never calls a function of Triton's API 1.34 directly (the fake lacks them).
$(BUILD)/units/stub_log_check: $(STUB_LOG_CHECK_SRCS) $(HEADERS) tests/units/check.h tests/units/fake_triton.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/src $(STUB_LOG_CHECK_SRCS) -o $@ $(SANITIZE) -ldl -lpthread

$(BUILD)/units/stub_stderr_check: $(STUB_STDERR_CHECK_SRCS) $(HEADERS) tests/units/check.h tests/units/fake_triton.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/src $(STUB_STDERR_CHECK_SRCS) -o $@ $(SANITIZE) -ldl -lpthread

$(BUILD)/units/client_text_check: $(CLIENT_TEXT_CHECK_SRCS) $(HEADERS) tests/units/check.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(WIRE_ONLY) -Iffi/src $(CLIENT_TEXT_CHECK_SRCS) -o $@ $(SANITIZE)

$(BUILD)/units/metrics_check: $(METRICS_CHECK_SRCS) $(HEADERS) tests/units/check.h tests/units/fake_triton.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/src $(METRICS_CHECK_SRCS) -o $@ $(SANITIZE) -ldl -lpthread

# A minimal stand-in for Triton's core (ffi/host/): it exports the TRITONSERVER_/TRITONBACKEND_ functions
# the backend calls. The tests drive it through FFI, and `deno task serve` serves HTTP with it.
$(BUILD)/libtriton_host.so: $(HOST_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -Iffi/host $(HOST_SRCS) -o $@ $(LDFLAGS) -ldl -lpthread

# The in-process client of a Triton core (ffi/client/): response allocator and callbacks, and the
# benchmark loop. It links against no core: it resolves Triton's API from the core it is given.
$(BUILD)/libtriton_deno_client.so: $(CLIENT_SRCS) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CLIENT_SRCS) -o $@ $(LDFLAGS) -ldl -lpthread

# A C backend for the host's tests of in-process inference, model control and metrics
# (tests/host_bls_test.ts, tests/host_metrics_test.ts); its TRITONSERVER_ calls bind to the host.
# Its add/subtract is fake_add_sub.c, shared with tests/host_harness_test.ts's fake backend.
FAKE_ADD_SUB := tests/harness/fake_backend/fake_add_sub.c tests/harness/fake_backend/fake_add_sub.h
$(BUILD)/fake_bls/libtriton_fake_bls.so: $(FAKE_BLS_SRCS) $(FAKE_ADD_SUB) tests/harness/fake_backend/fake_bls.h ffi/include/triton_api.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(FAKE_BLS_SRCS) $(filter %.c,$(FAKE_ADD_SUB)) -o $@ $(LDFLAGS) -lpthread

# A CUDA runtime stand-in for the tests of GPU-resident tensors (tests/gpu_memory_test.ts).
$(BUILD)/fake_cudart/libcudart_fake.so: tests/harness/fake_cudart/fake_cudart.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< -o $@ $(LDFLAGS)

# A checkout's backend dir links to the live TypeScript trees, so edits need no rebuild.
$(BACKEND_DIR)/.layout: $(PINNED_DENO)
	@mkdir -p $(BACKEND_DIR)
	ln -sfn $(CURDIR)/runtime $(BACKEND_DIR)/runtime
	ln -sfn $(CURDIR)/sandbox $(BACKEND_DIR)/sandbox
	ln -sfn $(CURDIR)/ffi $(BACKEND_DIR)/ffi
	ln -sfn $(DENO) $(BACKEND_DIR)/deno
	ln -sfn $(PINNED_TSC_DIR) $(BACKEND_DIR)/typescript
	@touch $@

# Dependencies are cached at build/install time: stubs run with --cached-only and never fetch code,
# and neither does `deno task serve`, which runs from the same cache (not the user's Deno cache).
# HOME is deno_dir for every deno that uses it: npm's configuration comes from deno_dir/.npmrc (if
# any), never the user's ~/.npmrc, so packages are cached where the stubs look for them.
$(BACKEND_DIR)/deno_dir/.cached: $(PINNED_DENO) deno.json deno.lock $(wildcard runtime/*/*.ts runtime/*/*/*.ts sandbox/*.ts sandbox/*/*.ts ffi/stub/*.ts)
	DENO_DIR=$(abspath $(BACKEND_DIR)/deno_dir) HOME=$(abspath $(BACKEND_DIR)/deno_dir) $(DENO) cache --no-config --import-map=runtime/import_map.json $(TS_ENTRYPOINTS)
	DENO_DIR=$(abspath $(BACKEND_DIR)/deno_dir) HOME=$(abspath $(BACKEND_DIR)/deno_dir) $(DENO) cache runtime/serve/main.ts
	@touch $@

# What the native type check compiles against: Deno's declarations, the API's npm packages, the
# compiler options (sandbox/checks/native_check_types.ts).
$(BACKEND_DIR)/native_check/tsconfig.json: $(BACKEND_DIR)/deno_dir/.cached $(BACKEND_DIR)/.layout sandbox/checks/native_check_types.ts sandbox/checks/native_check.ts
	$(DENO) run --no-config --allow-read --allow-write --allow-run sandbox/checks/native_check_types.ts $(abspath $(BACKEND_DIR))

# The main job: serve models/ over Triton's HTTP/REST protocol (pass ARGS="--http-port 9000 ...").
# Deno itself runs from build/deno/deno_dir (filled above): `deno task` installs the lock file's
# npm packages into its cache before a task runs, and that cache is not the user's.
serve: build
	DENO_DIR=$(abspath $(BACKEND_DIR)/deno_dir) $(DENO) task serve $(ARGS)

test: build
	$(DENO) task test

# Our declarations of Triton's API (ffi/include/triton_api.h) against Triton's own headers: a
# function declared differently or an enum value that differs fails the build.
triton-api-check: $(PINNED_DENO)
	@test -n "$(TRITON_HOME)" || { echo "$@ needs TRITON_HOME=<a Triton install prefix, e.g. /opt/tritonserver>"; exit 2; }
	@test -f "$(TRITON_HOME)/include/triton/core/tritonserver.h" || { echo "TRITON_HOME=$(TRITON_HOME) is not a Triton install: include/triton/core/tritonserver.h is missing"; exit 2; }
	@mkdir -p $(BUILD)
	$(DENO) run --allow-read --allow-write tests/triton_api/enum_values.ts $(BUILD)/enum_values.h
	$(CXX) -std=c++17 -Wall -Wextra -Werror -Iffi/include -I$(BUILD) -I$(TRITON_HOME)/include tests/triton_api/api_check.cc -o $(BUILD)/api_check

# The end-to-end suite in Triton's real core (tests/core/), through Triton's in-process API.
test-triton: build triton-api-check
	@test -f "$(TRITON_HOME)/lib/libtritonserver.so" || { echo "TRITON_HOME=$(TRITON_HOME) is not a Triton install: lib/libtritonserver.so is missing"; exit 2; }
	TRITON_HOME=$(abspath $(TRITON_HOME)) $(DENO) test -A --unstable-worker-options tests/core/

asan:
	$(MAKE) build BUILD=build-asan SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"

bench: build
	$(DENO) task bench

check: $(PINNED_DENO)
	$(DENO) task check

# A self-contained backend directory: the libraries, the pinned deno, the TypeScript the stubs run
# (tests, test data, serve and the in-process core client left out) and deno_dir/ with every
# dependency, seeded from the build's cache and completed offline, with the runtime's emit cache for
# the installed paths. It never refers back to the checkout, npm's cache or the user's Deno cache, so
# it can be copied anywhere (installing at its final path keeps the emit cache valid) and served
# read-only. deno_dir/ is kept across reinstalls: `deno task prepare-model` puts models' own
# dependencies there.
INSTALL_PRUNE := runtime/serve runtime/core runtime/wire/testdata runtime/worker/testdata \
	runtime/model_config/generate.sh
install: $(BACKEND_DIR)/libtriton_deno.so $(BACKEND_DIR)/libtriton_deno_stub.so $(BACKEND_DIR)/deno_dir/.cached
	@case "$(PREFIX)" in /*) ;; *) echo "PREFIX must be an absolute path, got '$(PREFIX)'"; exit 2;; esac
	@case "$(PREFIX)" in *,*) echo "PREFIX must not contain a comma (deno's --allow-read lists cannot express it)"; exit 2;; esac
	install -d $(PREFIX) $(PREFIX)/deno_dir
	install -m 0755 $(BACKEND_DIR)/libtriton_deno.so $(BACKEND_DIR)/libtriton_deno_stub.so $(PREFIX)/
	install -m 0755 $(DENO) $(PREFIX)/deno
	rm -rf $(PREFIX)/typescript && cp -R $(PINNED_TSC_DIR) $(PREFIX)/typescript
	rm -rf $(PREFIX)/runtime $(PREFIX)/sandbox $(PREFIX)/ffi
	cp -R runtime sandbox $(PREFIX)/
	mkdir -p $(PREFIX)/ffi && cp -R ffi/stub ffi/include ffi/WIRE_FORMAT.md $(PREFIX)/ffi/
	rm -rf $(addprefix $(PREFIX)/,$(INSTALL_PRUNE))
	find $(PREFIX)/runtime $(PREFIX)/sandbox $(PREFIX)/ffi \( -name '*_test.ts' -o -name '_test_*.ts' \) -delete
	cp -R $(BACKEND_DIR)/deno_dir/npm $(PREFIX)/deno_dir/
	env -i DENO_DIR=$(PREFIX)/deno_dir HOME=$(PREFIX)/deno_dir NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 \
		$(PREFIX)/deno cache --quiet --no-config --no-lock --import-map=$(PREFIX)/runtime/import_map.json \
		$(addprefix $(PREFIX)/,$(TS_ENTRYPOINTS))
	$(PREFIX)/deno run --no-config --allow-read --allow-write --allow-run $(PREFIX)/sandbox/checks/native_check_types.ts $(PREFIX)
	chmod -R u+rwX,go+rX,go-w $(PREFIX)

clean:
	rm -rf build build-asan
