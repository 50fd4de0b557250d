#!/usr/bin/env bash
# Builds our addon and the C ceiling against the librdkafka that @confluentinc/kafka-javascript built
# (bench/node_modules, after `npm run bench:setup`), so that they can be compared with the peers at the same
# librdkafka version. Its build tree holds the library (build/deps) and the headers (build/deps/include); we
# lay them out as a prefix (include/, lib/) for LIBRDKAFKA_PREFIX. Prints the addon's path.
set -euo pipefail
bench="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$bench/.." && pwd)"
deps="$bench/node_modules/@confluentinc/kafka-javascript/build/deps"
[ -f "$deps/include/librdkafka/rdkafka.h" ] || { echo "run npm run bench:setup first ($deps is missing)" >&2; exit 1; }
version="$(sed -n 's/^#define RD_KAFKA_VERSION *0x\([0-9a-f]\{2\}\)\([0-9a-f]\{2\}\)\([0-9a-f]\{2\}\).*/\1 \2 \3/p' "$deps/include/librdkafka/rdkafka.h" | { read -r a b c; printf '%d.%d.%d' "0x$a" "0x$b" "0x$c"; })"
prefix="$bench/.librdkafka-$version"
rm -rf "$prefix" && mkdir -p "$prefix"
ln -s "$deps/include" "$prefix/include"
ln -s "$deps" "$prefix/lib"
out="$bench/.addon-$version"
# Rebuilt whenever a native source is newer than the last build.
if [ ! -f "$out/build/Release/kafka_fd.node" ] || [ -n "$(find "$root/native" "$root/binding.gyp" -newer "$out/build/Release/kafka_fd.node" -print -quit)" ]; then
  rm -rf "$out" && mkdir -p "$out/node_modules"
  cp -r "$root/native" "$root/binding.gyp" "$root/package.json" "$root/scripts" "$out/"
  cp -r "$root/node_modules/node-addon-api" "$out/node_modules/"
  (cd "$out" && LIBRDKAFKA_PREFIX="$prefix" node scripts/build-native.js --force >build.log 2>&1) || { tail -20 "$out/build.log" >&2; exit 1; }
fi
make -s -C "$bench/ceiling" LIBRDKAFKA_PREFIX="$prefix" >&2
echo "$out/build/Release/kafka_fd.node"
