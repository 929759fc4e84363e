#!/usr/bin/env bash
# The curl examples of the README, run as they are by tests/serve/curl_test.ts.
# Start the server first (deno task serve --model-control-mode explicit --load-model add_sub
# --load-model stream_text); it listens on localhost:8000.
set -euo pipefail
URL=${URL:-localhost:8000}

# Is the server live, and is add_sub ready?
curl -sf "$URL/v2/health/live" && echo "server live"
curl -sf "$URL/v2/models/add_sub/ready" && echo "add_sub ready"

# The model's metadata and configuration.
curl -s "$URL/v2/models/add_sub"; echo
curl -s "$URL/v2/models/add_sub/config"; echo

# Inference with JSON tensors: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1.
curl -s -X POST "$URL/v2/models/add_sub/infer" \
  -H 'Content-Type: application/json' \
  -d '{"id": "example-1",
       "inputs": [
         {"name": "INPUT0", "datatype": "FP32", "shape": [4], "data": [1, 2, 3, 4]},
         {"name": "INPUT1", "datatype": "FP32", "shape": [4], "data": [10, 20, 30, 40]}]}'
echo

# The same with binary tensor data: the JSON header, then the raw little-endian
# floats (INPUT0 = [1, 2], INPUT1 = [3, 4]); Inference-Header-Content-Length is
# the header's length. OUTPUT0 comes back as JSON, as asked.
HEADER='{"inputs":[{"name":"INPUT0","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}},{"name":"INPUT1","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}],"outputs":[{"name":"OUTPUT0","parameters":{"binary_data":false}}]}'
BODY=$(mktemp)
{ printf '%s' "$HEADER"
  printf '\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40\x00\x00\x80\x40'; } > "$BODY"
curl -s -X POST "$URL/v2/models/add_sub/infer" \
  -H 'Content-Type: application/octet-stream' \
  -H "Inference-Header-Content-Length: ${#HEADER}" \
  --data-binary "@$BODY"
echo
rm -f "$BODY"

# A request the model cannot take: HTTP 400 with Triton's error message.
curl -s -w ' (HTTP %{http_code})\n' -X POST "$URL/v2/models/add_sub/infer" \
  -d '{"inputs": [{"name": "INPUT0", "datatype": "FP32", "shape": [2], "data": [1, 2]}]}'

# Statistics, the repository index, and model control (with --model-control-mode explicit).
curl -s "$URL/v2/models/add_sub/stats"; echo
curl -s -X POST "$URL/v2/repository/index"; echo
curl -sf -X POST "$URL/v2/repository/models/add_sub/unload" && echo "add_sub unloaded"
curl -sf -X POST "$URL/v2/repository/models/add_sub/load" && echo "add_sub loaded"

# A decoupled model streams: one Server-Sent Event per word, then the stream ends.
curl -sN -X POST "$URL/v2/models/stream_text/generate_stream" \
  -H 'Content-Type: application/json' -d '{"TEXT": "tokens one by one"}'
