#!/usr/bin/env bash
# Regenerates model_config_pb.ts (with data_type.ts and json_table.ts) from
# model_config.proto with protobuf-es (tools/protobuf_es.sh: pinned code
# generators from npm in a throw-away directory, the runtime import rewritten
# to an `npm:` specifier, Deno's default formatting).
#
# Usage: runtime/model_config/generate.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../tools/protobuf_es.sh
source "${here}/../../tools/protobuf_es.sh"
tools="$(mktemp -d)"
trap 'rm -rf "${tools}"' EXIT

mkdir -p "${tools}/out"
protobuf_es_generate "${tools}" "${here}" "${tools}/out" model_config.proto
out="${here}/model_config_pb.ts"
protobuf_es_finish "${tools}/out/model_config_pb.ts" "${out}"

# DataType moves to data_type.ts (model_config_pb.ts re-exports it), so that the
# model API loads the enum without protobuf-es; then the JSON table that
# from_json.ts decodes with is rebuilt from the new schema.
deno="$(protobuf_es_deno)"
"${deno}" run --no-config --allow-read --allow-write "${here}/split_data_type.ts"
"${deno}" fmt --no-config --quiet "${out}" "${here}/data_type.ts"
"${deno}" run --allow-read --allow-write "${here}/json_table_gen.ts"
"${deno}" fmt --quiet "${here}/json_table.ts"
echo "generated ${out}, ${here}/data_type.ts and ${here}/json_table.ts"
