#!/usr/bin/env bash
# Installs versitygw (Apache-2.0), the S3-compatible server the media store's
# S3 tests run against, into bin/tools when it is missing. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=v1.8.0
BIN="$PWD/bin/tools"
if [ -x "$BIN/versitygw" ] && [ "$(cat "$BIN/versitygw.version" 2>/dev/null)" = "$VERSION" ]; then exit 0; fi
echo "versitygw: installing $VERSION into bin/tools (a few minutes the first time)"
mkdir -p "$BIN"
GOBIN="$BIN" CGO_ENABLED=0 go install "github.com/versity/versitygw/cmd/versitygw@$VERSION"
echo "$VERSION" > "$BIN/versitygw.version"
