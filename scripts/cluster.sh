#!/usr/bin/env bash
# A distributed canvasfill on this machine, all on loopback: PostgreSQL, Redis and
# SeaweedFS (S3) started if they are not running, two API nodes and two Celery workers.
# Prints the URLs and a key, then waits; Ctrl-C (or SIGTERM) stops the processes this
# script started, by their ids, and nothing else.
#
#   make cluster                      # or: bash scripts/cluster.sh
#   CANVASFILL_CLUSTER_PORTS="9000 9001" make cluster
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
PORTS=(${CANVASFILL_CLUSTER_PORTS:-8000 8001})
DATA=${CANVASFILL_CLUSTER_DIR:-$PWD/canvasfill-cluster}
DATABASE=${CANVASFILL_CLUSTER_DATABASE:-canvasfill_cluster}
BUCKET=${CANVASFILL_CLUSTER_BUCKET:-canvasfill-cluster}
mkdir -p "$DATA"

CANVASFILL_PYTHON=$BIN/python bash scripts/start-services.sh

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

started=()
stop() {
  trap - INT TERM EXIT
  for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "cluster stopped"
}
trap stop EXIT
trap 'stop; exit 130' INT TERM

healthy() { "$BIN/python" -c "import httpx,sys; sys.exit(httpx.get('$1/readyz', timeout=1).status_code != 200)" 2>/dev/null; }

# the first node migrates the database and prepares the bucket; the others follow it
for index in "${!PORTS[@]}"; do
  port=${PORTS[$index]}
  "$BIN/canvasfill" serve --host 127.0.0.1 --port "$port" > "$DATA/api-$port.log" 2>&1 &
  started+=($!)
  for _ in $(seq 1 120); do healthy "http://127.0.0.1:$port" && break; sleep 0.5; done
  healthy "http://127.0.0.1:$port" || { echo "API node on $port did not come up: $DATA/api-$port.log" >&2; exit 1; }
done
for worker in 1 2; do
  "$BIN/canvasfill" worker --queues cpu --concurrency 1 > "$DATA/worker-$worker.log" 2>&1 &
  started+=($!)
done

key=$("$BIN/canvasfill" keys create --name "cluster $(date +%H:%M)" | sed -n 's/^key: //p')
echo
for port in "${PORTS[@]}"; do echo "API node:  http://127.0.0.1:$port   (playground: http://127.0.0.1:$port/#key=$key)"; done
echo "workers:   2 (queue cpu), logs in $DATA"
echo "key:       $key"
echo "database:  $CANVASFILL_DATABASE_URL"
echo "broker:    $CANVASFILL_BROKER_URL"
echo "blobs:     $CANVASFILL_BLOB_URL at $CANVASFILL_S3_ENDPOINT_URL"
echo "Ctrl-C stops the cluster."
wait -n "${started[@]}" || true
echo "a cluster process stopped; see the logs in $DATA" >&2
