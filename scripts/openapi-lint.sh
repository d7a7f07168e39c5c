#!/usr/bin/env bash
# Lints schemas/openapi.yaml with Redocly CLI, pinned in
# tools/openapi-lint/package-lock.json and installed from npm on first use.
# Fails on any error or warning; tools/openapi-lint/redocly.yaml lists the
# rules turned off and why.
set -euo pipefail
cd "$(dirname "$0")/../tools/openapi-lint"
command -v npm >/dev/null || { echo "openapi-lint: npm is missing; install Node.js 20.19+ (apt install nodejs npm)" >&2; exit 1; }
if [ ! -x node_modules/.bin/redocly ]; then
  echo "openapi-lint: installing @redocly/cli (pinned in tools/openapi-lint/package-lock.json)"
  npm ci --no-audit --no-fund --silent
fi
out=$(node_modules/.bin/redocly lint --config redocly.yaml --format=stylish ../../schemas/openapi.yaml 2>&1) || { echo "$out" >&2; exit 1; }
if grep -Eq '^ +[0-9]+:[0-9]+ +warning' <<<"$out"; then
  echo "$out" >&2
  echo "openapi-lint: warnings above; fix them or turn the rule off in tools/openapi-lint/redocly.yaml with the reason" >&2
  exit 1
fi
echo "openapi-lint: schemas/openapi.yaml passes Redocly's recommended rules (see tools/openapi-lint/redocly.yaml)"
