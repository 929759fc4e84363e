# Triton Inference Server with the Deno backend.
#
#   docker build --build-arg TRITON_VERSION=26.06 -t triton-deno:26.06 .
#
# Stage `build` compiles the library and the stub helpers and caches every dependency the stubs
# load, with the Makefile's own targets, in Triton's own image (so the libraries link against the
# glibc they will run with). The final stage is Triton's image plus one directory,
# /opt/tritonserver/backends/deno, installed at the path it runs from. Nothing is fetched at run
# time. To build on a slimmer Triton (one composed from the `-py3-min` image with only the
# backends you need), pass that image as TRITON_IMAGE.
#
# tests/deploy/dockerfile_test.ts checks this file without building it (see README.md).

ARG TRITON_VERSION=26.06
ARG TRITON_IMAGE=nvcr.io/nvidia/tritonserver:${TRITON_VERSION}-py3
ARG BACKEND_DIR=/opt/tritonserver/backends/deno

FROM ${TRITON_IMAGE} AS build
ARG BACKEND_DIR
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev make npm ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The pinned Deno first: its layer is kept while only the sources change.
COPY Makefile deno.json deno.lock ./
COPY tools/deno/package.json tools/deno/package-lock.json tools/deno/
RUN make deno
COPY ffi ffi
COPY runtime runtime
COPY sandbox sandbox
RUN make install PREFIX=${BACKEND_DIR}

FROM ${TRITON_IMAGE} AS triton-deno
ARG BACKEND_DIR
COPY --from=build ${BACKEND_DIR} ${BACKEND_DIR}
