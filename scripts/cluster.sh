#!/usr/bin/env bash
# A distributed canvasfill on this machine, all on loopback: PostgreSQL, Redis and
# SeaweedFS (S3) started if they are not running, two API nodes and two Celery workers.
# Prints the URLs and a key, then watches them: a node or worker that dies is started
# again (and said so on stderr); one that keeps dying (5 times in a minute) is reported
# and left down while the rest go on. Ctrl-C, SIGTERM or `make cluster-stop` (this
# script's `stop`) stops every process it started, by their ids, and the services
# start-services.sh started for it (SeaweedFS, and PostgreSQL or Redis if they were
# down), and nothing else.
#
#   make cluster                      # or: bash scripts/cluster.sh
#   make cluster-stop                 # or: bash scripts/cluster.sh stop
#   CANVASFILL_CLUSTER_PORTS="9000 9001" make cluster
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${CANVASFILL_CLUSTER_BIN:-.venv/bin}
PORTS=(${CANVASFILL_CLUSTER_PORTS:-8000 8001})
DATA=${CANVASFILL_CLUSTER_DIR:-$PWD/canvasfill-cluster}
DATABASE=${CANVASFILL_CLUSTER_DATABASE:-canvasfill_cluster}
BUCKET=${CANVASFILL_CLUSTER_BUCKET:-canvasfill-cluster}
RESTARTS=${CANVASFILL_CLUSTER_RESTARTS:-5}  # most restarts of one process in a minute
mkdir -p "$DATA"

if [ "${1:-}" = stop ]; then
  # the running cluster's script stops what it started when it gets SIGTERM
  pid=$(cat "$DATA/cluster.pid" 2>/dev/null || true)
  if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
    echo "no cluster is running (no live process in $DATA/cluster.pid)"
    exit 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.5; done
  echo "the cluster (pid $pid) did not stop within 60 s" >&2
  exit 1
fi
if pid=$(cat "$DATA/cluster.pid" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  echo "a cluster is already running from $DATA (pid $pid); stop it with: make cluster-stop" >&2
  exit 1
fi
echo $$ >"$DATA/cluster.pid"

# what start-services.sh starts for this cluster is stopped with it
SERVICES="$DATA/services-started"
: >"$SERVICES"
stop_services() {
  local kind what
  while read -r kind what; do
    case "$kind" in
      seaweedfs)
        # weed's graceful stop takes half a minute: 10 s, then no more grace
        kill "$what" 2>/dev/null || continue
        for _ in $(seq 1 40); do kill -0 "$what" 2>/dev/null || break; sleep 0.25; done
        kill -KILL "$what" 2>/dev/null || true
        echo "stopped SeaweedFS (pid $what)"
        ;;
      redis) "$BIN/python" -c "import redis; redis.Redis(port=$what).shutdown(nosave=True)" \
        2>/dev/null; echo "stopped Redis (port $what)" ;;
      postgresql) pg_ctlcluster --skip-systemctl-redirect "$what" main stop &&
        echo "stopped PostgreSQL $what" ;;
    esac
  done <"$SERVICES"
  : >"$SERVICES"
}

# the processes this script started: pid -> role ("api PORT" or "worker N")
declare -A role=()
declare -A deaths=()  # role -> the times (s) it died, the last minute's
launch() {
  case "$1" in
    api)
      "$BIN/canvasfill" serve --host 127.0.0.1 --port "$2" >>"$DATA/api-$2.log" 2>&1 &
      ;;
    worker)
      "$BIN/canvasfill" worker --queues cpu --concurrency 1 >>"$DATA/worker-$2.log" 2>&1 &
      ;;
  esac
  role[$!]="$1 $2"
  printf '%s %s\n' "$!" "$1 $2" >>"$DATA/cluster.pids"
}

