#!/usr/bin/env bash
# The contract and native suites against the double built with AddressSanitizer and UBSan:
# any memory error in the double (or a buffer misuse by the binding that reaches it) aborts
# the run. Node itself is not instrumented; libasan is preloaded so the double can use it.
set -euo pipefail
cd "$(dirname "$0")/.."

out=native/build/asan
mkdir -p "$out"
cc -std=c11 -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
  -fPIC -shared -fvisibility=hidden -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror \
  -o "$out/wtsapi32_double.node" native/src/wtsapi32_double.c

libasan=$(cc -print-file-name=libasan.so)
libubsan=$(cc -print-file-name=libubsan.so)
echo "ASan run: double $out/wtsapi32_double.node, preloading $libasan"
WTS_DOUBLE_PATH="$PWD/$out/wtsapi32_double.node" \
LD_PRELOAD="$libasan:$libubsan" \
ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  npx jest --runInBand test/contract/koffi.test.ts test/native
