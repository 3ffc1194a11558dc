#!/usr/bin/env bash
# `make run`: the control-plane on 127.0.0.1:8080 (SQLite in .run/portcullis.db), the demo
# upstream on 127.0.0.1:8081 and Envoy with the Portcullis filter and syncer on
# 127.0.0.1:10000 (admin 127.0.0.1:9901), configured by envoy/envoy.yaml. Generates every
# token that is not set, prints commands to try, and stops everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

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
  2>"$LOG_DIR/control-plane.log" &
control_plane_pid=$!
pids+=("$control_plane_pid")
wait_ready "The control-plane" http://127.0.0.1:8080/readyz "$control_plane_pid" "$LOG_DIR/control-plane.log"

"$PY" demo/upstream.py --port 8081 2>"$LOG_DIR/upstream.log" &
pids+=($!)
"$ENVOY" -c envoy/envoy.yaml --concurrency 2 --log-level info --file-flush-interval-msec 500 \
  >"$LOG_DIR/access.log" 2>"$LOG_DIR/envoy.log" &
envoy_pid=$!
pids+=("$envoy_pid")

wait_ready "Envoy" http://127.0.0.1:9901/ready "$envoy_pid" "$LOG_DIR/envoy.log"

cat <<EOF

Portcullis is running: Envoy on http://127.0.0.1:10000 (admin http://127.0.0.1:9901) in
front of the demo upstream, which echoes the headers it receives; the control-plane on
http://127.0.0.1:8080 pushes API keys to Envoy.

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

Logs: $LOG_DIR/ (access.log, envoy.log, control-plane.log). Ctrl-C stops everything.
EOF

wait "$envoy_pid"
