#!/usr/bin/env bash
# Regenerates grpc_service_pb.ts (the messages and the service descriptor of
# Triton's gRPC inference service) from grpc_service.proto, and health_pb.ts
# (gRPC's health checking service) from health.proto, with protobuf-es the
# way runtime/model_config/generate.sh makes model_config_pb.ts
# (tools/protobuf_es.sh).
#
# grpc_service.proto imports model_config.proto, which lives (and is
# generated) in runtime/model_config/: it is copied beside the service file
# for the generator, and the generated import points back there.
#
# Usage: runtime/serve/grpc/generate.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model_config="$(cd "${here}/../../model_config" && pwd)"
# shellcheck source=../../../tools/protobuf_es.sh
source "${here}/../../../tools/protobuf_es.sh"
tools="$(mktemp -d)"
trap 'rm -rf "${tools}"' EXIT

mkdir -p "${tools}/proto" "${tools}/out"
cp "${here}/grpc_service.proto" "${here}/health.proto" "${model_config}/model_config.proto" \
  "${tools}/proto/"
protobuf_es_generate "${tools}" "${tools}/proto" "${tools}/out" grpc_service.proto health.proto

for name in grpc_service health; do
  out="${here}/${name}_pb.ts"
  protobuf_es_finish "${tools}/out/${name}_pb.ts" "${out}" \
    's#"\./model_config_pb\.ts"#"../../model_config/model_config_pb.ts"#'
  echo "generated ${out}"
done
