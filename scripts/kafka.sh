#!/usr/bin/env bash
# The test rig's real Apache Kafka, in KRaft mode, on 127.0.0.1.
#   scripts/kafka.sh fetch            jars from Maven Central into .kafka/libs (scripts/kafka/pom.xml pins the version)
#   scripts/kafka.sh start            one combined broker+controller node: fetch if needed, format, start, wait until
#                                     a client can read metadata. Clients: PLAINTEXT on KAFKA_PORT (9092) and
#                                     SASL_PLAINTEXT (PLAIN, user "tester", password "tester-secret") on KAFKA_SASL_PORT
#                                     (KAFKA_PORT + 2).
#   scripts/kafka.sh stop|status      stop it (and wait) / exit 0 when it runs
#   scripts/kafka.sh start-cluster    three combined nodes (ids 1-3) on KAFKA_CLUSTER_PORT (9192) + 0..2, controllers
#                                     on + 10..12; new topics get replication factor 3 and min.insync.replicas 2
#   scripts/kafka.sh stop-cluster     stop all three
#   scripts/kafka.sh start-node N     (re)start node N of the cluster on its existing data, wait until it serves
#   scripts/kafka.sh pid-node N       the JVM pid of node N (for a test's SIGKILL)
# Everything lives in .kafka/ (ignored by git): .kafka/data for the single node, .kafka/cluster/nodeN for the cluster.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
home="$root/.kafka"
libs="$home/libs"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
sasl_port="${KAFKA_SASL_PORT:-$((port + 2))}"
cluster_port="${KAFKA_CLUSTER_PORT:-9192}"
cluster="$home/cluster"

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

# running DIR: the node whose pid file is DIR/kafka.pid runs (a killed JVM not yet reaped is a zombie: not running).
running() {
  [ -f "$1/kafka.pid" ] || return 1
  local pid; pid="$(cat "$1/kafka.pid")"
  kill -0 "$pid" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != "Z" ]
}

log4j() {
  cat > "$home/log4j2.yaml" <<'YAML'
Configuration:
  Appenders:
    Console: { name: STDOUT, PatternLayout: { pattern: "[%d] %p %m (%c)%n" } }
  Loggers:
    Root: { level: WARN, AppenderRef: [ { ref: STDOUT } ] }
    Logger: [ { name: kafka.server.KafkaRaftServer, level: INFO } ]
YAML
}

# node_config DIR ID LISTENERS ADVERTISED PROTOCOLS VOTERS EXTRA: one combined broker+controller node.
node_config() {
  local dir="$1" id="$2" listeners="$3" advertised="$4" protocols="$5" voters="$6" extra="$7"
  mkdir -p "$dir/data"
  cat > "$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=$id
controller.quorum.voters=$voters
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=3
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
$extra
PROPS
}

java_cmd() {
  exec_or_run java -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$home/log4j2.yaml" -cp "$libs/*" "$@"
}

# format DIR CLUSTER_ID [--standalone]: Kafka 4 wants --standalone for a lone controller; older ones refuse it.
format() {
  local dir="$1" id="$2"; shift 2
  java_cmd kafka.tools.StorageTool format "$@" -t "$id" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
    || { [ $# -gt 0 ] && java_cmd kafka.tools.StorageTool format -t "$id" -c "$dir/server.properties" >>"$dir/format.log" 2>&1; } \
    || { cat "$dir/format.log" >&2; exit 1; }
}

# launch DIR: start the node's JVM in the background; its pid (exec'd, the JVM's own) in DIR/kafka.pid.
launch() {
  local dir="$1"
  (exec_or_run() { exec "$@"; }; java_cmd kafka.Kafka "$dir/server.properties") >>"$dir/server.log" 2>&1 &
  echo $! >"$dir/kafka.pid"
}

# wait_ready DIR PORT: ready means a client can fetch metadata from it, not merely that the port is open.
wait_ready() {
  local dir="$1" p="$2"
  for _ in $(seq 1 180); do
    if ! running "$dir"; then echo "kafka.sh: the broker exited; its log:" >&2; tail -50 "$dir/server.log" >&2; exit 1; fi
    if kcat -b "127.0.0.1:$p" -L -m 2 >/dev/null 2>&1; then
      echo "kafka.sh: broker ready on 127.0.0.1:$p (pid $(cat "$dir/kafka.pid"))" >&2; return 0
    fi
    sleep 0.5
  done
  echo "kafka.sh: the broker on port $p did not become ready in 90 s; its log:" >&2; tail -50 "$dir/server.log" >&2
  exit 1
}

halt() {
  local dir="$1"
  if ! running "$dir"; then rm -f "$dir/kafka.pid"; return 0; fi
  local pid; pid="$(cat "$dir/kafka.pid")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/kafka.pid"
  echo "kafka.sh: stopped $(basename "$dir")" >&2
}

start() {
  if running "$home"; then echo "kafka.sh: already running (pid $(cat "$home/kafka.pid"))" >&2; return 0; fi
  fetch
  rm -rf "$home/data" "$home/server.log"
  log4j
  # The SASL listener serves the security tests: PLAIN over plaintext, one user.
  node_config "$home" 1 \
    "PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sasl_port,CONTROLLER://127.0.0.1:$controller_port" \
    "PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sasl_port" \
    "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT" \
    "1@127.0.0.1:$controller_port" \
    "offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_tester=\"tester-secret\";"
  format "$home" "$(java_cmd kafka.tools.StorageTool random-uuid)" --standalone
  launch "$home"
  wait_ready "$home" "$port" || { halt "$home"; exit 1; }
}

node_dir() { echo "$cluster/node$1"; }

start_cluster() {
  fetch
  for n in 1 2 3; do running "$(node_dir $n)" && { echo "kafka.sh: the cluster already runs" >&2; return 0; }; done
  rm -rf "$cluster"
  log4j
  local voters="" id
  for n in 1 2 3; do voters="$voters${voters:+,}$n@127.0.0.1:$((cluster_port + 9 + n))"; done
  id="$(java_cmd kafka.tools.StorageTool random-uuid)"
  for n in 1 2 3; do
    local p=$((cluster_port + n - 1))
    node_config "$(node_dir $n)" "$n" "PLAINTEXT://127.0.0.1:$p,CONTROLLER://127.0.0.1:$((cluster_port + 9 + n))" \
      "PLAINTEXT://127.0.0.1:$p" "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT" "$voters" \
      "default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
unclean.leader.election.enable=false
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
replica.lag.time.max.ms=5000"
    format "$(node_dir $n)" "$id"
    launch "$(node_dir $n)"
  done
  for n in 1 2 3; do wait_ready "$(node_dir $n)" $((cluster_port + n - 1)) || { stop_cluster; exit 1; }; done
}

stop_cluster() { for n in 1 2 3; do halt "$(node_dir $n)"; done; }

start_node() {
  local n="$1" dir; dir="$(node_dir "$1")"
  [ -f "$dir/server.properties" ] || { echo "kafka.sh: no cluster node $n (start-cluster first)" >&2; exit 1; }
  running "$dir" || launch "$dir"
  wait_ready "$dir" $((cluster_port + n - 1))
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) halt "$home" ;;
  status) running "$home" ;;
  start-cluster) start_cluster ;;
  stop-cluster) stop_cluster ;;
  start-node) start_node "${2:?node 1-3}" ;;
  pid-node) cat "$(node_dir "${2:?node 1-3}")/kafka.pid" ;;
  *) echo "usage: $0 fetch|start|stop|status|start-cluster|stop-cluster|start-node N|pid-node N" >&2; exit 2 ;;
esac