stopped=""
stop() {
  [ -z "$stopped" ] || return 0
  stopped=yes
  trap - INT TERM
  local pid
  for pid in "${!role[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${!role[@]}"; do wait "$pid" 2>/dev/null || true; done
  role=()
  stop_services
  rm -f "$DATA/cluster.pid"
  echo "cluster stopped"
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

CANVASFILL_PYTHON=$BIN/python CANVASFILL_SERVICES_STARTED=$SERVICES bash scripts/start-services.sh

# one database for every node (made once), on the local PostgreSQL (trust auth)
"$BIN/python" - "$DATABASE" <<'PY'
import sys
import psycopg

name = sys.argv[1]
with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
    if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
        db.execute(f'CREATE DATABASE "{name}"')
PY

# every node shares the database, the broker, the bucket and the signing secret
if [ ! -s "$DATA/signing.key" ]; then
  "$BIN/python" -c "import secrets; print(secrets.token_hex(32))" > "$DATA/signing.key"
  chmod 600 "$DATA/signing.key"
fi
export CANVASFILL_DATA_DIR=$DATA
export CANVASFILL_SIGNING_SECRET=$(cat "$DATA/signing.key")
export CANVASFILL_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/$DATABASE
export CANVASFILL_BROKER_URL=${CANVASFILL_CLUSTER_BROKER:-redis://127.0.0.1:6379/1}
export CANVASFILL_BLOB_URL=s3://$BUCKET/blobs
export CANVASFILL_S3_ENDPOINT_URL=${CANVASFILL_TEST_S3_ENDPOINT:-http://127.0.0.1:8333}
export AWS_ACCESS_KEY_ID=${CANVASFILL_TEST_S3_ACCESS_KEY:-canvasfill-test}
export AWS_SECRET_ACCESS_KEY=${CANVASFILL_TEST_S3_SECRET_KEY:-canvasfill-test-secret}
export AWS_REGION=${AWS_REGION:-us-east-1}
export CANVASFILL_WORKERS=1

healthy() { "$BIN/python" -c "import httpx,sys; sys.exit(httpx.get('$1/readyz', timeout=1).status_code != 200)" 2>/dev/null; }

: >"$DATA/cluster.pids"
# the first node migrates the database and prepares the bucket; the others follow it
for port in "${PORTS[@]}"; do
  launch api "$port"
  for _ in $(seq 1 120); do healthy "http://127.0.0.1:$port" && break; sleep 0.5; done
  healthy "http://127.0.0.1:$port" || { echo "API node on $port did not come up: $DATA/api-$port.log" >&2; exit 1; }
done
for worker in 1 2; do
  launch worker "$worker"
done

key=$("$BIN/canvasfill" keys create --name "cluster $(date +%H:%M)" | sed -n 's/^key: //p')
echo
for port in "${PORTS[@]}"; do echo "API node:  http://127.0.0.1:$port   (playground: http://127.0.0.1:$port/#key=$key)"; done
echo "workers:   2 (queue cpu), logs in $DATA"
echo "key:       $key"
echo "database:  $CANVASFILL_DATABASE_URL"
echo "broker:    $CANVASFILL_BROKER_URL"
echo "blobs:     $CANVASFILL_BLOB_URL at $CANVASFILL_S3_ENDPOINT_URL"
echo "Ctrl-C (or make cluster-stop) stops the cluster."

# one process ending never ends the others: it is started again, unless it keeps dying
while [ "${#role[@]}" -gt 0 ]; do
  dead=""
  code=0
  wait -n -p dead "${!role[@]}" || code=$?
  [ -n "$dead" ] || continue  # woken by something else than a death
  what=${role[$dead]}
  unset "role[$dead]"
  now=$(date +%s)
  recent=""
  for at in ${deaths[$what]:-} "$now"; do
    [ $((now - at)) -lt 60 ] && recent="$recent $at"
  done
  deaths[$what]=$recent
  log="$DATA/${what/ /-}.log"
  if [ "$(wc -w <<<"$recent")" -gt "$RESTARTS" ]; then
    echo "cluster: $what (pid $dead) died again (exit $code), $RESTARTS times in a minute:" \
      "left down; see $log" >&2
    continue
  fi
  launch $what
  echo "cluster: $what (pid $dead) exited with status $code; started again as pid $!" \
    "(see $log)" >&2
done
echo "cluster: every process has stopped for good; see the logs in $DATA" >&2
exit 1
