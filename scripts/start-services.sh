#!/usr/bin/env bash
# Start PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) when they are installed
# but not running, as on a fresh CI machine. Tests that need them skip nothing: they
# fail loudly if these are missing, so this script says what it could not start.
set -u

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    done
  else
    echo "start-services: PostgreSQL is not installed; tests that need it will fail" >&2
  fi
fi

if ! port_open 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
      --appendonly no --dir /tmp --logfile /tmp/canvasfill-redis.log || true
  else
    echo "start-services: Redis is not installed; tests that need it will fail" >&2
  fi
fi

for _ in $(seq 1 30); do
  port_open 5432 && port_open 6379 && exit 0
  sleep 0.5
done
echo "start-services: PostgreSQL or Redis did not come up" >&2
exit 0
