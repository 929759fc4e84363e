#!/usr/bin/env bash
# The protobuf-es code generation the repository's *_pb.ts files share,
# sourced by runtime/model_config/generate.sh and runtime/serve/grpc/generate.sh.
#
# The code generators are pinned npm packages installed into a throw-away
# directory, so the repository needs no node_modules and regeneration gives
# byte-identical output on any machine that reaches the npm registry.
# The runtime import of @bufbuild/protobuf is rewritten to an `npm:` specifier
# because the project resolves packages through Deno, not through a
# package.json.

readonly PROTOBUF_VERSION="2.17.0" # @bufbuild/protobuf and @bufbuild/protoc-gen-es
readonly BUF_VERSION="1.75.0"      # @bufbuild/buf (ships the buf binary)

# The project's pinned Deno (so the formatting never drifts), else the one on PATH.
protobuf_es_deno() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  local deno="${root}/tools/deno/node_modules/@deno/linux-x64-glibc/deno"
  if [[ ! -x "${deno}" ]]; then
    deno="$(command -v deno)"
  fi
  echo "${deno}"
}

# protobuf_es_generate TOOLS PROTO_DIR OUT_DIR FILE.proto...
# Installs the generators into TOOLS (a throw-away directory) and writes
# OUT_DIR/<name>_pb.ts for each FILE.proto of PROTO_DIR.
protobuf_es_generate() {
  local tools="$1" proto_dir="$2" out_dir="$3"
  shift 3
  npm install --prefix "${tools}" --no-save --no-audit --no-fund --silent \
    "@bufbuild/buf@${BUF_VERSION}" \
    "@bufbuild/protoc-gen-es@${PROTOBUF_VERSION}" \
    "@bufbuild/protobuf@${PROTOBUF_VERSION}"

  # rewrite_imports patterns are matched whole, so the codegenv2 subpath needs
  # its own rule.
  local runtime="npm:@bufbuild/protobuf@${PROTOBUF_VERSION}"
  local opts="target=ts,import_extension=ts"
  opts+=",rewrite_imports=@bufbuild/protobuf/codegenv2:${runtime}/codegenv2"
  opts+=",rewrite_imports=@bufbuild/protobuf/wkt:${runtime}/wkt"
  opts+=",rewrite_imports=@bufbuild/protobuf:${runtime}"

  local template
  template="$(
    cat <<JSON
{
  "version": "v2",
  "plugins": [
    {
      "local": "${tools}/node_modules/.bin/protoc-gen-es",
      "out": "${out_dir}",
      "opt": "${opts}"
    }
  ]
}
JSON
  )"
  local paths=()
  local file
  for file in "$@"; do paths+=(--path "${file}"); done
  (cd "${proto_dir}" && "${tools}/node_modules/.bin/buf" generate --template "${template}" \
    "${paths[@]}" .)
}

# protobuf_es_finish GENERATED OUT [SED_EXPRESSION]
# Writes GENERATED to OUT (through `sed -e SED_EXPRESSION` when given) after
# a `// deno-lint-ignore-file` line, formatted with Deno's defaults.
#
# Generated code follows protoc-gen-es conventions (e.g. `& {}` for empty
# messages) rather than ours, so it is exempt from lint. It is formatted with
# Deno's defaults (--no-config) so the output does not depend on the project's
# fmt settings, and stays clean even where no deno.json excludes it.
protobuf_es_finish() {
  local generated="$1" out="$2" expression="${3:-}"
  {
    echo "// deno-lint-ignore-file"
    if [[ -n "${expression}" ]]; then
      sed -e "${expression}" "${generated}"
    else
      cat "${generated}"
    fi
  } >"${out}.tmp"
  mv "${out}.tmp" "${out}"
  "$(protobuf_es_deno)" fmt --no-config --quiet "${out}"
}
