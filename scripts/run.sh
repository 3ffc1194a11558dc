#!/usr/bin/env bash
# `make run`: the control-plane on 127.0.0.1:8080 (SQLite in .run/portcullis.db), the demo
# upstream on 127.0.0.1:8081 and Envoy with the Portcullis filter and syncer on
# 127.0.0.1:10000 (admin 127.0.0.1:9901). Generates every token that is not set, prints
# commands to try, and stops everything on Ctrl-C.
#
# Rate limits, chosen by RATELIMIT:
#   local (default)  envoy/envoy.yaml: Envoy's local_ratelimit filters, one node, no extra
#                    service; the limits are the default tiers', written in that file.
#   redis            envoy/envoy-redis.yaml: Envoy's global ratelimit filter asks
#                    `portcullis ratelimit serve` (gRPC 127.0.0.1:8082, metrics 127.0.0.1:8083),
#                    which counts in redis-server (127.0.0.1:6380, persistence off) and
#                    follows the control-plane's tiers live.
set -euo pipefail
cd "$(dirname "$0")/.."

RATELIMIT="${RATELIMIT:-local}"
case "$RATELIMIT" in
  local) ENVOY_CONFIG=envoy/envoy.yaml ;;
  redis) ENVOY_CONFIG=envoy/envoy-redis.yaml ;;
  *) echo "RATELIMIT=$RATELIMIT: expected local or redis" >&2; exit 2 ;;
esac

PY=.venv/bin/python3
ENVOY=.venv/bin/envoy
PORTCULLIS=target/release/portcullis
LOG_DIR=.run
mkdir -p "$LOG_DIR"

new_token() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(42))'; }
export PORTCULLIS_LOCAL_ADMIN_TOKEN="${PORTCULLIS_LOCAL_ADMIN_TOKEN:-$(new_token)}"
export PORTCULLIS_SERVICE_TOKEN="${PORTCULLIS_SERVICE_TOKEN:-$(new_token)}"
export PORTCULLIS_ADMIN_TOKEN="${PORTCULLIS_ADMIN_TOKEN:-$(new_token)}"
export PORTCULLIS_SYNC_TOKEN="${PORTCULLIS_SYNC_TOKEN:-$(new_token)}"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'echo; echo "stopping"; exit 0' INT TERM

wait_ready() { # name url pid log
  local deadline=$((SECONDS + 30))
  until curl -fsS -o /dev/null "$2" 2>/dev/null; do
    if ! kill -0 "$3" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "$1 did not become ready; its log ($4):" >&2
      tail -n 40 "$4" >&2
      exit 1
    fi
    sleep 0.2
  done
}

"$PORTCULLIS" serve --listen 127.0.0.1:8080 --db "$LOG_DIR/portcullis.db" \
  >"$LOG_DIR/control-plane.log" 2>&1 &
control_plane_pid=$!
pids+=("$control_plane_pid")
wait_ready "The control-plane" http://127.0.0.1:8080/readyz "$control_plane_pid" "$LOG_DIR/control-plane.log"

if [ "$RATELIMIT" = redis ]; then
  if ! command -v redis-server >/dev/null; then
    echo "RATELIMIT=redis needs redis-server: run \`make setup\` (Debian package redis-server)" >&2
    exit 1
  fi
  redis-server --port 6380 --bind 127.0.0.1 --save "" --appendonly no --dir "$LOG_DIR" \
    >"$LOG_DIR/redis.log" 2>&1 &
  pids+=($!)
  "$PORTCULLIS" ratelimit serve --control-plane http://127.0.0.1:8080 \
    --redis redis://127.0.0.1:6380 --grpc-listen 127.0.0.1:8082 --http-listen 127.0.0.1:8083 \
    --response-headers retry-after >"$LOG_DIR/ratelimit.log" 2>&1 &
  ratelimit_pid=$!
  pids+=("$ratelimit_pid")
  # Ready once it has the control-plane's configuration and Redis answers.
  wait_ready "The rate-limit service" http://127.0.0.1:8083/readyz "$ratelimit_pid" "$LOG_DIR/ratelimit.log"
