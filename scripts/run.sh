#!/usr/bin/env bash
# `make run`: the demo upstream on 127.0.0.1:8081 and Envoy with the Portcullis filter on
# 127.0.0.1:10000 (admin 127.0.0.1:9901), configured by envoy/envoy.yaml. Generates the
# local admin and service tokens unless they are set, prints curl commands, and stops
# everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python3
ENVOY=.venv/bin/envoy
LOG_DIR=.run
mkdir -p "$LOG_DIR"

new_token() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(42))'; }
export PORTCULLIS_LOCAL_ADMIN_TOKEN="${PORTCULLIS_LOCAL_ADMIN_TOKEN:-$(new_token)}"
export PORTCULLIS_SERVICE_TOKEN="${PORTCULLIS_SERVICE_TOKEN:-$(new_token)}"

pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'echo; echo "stopping"; exit 0' INT TERM

"$PY" demo/upstream.py --port 8081 2>"$LOG_DIR/upstream.log" &
pids+=($!)
"$ENVOY" -c envoy/envoy.yaml --concurrency 2 --log-level info --file-flush-interval-msec 500 \
  >"$LOG_DIR/access.log" 2>"$LOG_DIR/envoy.log" &
envoy_pid=$!
pids+=("$envoy_pid")

deadline=$((SECONDS + 30))
until curl -fsS -o /dev/null http://127.0.0.1:9901/ready 2>/dev/null; do
  if ! kill -0 "$envoy_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
    echo "Envoy did not become ready; its log ($LOG_DIR/envoy.log):" >&2
    tail -n 40 "$LOG_DIR/envoy.log" >&2
    exit 1
  fi
  sleep 0.2
done

cat <<EOF

Portcullis is running: Envoy on http://127.0.0.1:10000 (admin http://127.0.0.1:9901)
in front of the demo upstream, which echoes the headers it receives.

  local admin token:  export PORTCULLIS_LOCAL_ADMIN_TOKEN=$PORTCULLIS_LOCAL_ADMIN_TOKEN
  service token:      export PORTCULLIS_SERVICE_TOKEN=$PORTCULLIS_SERVICE_TOKEN

Try:
  curl -i http://127.0.0.1:10000/health                     # 200: public
  curl -i http://127.0.0.1:10000/api/hello                  # 401 missing_credentials
  curl -i http://127.0.0.1:10000/api/hello -H 'Authorization: Bearer wrong'   # 401 invalid_credentials
  curl -i http://127.0.0.1:10000/api/hello -H "Authorization: Bearer $PORTCULLIS_LOCAL_ADMIN_TOKEN"
                                                            # 200: see x-auth-* in the echo
  curl -i http://127.0.0.1:10000/admin/stats -H "X-API-Key: $PORTCULLIS_LOCAL_ADMIN_TOKEN"
                                                            # 403 forbidden: needs system_admin
  curl -i http://127.0.0.1:10000/admin/stats -H "X-API-Key: $PORTCULLIS_SERVICE_TOKEN"
                                                            # 200 as system_admin
  curl -s http://127.0.0.1:9901/stats | grep portcullis     # allowed / denied.<code> counters

Access log: $LOG_DIR/access.log   Envoy log: $LOG_DIR/envoy.log   Ctrl-C stops everything.
EOF

wait "$envoy_pid"
