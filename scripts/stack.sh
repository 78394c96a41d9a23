#!/usr/bin/env bash
# The production configuration, natively (no Docker engine on this machine): gunicorn, a Celery
# worker and beat, against the local PostgreSQL and Redis and moto's S3 API on loopback, with
# DJANGO_SETTINGS_MODULE=portal.settings.production. Mirrors docker-compose.yml service by service.
#
#   scripts/stack.sh start | stop | status | env
#
# Everything is configurable through the environment (defaults in brackets):
#   STACK_DIR [var/stack]          logs, pid files, generated secrets, collected static files
#   STACK_WEB_PORT [8100]          gunicorn on 127.0.0.1
#   STACK_S3_PORT [9100]           moto's S3 server on 127.0.0.1
#   STACK_DATABASE_URL [postgres://postgres@127.0.0.1:5432/portal_stack]  created when missing
#   STACK_REDIS_URL [redis://127.0.0.1:6379/15]
#   STACK_REDIS_PORT [unset]       if set: start a private redis-server there (noeviction, AOF
#                                  in STACK_DIR, like the compose service) instead of STACK_REDIS_URL
#   STACK_TIMEOUT [60]             seconds to wait for /healthz
set -eEuo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
STACK_DIR=$(mkdir -p "${STACK_DIR:-var/stack}" && cd "${STACK_DIR:-var/stack}" && pwd)
WEB_PORT=${STACK_WEB_PORT:-8100}
S3_PORT=${STACK_S3_PORT:-9100}
TIMEOUT=${STACK_TIMEOUT:-60}
SERVICES=(s3 web worker beat)
[ -n "${STACK_REDIS_PORT:-}" ] && SERVICES=(redis "${SERVICES[@]}")

secret() {  # a random secret kept in STACK_DIR so restarts keep sessions and encrypted data readable
  local file="$STACK_DIR/$1"
  [ -s "$file" ] || "$PY" -c "import secrets; print(secrets.token_urlsafe(48))" > "$file"
  chmod 600 "$file"
  cat "$file"
}

write_env() {
  cat > "$STACK_DIR/env" <<ENV
DJANGO_SETTINGS_MODULE=portal.settings.production
SECRET_KEY=$(secret secret_key)
DEBUG=0
ALLOWED_HOSTS=127.0.0.1,localhost
CSRF_TRUSTED_ORIGINS=http://127.0.0.1:$WEB_PORT,http://localhost:$WEB_PORT
# Loopback has no TLS: these three are the only differences from a real deployment.
SECURE_SSL_REDIRECT=0
SECURE_COOKIES=0
SECURE_HSTS_SECONDS=0
ADMIN_URL=${ADMIN_URL:-staff-admin/}
DATABASE_URL=${STACK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/portal_stack}
REDIS_URL=$( [ -n "${STACK_REDIS_PORT:-}" ] && echo "redis://127.0.0.1:$STACK_REDIS_PORT/0" || echo "${STACK_REDIS_URL:-redis://127.0.0.1:6379/15}" )
STORAGE_BACKEND=s3
S3_BUCKET=${S3_BUCKET:-portal-private}
S3_ENDPOINT_URL=http://127.0.0.1:$S3_PORT
S3_ACCESS_KEY_ID=stack
S3_SECRET_ACCESS_KEY=stack-secret
S3_REGION=us-east-1
FIELD_ENCRYPTION_KEYS=$(secret field_encryption_key)
FIELD_HASH_KEY=$(secret field_hash_key)
STATIC_ROOT=$STACK_DIR/static
PORTAL_VAR_DIR=$STACK_DIR/var
SMS_GATEWAY=${SMS_GATEWAY:-dev}
# The smoke test reads SMS from the dev gateway; production settings refuse it without this.
ALLOW_DEV_SMS_GATEWAY=1
LOG_LEVEL=INFO
GUNICORN_BIND=127.0.0.1:$WEB_PORT
WEB_CONCURRENCY=${WEB_CONCURRENCY:-2}
FORWARDED_ALLOW_IPS=127.0.0.1
ENV
  chmod 600 "$STACK_DIR/env"
}

load_env() { set -a; . "$STACK_DIR/env"; set +a; }

running() { [ -s "$STACK_DIR/$1.pid" ] && kill -0 "$(cat "$STACK_DIR/$1.pid")" 2>/dev/null; }

launch() {  # name, command...: own session (process group) so stop ends it and its children only
  local name=$1; shift
  if running "$name"; then echo "$name already running (pid $(cat "$STACK_DIR/$name.pid"))"; return; fi
  setsid "$@" >> "$STACK_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$STACK_DIR/$name.pid"
  echo "$name started (pid $!, log $STACK_DIR/$name.log)"
}