fi

"$PY" demo/upstream.py --port 8081 2>"$LOG_DIR/upstream.log" &
pids+=($!)
"$ENVOY" -c "$ENVOY_CONFIG" --concurrency 2 --log-level info --file-flush-interval-msec 500 \
  >"$LOG_DIR/access.log" 2>"$LOG_DIR/envoy.log" &
envoy_pid=$!
pids+=("$envoy_pid")

wait_ready "Envoy" http://127.0.0.1:9901/ready "$envoy_pid" "$LOG_DIR/envoy.log"

extra_logs=""
if [ "$RATELIMIT" = redis ]; then
  extra_logs=", ratelimit.log, redis.log"
  limits="Rate limits are global: Envoy asks the rate-limit service (127.0.0.1:8082), which
counts in Redis (127.0.0.1:6380) and follows the control-plane's tiers live."
else
  limits="Rate limits are local to this Envoy (the default tiers, in $ENVOY_CONFIG);
\`make run RATELIMIT=redis\` runs them through the rate-limit service and Redis instead."
fi

cat <<EOF

Portcullis is running: Envoy on http://127.0.0.1:10000 (admin http://127.0.0.1:9901) in
front of the demo upstream, which echoes the headers it receives; the control-plane on
http://127.0.0.1:8080 pushes API keys to Envoy.
$limits

In another shell:
  export PORTCULLIS_ADMIN_TOKEN=$PORTCULLIS_ADMIN_TOKEN
  export PORTCULLIS_LOCAL_ADMIN_TOKEN=$PORTCULLIS_LOCAL_ADMIN_TOKEN
  export PORTCULLIS_SERVICE_TOKEN=$PORTCULLIS_SERVICE_TOKEN

  curl -i http://127.0.0.1:10000/health                   # 200: public
  curl -i http://127.0.0.1:10000/api/hello                # 401 missing_credentials

  # An API key, created on the control-plane (its secret is printed once):
  $PORTCULLIS keys create --name demo --org-id acme --scope reports:read
  export KEY=sk_...                                        # the secret printed above
  curl -i http://127.0.0.1:10000/reports/q3 -H "Authorization: Bearer \$KEY"
                                                           # 200: x-auth-key-id, x-auth-org in the echo
  $PORTCULLIS keys revoke key_...                          # the id printed above
  curl -i http://127.0.0.1:10000/reports/q3 -H "Authorization: Bearer \$KEY"
                                                           # 401 revoked_credentials
  $PORTCULLIS keys list                                    # prefixes and status, never secrets

  # Static tokens (a local admin, and a system_admin service token for CI):
  curl -i http://127.0.0.1:10000/api/hello -H "Authorization: Bearer \$PORTCULLIS_LOCAL_ADMIN_TOKEN"
  curl -i http://127.0.0.1:10000/admin/stats -H "X-API-Key: \$PORTCULLIS_LOCAL_ADMIN_TOKEN"
                                                           # 403 forbidden: needs system_admin
  curl -i http://127.0.0.1:10000/admin/stats -H "X-API-Key: \$PORTCULLIS_SERVICE_TOKEN"
                                                           # 200 as system_admin
  curl -s http://127.0.0.1:9901/stats | grep portcullis   # allowed / denied.<code> counters

  # Rate limits: 60/minute per client address on /auth/, counted before authentication,
  # then 120/minute per key and 300/minute per org (the default tier).
  for i in \$(seq 61); do curl -s -o /dev/null -w '%{http_code} ' http://127.0.0.1:10000/auth/login; done; echo
                                                           # 401 sixty times, then 429
  curl -i http://127.0.0.1:10000/auth/login               # 429 rate_limited, retry-after, x-ratelimit-*
  $PORTCULLIS keys update key_... --rate-limit 2/minute   # this key's own limit
  $PORTCULLIS ratelimit export --format local             # the limits as local_ratelimit filters

Logs: $LOG_DIR/ (access.log, envoy.log, control-plane.log$extra_logs). Ctrl-C stops everything.
EOF

wait "$envoy_pid"
