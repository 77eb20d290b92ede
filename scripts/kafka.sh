#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, no ZooKeeper) for development, tests and CI,
# run from Maven Central's jars on the machine's Java: no Docker needed.
#
#   scripts/kafka.sh start | stop | status
#
# Environment:
#   KAFKA_VERSION           Apache Kafka version from Maven Central (default in scripts/kafka/pom.xml;
#                           the 3.9 line is supported too, for example 3.9.2)
#   KAFKA_PORT              client port on 127.0.0.1              (default 9092)
#   KAFKA_CONTROLLER_PORT   KRaft controller port on 127.0.0.1    (default KAFKA_PORT + 1)
#   KAFKA_STATE_DIR         config, data, pid and server.log      (default .kafka/<port> in the repo)
#   KAFKA_JARS_DIR          cached broker jars                    (default ~/.cache/user-actions-pipeline/kafka-<version>)
#   KAFKA_HEAP              JVM heap                              (default 512m)
# For one node of a multi-broker cluster (each node started with its own ports and state dir):
#   KAFKA_NODE_ID           this node's id                        (default 1)
#   KAFKA_QUORUM_VOTERS     every controller, id@host:port,...    (default this node alone)
#   KAFKA_CLUSTER_ID        the same for every node of a cluster  (default a new one)
# For clients that authenticate (SASL over plaintext; PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512):
#   KAFKA_SASL_PORT         a second client port on 127.0.0.1 that requires SASL  (default none)
#   KAFKA_SASL_USERS        its users, user:password,...  (SCRAM credentials are stored when the
#                           storage is formatted, so they take effect with a new KAFKA_STATE_DIR)
# For clients that connect over TLS:
#   KAFKA_SSL_PORT          a client port on 127.0.0.1 that speaks TLS             (default none)
#   KAFKA_SSL_KEYSTORE      PEM file with the broker's private key (PKCS#8, unencrypted) and certificate
# Replication factors follow the number of voters: 3 nodes give replication factor 3 and
# min.insync.replicas 2, so one broker can be down without stopping writes.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
version=${KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/kafka/pom.xml")}
# Kafka 4 logs through Log4j 2, the 3.x line through reload4j: each gets its own SLF4J binding.
if [[ $version == 3.* ]]; then
  logging=(-Dlogging.groupId=org.slf4j -Dlogging.artifactId=slf4j-reload4j -Dlogging.version=1.7.36)
else
  logging=()
fi

port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-$((port + 1))}
state_dir=${KAFKA_STATE_DIR:-$repo/.kafka/$port}
jars_dir=${KAFKA_JARS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/user-actions-pipeline/kafka-$version}
heap=${KAFKA_HEAP:-512m}
pid_file=$state_dir/kafka.pid
node_id=${KAFKA_NODE_ID:-1}
voters=${KAFKA_QUORUM_VOTERS:-$node_id@127.0.0.1:$controller_port}
voter_count=$(($(tr -cd ',' <<<"$voters" | wc -c) + 1))
replication=$((voter_count < 3 ? voter_count : 3))
min_isr=$((replication >= 3 ? 2 : 1))
sasl_port=${KAFKA_SASL_PORT:-}
sasl_users=${KAFKA_SASL_USERS:-}
ssl_port=${KAFKA_SSL_PORT:-}
ssl_keystore=${KAFKA_SSL_KEYSTORE:-}

say() { printf 'kafka: %s\n' "$*" >&2; }