wait_port() {
  local port=$1 deadline=$((SECONDS + TIMEOUT))
  until "$PY" -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('127.0.0.1', $port)))"; do
    [ $SECONDS -lt $deadline ] || { echo "nothing on 127.0.0.1:$port after ${TIMEOUT}s" >&2; return 1; }
    sleep 0.3
  done
}

prepare() {
  # The database (created once) and the bucket (private, public access blocked), like the
  # compose file's `createbucket` one-shot service.
  "$PY" - <<'PY'
import os, dj_database_url, psycopg2, boto3
from botocore.exceptions import ClientError
db = dj_database_url.parse(os.environ["DATABASE_URL"])
conn = psycopg2.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres",
                        password=db["PASSWORD"] or None, dbname="postgres", connect_timeout=5)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
    if not cur.fetchone():
        cur.execute(f'CREATE DATABASE "{db["NAME"]}"')
conn.close()
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"], aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"],
                  aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"], region_name=os.environ["S3_REGION"])
try:
    s3.create_bucket(Bucket=os.environ["S3_BUCKET"])
except ClientError as exc:
    if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
        raise
s3.put_public_access_block(Bucket=os.environ["S3_BUCKET"], PublicAccessBlockConfiguration={
    "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
PY
  # Migrations once, before any web or worker process starts (the compose `migrate` service).
  "$PY" manage.py migrate --no-input
  "$PY" manage.py collectstatic --no-input --verbosity 0
}

start() {
  write_env
  load_env
  mkdir -p "$PORTAL_VAR_DIR"
  if [ -n "${STACK_REDIS_PORT:-}" ]; then
    # Same flags as docker-compose.yml: never evict queued tasks, keep them across restarts.
    launch redis redis-server --bind 127.0.0.1 --port "$STACK_REDIS_PORT" --maxmemory-policy noeviction \
      --appendonly yes --save "" --dir "$STACK_DIR" --daemonize no
    wait_port "$STACK_REDIS_PORT"
  fi
  launch s3 "$PY" -m moto.server -H 127.0.0.1 -p "$S3_PORT"
  wait_port "$S3_PORT"
  prepare
  launch web "$PY" -m gunicorn -c deploy/gunicorn.conf.py
  launch worker "$PY" -m celery -A portal worker --loglevel INFO --concurrency 2 --hostname "stack-worker@%h"
  launch beat "$PY" -m celery -A portal beat --loglevel INFO --schedule "$STACK_DIR/celerybeat-schedule"
  local deadline=$((SECONDS + TIMEOUT)) code=000
  until [ "$code" = 200 ]; do
    code=$("$PY" - "http://127.0.0.1:$WEB_PORT/healthz" "$STACK_DIR/healthz.json" <<'PY' || true
import sys, urllib.request, urllib.error
try:
    response = urllib.request.urlopen(sys.argv[1], timeout=5)
except urllib.error.HTTPError as exc:
    response = exc
except OSError:
    print("000"); sys.exit(0)
open(sys.argv[2], "wb").write(response.read())
print(response.status if hasattr(response, "status") else response.code)
PY
)
    [ "$code" = 200 ] && break
    if [ $SECONDS -ge $deadline ]; then
      echo "/healthz did not answer 200 within ${TIMEOUT}s (last: $code); see $STACK_DIR/*.log" >&2
      cat "$STACK_DIR/healthz.json" >&2 2>/dev/null || true
      return 1
    fi
    sleep 0.5
  done
  echo "stack up: http://127.0.0.1:$WEB_PORT/  (healthz: $(cat "$STACK_DIR/healthz.json"))"
  echo "manage.py against it: set -a; . $STACK_DIR/env; set +a; $PY manage.py ..."
}

stop() {
  # TERM every process group first, then wait for all of them together (bounded), then KILL.
  local name pid pids=()
  for name in beat worker web s3 redis; do
    [ -s "$STACK_DIR/$name.pid" ] || continue
    pid=$(cat "$STACK_DIR/$name.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      pids+=("$name:$pid")
    fi
    rm -f "$STACK_DIR/$name.pid"
  done
  for _ in $(seq 1 75); do
    local alive=0
    for entry in "${pids[@]}"; do kill -0 "${entry#*:}" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.2
  done
  for entry in "${pids[@]}"; do
    pid=${entry#*:}
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
    echo "${entry%%:*} stopped (pid $pid)"
  done
}

status() {
  local name rc=0
  for name in "${SERVICES[@]}"; do
    if running "$name"; then echo "$name running (pid $(cat "$STACK_DIR/$name.pid"))"; else echo "$name stopped"; rc=1; fi
  done
  return $rc
}

case "${1:-}" in
  # Any failure while starting stops what did start: no half-up stack is left behind.
  start) trap 'echo "stack start failed; stopping" >&2; stop; exit 1' ERR; start ;;
  stop) stop ;;
  status) status ;;
  env) write_env; cat "$STACK_DIR/env" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
