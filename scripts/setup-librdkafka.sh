#!/usr/bin/env bash
# Installs librdkafka's headers when pkg-config cannot find them. Only acts where it can do so safely:
# as root on a Debian-like system. Elsewhere it prints what to install and fails.
set -euo pipefail
if pkg-config --exists rdkafka 2>/dev/null; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "nestjs-kafka-fd: installing librdkafka-dev with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq librdkafka-dev pkg-config >&2
  exit 0
fi
echo "nestjs-kafka-fd: librdkafka is missing. Install it first:" >&2
echo "  Debian/Ubuntu: sudo apt-get install librdkafka-dev pkg-config" >&2
echo "  Fedora/RHEL:   sudo dnf install librdkafka-devel pkgconf" >&2
echo "  macOS:         brew install librdkafka pkg-config" >&2
exit 1
