#!/usr/bin/env bash
# Regenerates grpc_service_pb.ts (the messages and the service descriptor of
# Triton's gRPC inference service) from grpc_service.proto, and health_pb.ts
# (gRPC's health checking service) from health.proto, the same way
# runtime/model_config/generate.sh makes model_config_pb.ts: pinned code
# generators from npm in a throw-away directory, the runtime import rewritten
# to an `npm:` specifier, Deno's default formatting.
#
# grpc_service.proto imports model_config.proto, which lives (and is
# generated) in runtime/model_config/: it is copied beside the service file
# for the generator, and the generated import points back there.
#
# Usage: runtime/serve/grpc/generate.sh
set -euo pipefail

readonly PROTOBUF_VERSION="2.17.0" # @bufbuild/protobuf and @bufbuild/protoc-gen-es
readonly BUF_VERSION="1.75.0"      # @bufbuild/buf (ships the buf binary)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
model_config="$(cd "${here}/../../model_config" && pwd)"
tools="$(mktemp -d)"
trap 'rm -rf "${tools}"' EXIT

npm install --prefix "${tools}" --no-save --no-audit --no-fund --silent \
  "@bufbuild/buf@${BUF_VERSION}" \
  "@bufbuild/protoc-gen-es@${PROTOBUF_VERSION}" \
  "@bufbuild/protobuf@${PROTOBUF_VERSION}"

runtime="npm:@bufbuild/protobuf@${PROTOBUF_VERSION}"
opts="target=ts,import_extension=ts"
opts+=",rewrite_imports=@bufbuild/protobuf/codegenv2:${runtime}/codegenv2"
opts+=",rewrite_imports=@bufbuild/protobuf/wkt:${runtime}/wkt"
opts+=",rewrite_imports=@bufbuild/protobuf:${runtime}"

mkdir -p "${tools}/proto" "${tools}/out"
cp "${here}/grpc_service.proto" "${here}/health.proto" "${model_config}/model_config.proto" \
  "${tools}/proto/"

template="$(
  cat <<JSON
{
  "version": "v2",
  "plugins": [
    {
      "local": "${tools}/node_modules/.bin/protoc-gen-es",
      "out": "${tools}/out",
      "opt": "${opts}"
    }
  ]
}
JSON
)"

cd "${tools}/proto"
"${tools}/node_modules/.bin/buf" generate --template "${template}" \
  --path grpc_service.proto --path health.proto .

deno="${here}/../../../tools/deno/node_modules/@deno/linux-x64-glibc/deno"
if [[ ! -x "${deno}" ]]; then
  deno="$(command -v deno)"
fi
for name in grpc_service health; do
  out="${here}/${name}_pb.ts"
  {
    echo "// deno-lint-ignore-file"
    sed -e 's#"\./model_config_pb\.ts"#"../../model_config/model_config_pb.ts"#' \
      "${tools}/out/${name}_pb.ts"
  } >"${out}"
  "${deno}" fmt --no-config --quiet "${out}"
  echo "generated ${out}"
done
