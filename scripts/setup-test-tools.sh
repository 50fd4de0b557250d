#!/usr/bin/env bash
# What the tests need besides Node packages: kcat (an independent consumer to read back what we produced),
# Java and Maven (the real Kafka broker, fetched and run by scripts/kafka.sh). Installs what is missing
# where it can (root with apt-get); elsewhere says what to install and fails.
set -euo pipefail
need=()
command -v kcat >/dev/null || need+=(kcat)
command -v java >/dev/null || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || need+=(maven)
pkg-config --exists rdkafka 2>/dev/null || [ -n "${LIBRDKAFKA_PREFIX:-}" ] || need+=(librdkafka-dev pkg-config)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "nestjs-kafka-fd: installing ${need[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${need[@]}" >&2
  exit 0
fi
echo "nestjs-kafka-fd: the tests need: ${need[*]} (Debian/Ubuntu package names). Install them and retry." >&2
exit 1
