# Portcullis: every entry point a user or contributor runs. Each one sets up first, so a
# fresh machine needs nothing but `make run` or `make test`.
SHELL := /bin/bash
VENV  := .venv
ENVOY := $(VENV)/bin/envoy
WASM  := target/wasm32-wasip1/release/portcullis.wasm

.PHONY: setup wasm run test unit e2e lint bench bench-scale clean

setup:
	@scripts/setup.sh

wasm: setup
	@scripts/build-wasm.sh

## The control-plane on :8080 (SQLite), Envoy with the filter on 127.0.0.1:10000
## (admin :9901) in front of the demo upstream. Rate limits in Envoy alone by default;
## RATELIMIT=redis runs them through `portcullis ratelimit serve` and redis-server.
RATELIMIT ?= local
run: wasm
	cargo build --release -p portcullis-control-plane
	@RATELIMIT=$(RATELIMIT) scripts/run.sh

## Lint, unit tests, then end-to-end tests against a real Envoy with the release .wasm.
test: lint unit e2e

unit: setup
	cargo test --workspace --exclude portcullis-e2e

e2e: wasm
	cargo build -p portcullis-control-plane
	cargo test -p portcullis-e2e --tests -- --test-threads 2

lint: wasm
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p portcullis-filter -p passthrough --target wasm32-wasip1 --all-targets -- -D warnings
	@# Validation loads the .wasm and runs its configuration check, so the tokens the
	@# shipped configurations read must be set (to placeholders).
	@for f in envoy/*.yaml; do \
	  echo "envoy --mode validate $$f"; \
	  PORTCULLIS_LOCAL_ADMIN_TOKEN=validate-local-admin-0123456789abcdefghijklmnopqrstuvwxyz \
	  PORTCULLIS_SERVICE_TOKEN=validate-service-0123456789abcdefghijklmnopqrstuvwxyz \
	  PORTCULLIS_SYNC_TOKEN=validate-sync-0123456789abcdefghijklmnopqrstuvwxyz \
	    $(ENVOY) --mode validate -c $$f --log-level warn >/dev/null || exit 1; \
	done

## Side-by-side throughput and Envoy CPU per request, revocation and key-creation
## latency; JSON under target/bench/.
bench: wasm
	cargo build --release -p portcullis-control-plane --bin portcullis --example ratelimit_bench
	$(VENV)/bin/python3 bench/run.py

## Opt-in, minutes long: 1,000,000 keys (KEYS=…): full-sync time, Envoy RSS, flat
## per-request cost and churn; JSON under target/bench/.
KEYS ?= 1000000
bench-scale: wasm
	cargo build --release -p portcullis-control-plane
	$(VENV)/bin/python3 bench/scale.py --keys $(KEYS)

clean:
	cargo clean
