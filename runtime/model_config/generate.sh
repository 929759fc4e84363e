#!/usr/bin/env bash
# Regenerates model_config_pb.ts (with data_type.ts and json_table.ts) from model_config.proto.
#
# The code generators are pinned npm packages installed into a throw-away
# directory, so the repository needs no node_modules and regeneration gives
# byte-identical output on any machine that reaches the npm registry.
# The runtime import of @bufbuild/protobuf is rewritten to an `npm:` specifier
# because the project resolves packages through Deno, not through a
# package.json.
#
# Usage: runtime/model_config/generate.sh
set -euo pipefail

readonly PROTOBUF_VERSION="2.17.0" # @bufbuild/protobuf and @bufbuild/protoc-gen-es
readonly BUF_VERSION="1.75.0"      # @bufbuild/buf (ships the buf binary)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools="$(mktemp -d)"
trap 'rm -rf "${tools}"' EXIT

npm install --prefix "${tools}" --no-save --no-audit --no-fund --silent \
  "@bufbuild/buf@${BUF_VERSION}" \
  "@bufbuild/protoc-gen-es@${PROTOBUF_VERSION}" \
  "@bufbuild/protobuf@${PROTOBUF_VERSION}"

# rewrite_imports patterns are matched whole, so the codegenv2 subpath needs
# its own rule.
runtime="npm:@bufbuild/protobuf@${PROTOBUF_VERSION}"
opts="target=ts,import_extension=ts"
opts+=",rewrite_imports=@bufbuild/protobuf/codegenv2:${runtime}/codegenv2"
opts+=",rewrite_imports=@bufbuild/protobuf/wkt:${runtime}/wkt"
opts+=",rewrite_imports=@bufbuild/protobuf:${runtime}"

template="$(
  cat <<EOF
{
  "version": "v2",
  "plugins": [
    {
      "local": "${tools}/node_modules/.bin/protoc-gen-es",
      "out": "${here}",
      "opt": "${opts}"
    }
  ]
}
EOF
)"

cd "${here}"
"${tools}/node_modules/.bin/buf" generate --template "${template}" \
  --path model_config.proto .

# Generated code follows protoc-gen-es conventions (e.g. `& {}` for empty
# messages) rather than ours, so it is exempt from lint. It is formatted with
# Deno's defaults (--no-config) so the output does not depend on the project's
# fmt settings, and stays clean even where no deno.json excludes it.
out="${here}/model_config_pb.ts"
{
  echo "// deno-lint-ignore-file"
  cat "${out}"
} >"${out}.tmp"
mv "${out}.tmp" "${out}"

# Prefer the project's pinned Deno so the formatting never drifts.
deno="${here}/../../tools/deno/node_modules/@deno/linux-x64-glibc/deno"
if [[ ! -x "${deno}" ]]; then
  deno="$(command -v deno)"
fi
"${deno}" fmt --no-config --quiet "${out}"

# DataType moves to data_type.ts (model_config_pb.ts re-exports it), so that the
# model API loads the enum without protobuf-es; then the JSON table that
# from_json.ts decodes with is rebuilt from the new schema.
"${deno}" run --no-config --allow-read --allow-write "${here}/split_data_type.ts"
"${deno}" fmt --no-config --quiet "${out}" "${here}/data_type.ts"
"${deno}" run --allow-read --allow-write "${here}/json_table_gen.ts"
"${deno}" fmt --quiet "${here}/json_table.ts"
echo "generated ${out}, ${here}/data_type.ts and ${here}/json_table.ts"
