#!/usr/bin/env bash
# Runs the native code under AddressSanitizer + LeakSanitizer: builds a sanitized copy of the addon in
# .memcheck/ (the normal build is untouched), then runs test/fixtures/memcheck-workload.ts with it: mock
# cluster, fd and thread mode, close, producers dropped without close (finalizers), a worker thread that
# exits with a producer open, bad input. Fails on any ASan error and on any leak whose stack passes through
# our addon. Node itself is not instrumented and frees little at exit, so leaks are only ours when the
# addon allocated them; librdkafka's are listed in scripts/memcheck.supp with a reason each.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$root/.memcheck"
rm -rf "$work" && mkdir -p "$work"
echo "memcheck: building a sanitized addon in $work"
cp -r "$root/native" "$root/binding.gyp" "$work/"
mkdir -p "$work/node_modules" && cp -r "$root/node_modules/node-addon-api" "$work/node_modules/"
nodedir="$(cd "$(dirname "$(command -v node)")/.." && pwd)"
gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
(cd "$work" && CXXFLAGS="-fsanitize=address -fno-omit-frame-pointer -g" LDFLAGS="-fsanitize=address" \
  node "$gyp" rebuild --nodedir="$nodedir" >build.log 2>&1) || { tail -30 "$work/build.log"; exit 1; }

asan="$(gcc -print-file-name=libasan.so)"
log="$work/asan"
set +e
LD_PRELOAD="$asan" \
ASAN_OPTIONS="detect_leaks=1:log_path=$log:handle_segv=1:allow_user_segv_handler=1:detect_odr_violation=0:fast_unwind_on_malloc=0" \
LSAN_OPTIONS="suppressions=$root/scripts/memcheck.supp:print_suppressions=0:exitcode=0" \
KAFKA_FD_ADDON="$work/build/Release/kafka_fd.node" \
  node --expose-gc -r ts-node/register/transpile-only "$root/test/fixtures/memcheck-workload.ts"
status=$?
set -e
echo "workload exit status: $status"
[ "$status" -eq 0 ] || { cat "$log".* 2>/dev/null | head -80; exit 1; }
errors=0
for f in "$log".*; do
  [ -f "$f" ] || continue
  # ASan errors (use-after-free, overflow, ...) are ours to fix wherever they are.
  if grep -q "ERROR: AddressSanitizer" "$f"; then cat "$f"; errors=1; fi
  # Leaks: only those allocated through our addon.
  awk '/^(Direct|Indirect) leak/{block=$0; next} block!=""{block=block"\n"$0} /^$/{ if (block ~ /kafka_fd|native\/src/) print block; block="" }' "$f" > "$f.ours"
  if [ -s "$f.ours" ]; then echo "leaks through our addon in $f:"; head -60 "$f.ours"; errors=1; fi
done
if [ "$errors" -ne 0 ]; then echo "memcheck: FAILED"; exit 1; fi
echo "memcheck: no ASan errors, no leaks through the addon"
