#!/usr/bin/env bash
# The test rig's real broker: Apache Kafka in KRaft mode, one combined broker+controller node on 127.0.0.1.
#   scripts/kafka.sh fetch   jars from Maven Central into .kafka/libs (scripts/kafka/pom.xml pins the version)
#   scripts/kafka.sh start   fetch if needed, format storage, start, wait until a client can produce
#   scripts/kafka.sh stop    stop it and wait for the process to end
#   scripts/kafka.sh status  exit 0 when it runs
# Everything lives in .kafka/ (ignored by git). KAFKA_PORT (default 9092) picks the client port.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
home="$root/.kafka"
libs="$home/libs"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
pidfile="$home/kafka.pid"
log="$home/server.log"

fetch() {
  if [ -f "$libs/.fetched" ] && [ "$libs/.fetched" -nt "$root/scripts/kafka/pom.xml" ]; then return 0; fi
  command -v java >/dev/null || { echo "kafka.sh: java is missing (apt-get install -y openjdk-17-jre-headless)" >&2; exit 1; }
  command -v mvn >/dev/null || { echo "kafka.sh: mvn is missing (apt-get install -y maven)" >&2; exit 1; }
  mkdir -p "$libs"
  echo "kafka.sh: fetching the broker's jars with Maven" >&2
  mvn -q -B -f "$root/scripts/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$libs" -DincludeScope=runtime >&2
  touch "$libs/.fetched"
}

exec_or_run() { "$@"; }

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

write_config() {
  mkdir -p "$home/data"
  cat > "$home/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$home/data
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
  cat > "$home/log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    Console: { name: STDOUT, PatternLayout: { pattern: "[%d] %p %m (%c)%n" } }
  Loggers:
    Root: { level: WARN, AppenderRef: [ { ref: STDOUT } ] }
    Logger: [ { name: kafka.server.KafkaRaftServer, level: INFO } ]
YAML
}

java_cmd() {
  exec_or_run java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$home/log4j2.yaml" -cp "$libs/*" "$@"
}

start() {
  if running; then echo "kafka.sh: already running (pid $(cat "$pidfile"))" >&2; return 0; fi
  fetch
  rm -rf "$home/data"
  write_config
  java_cmd kafka.tools.StorageTool format --standalone -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
    -c "$home/server.properties" >"$home/format.log" 2>&1 \
    || java_cmd kafka.tools.StorageTool format -t "$(java_cmd kafka.tools.StorageTool random-uuid)" \
    -c "$home/server.properties" >>"$home/format.log" 2>&1 \
    || { cat "$home/format.log" >&2; exit 1; }
  # exec, so that the pid we keep is the JVM's own and `stop` signals the broker itself.
  (exec_or_run() { exec "$@"; }; java_cmd kafka.Kafka "$home/server.properties") >"$log" 2>&1 &
  echo $! >"$pidfile"
  # Ready means a client can fetch metadata from it, not merely that the port is open.
  for _ in $(seq 1 120); do
    if ! running; then echo "kafka.sh: the broker exited; its log:" >&2; tail -50 "$log" >&2; exit 1; fi
    if kcat -b "127.0.0.1:$port" -L -m 2 >/dev/null 2>&1; then
      echo "kafka.sh: broker ready on 127.0.0.1:$port (pid $(cat "$pidfile"))" >&2; return 0
    fi
    sleep 0.5
  done
  echo "kafka.sh: the broker did not become ready in 60 s; its log:" >&2; tail -50 "$log" >&2
  stop; exit 1
}

stop() {
  if ! running; then rm -f "$pidfile"; return 0; fi
  local pid; pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  echo "kafka.sh: stopped" >&2
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) running ;;
  *) echo "usage: $0 fetch|start|stop|status" >&2; exit 2 ;;
esac