is_running() {
  [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
}

fetch_jars() {
  [[ -f $jars_dir/kafka_2.13-$version.jar ]] && return
  command -v mvn >/dev/null || { say "Maven (mvn) is needed once to fetch the broker jars"; exit 1; }
  say "fetching Apache Kafka $version jars from Maven Central into $jars_dir (once)"
  local tmp="$jars_dir.tmp.$$"
  mvn -q -B -Dstyle.color=never -f "$here/kafka/pom.xml" dependency:copy-dependencies \
    "-Dkafka.version=$version" "${logging[@]}" -DoutputDirectory="$tmp" -DincludeScope=runtime >&2
  mv "$tmp" "$jars_dir"
}

# PLAIN checks passwords from the listener's JAAS line; SCRAM from credentials stored in the metadata.
sasl_config() {
  [[ -z $sasl_port ]] && return
  local plain_users='' pair pairs
  IFS=',' read -ra pairs <<<"$sasl_users"
  for pair in "${pairs[@]}"; do plain_users+=" user_${pair%%:*}=\"${pair#*:}\""; done
  cat <<EOT
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOT
}

ssl_config() {
  [[ -z $ssl_port ]] && return
  cat <<EOT
ssl.keystore.type=PEM
ssl.keystore.location=$ssl_keystore
EOT
}

write_config() {
  mkdir -p "$state_dir/data"
  local listeners="PLAINTEXT://127.0.0.1:$port" protocols=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
  if [[ -n $sasl_port ]]; then
    listeners+=",SASL_PLAINTEXT://127.0.0.1:$sasl_port"
    protocols+=",SASL_PLAINTEXT:SASL_PLAINTEXT"
  fi
  if [[ -n $ssl_port ]]; then
    [[ -f $ssl_keystore ]] || { say "KAFKA_SSL_PORT needs KAFKA_SSL_KEYSTORE, a PEM file with the key and certificate"; exit 1; }
    listeners+=",SSL://127.0.0.1:$ssl_port"
    protocols+=",SSL:SSL"
  fi
  cat >"$state_dir/server.properties" <<EOF
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=$listeners,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
$(sasl_config)
$(ssl_config)
log.dirs=$state_dir/data
num.partitions=1
default.replication.factor=$replication
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$replication
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_isr
group.initial.rebalance.delay.ms=0
# The daemons create their topics with the right partition count; an auto-created one would have 1.
auto.create.topics.enable=false
EOF
  cat >"$state_dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$state_dir/server.log
log4j.appender.file.MaxFileSize=20MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
EOF
  cat >"$state_dir/log4j2.properties" <<EOF
appender.file.type=RollingFile
appender.file.name=file
appender.file.fileName=$state_dir/server.log
appender.file.filePattern=$state_dir/server.log.%i
appender.file.layout.type=PatternLayout
appender.file.layout.pattern=[%d] %p %m (%c)%n
appender.file.policies.type=Policies
appender.file.policies.size.type=SizeBasedTriggeringPolicy
appender.file.policies.size.size=20MB
appender.file.strategy.type=DefaultRolloverStrategy
appender.file.strategy.max=2
rootLogger.level=INFO
rootLogger.appenderRef.file.ref=file
logger.request.name=kafka.request.logger
logger.request.level=WARN
logger.state.name=state.change.logger
logger.state.level=WARN
EOF
}

# Both logging configurations (Log4j 2 for Kafka 4, reload4j for 3.x): the broker reads the one it knows.
java_logging() {
  printf '%s\n' "-Dlog4j.configuration=file:$state_dir/log4j.properties" "-Dlog4j2.configurationFile=$state_dir/log4j2.properties"
}

format_storage() {
  [[ -f $state_dir/data/meta.properties ]] && return
  local cluster_id=${KAFKA_CLUSTER_ID:-}
  if [[ -z $cluster_id ]]; then
    cluster_id=$(java -cp "$jars_dir/*" $(java_logging) kafka.tools.StorageTool random-uuid)
  fi
  local scram=() pair pairs mechanism
  if [[ -n $sasl_port && -n $sasl_users ]]; then
    IFS=',' read -ra pairs <<<"$sasl_users"
    for pair in "${pairs[@]}"; do
      for mechanism in SCRAM-SHA-256 SCRAM-SHA-512; do
        scram+=(--add-scram "$mechanism=[name=${pair%%:*},password=${pair#*:}]")
      done
    done
  fi
  # --cluster-id=…: a cluster id may begin with "-", which the separate-argument form takes for an option.
  java -cp "$jars_dir/*" $(java_logging) kafka.tools.StorageTool format "--cluster-id=$cluster_id" -c "$state_dir/server.properties" "${scram[@]}" >/dev/null
}

start() {
  if is_running; then
    say "already running on 127.0.0.1:$port (pid $(cat "$pid_file"))"
    return
  fi
  if port_open; then
    say "port $port is already in use by another process; set KAFKA_PORT to another port"
    exit 1
  fi
  command -v java >/dev/null || { say "Java 17+ is needed to run the broker"; exit 1; }
  fetch_jars
  write_config
  format_storage
  nohup java "-Xms$heap" "-Xmx$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    $(java_logging) -cp "$jars_dir/*" kafka.Kafka "$state_dir/server.properties" \
    >"$state_dir/stdout.log" 2>&1 &
  echo $! >"$pid_file"
  say "starting Apache Kafka $version on 127.0.0.1:$port (pid $!, logs in $state_dir)"
  for _ in $(seq 1 120); do
    if ! is_running; then
      say "the broker exited during start-up; errors in $state_dir/server.log:"
      grep -E -A3 'ERROR|FATAL' "$state_dir/server.log" | tail -n 30 >&2 || tail -n 20 "$state_dir/server.log" >&2 || true
      exit 1
    fi
    if port_open && grep -q 'Kafka Server started' "$state_dir/server.log" 2>/dev/null; then
      say "ready on 127.0.0.1:$port"
      return
    fi
    sleep 0.5
  done
  say "not ready after 60 s; see $state_dir/server.log"
  exit 1
}

stop() {
  if ! is_running; then
    say "not running on port $port"
    rm -f "$pid_file"
    return
  fi
  local pid
  pid=$(cat "$pid_file")
  kill "$pid"
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pid_file"; say "stopped"; return; }
    sleep 0.5
  done
  say "still running after 30 s; killing it"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pid_file"
}

status() {
  if is_running; then
    say "running on 127.0.0.1:$port (pid $(cat "$pid_file"))"
  else
    say "not running on port $port"
    exit 1
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
