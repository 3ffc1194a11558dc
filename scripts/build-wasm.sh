#!/usr/bin/env bash
# Builds the release .wasm files (the filter, and the pass-through filter `make bench` uses
# as the proxy-wasm floor). Uses rustup's wasm32-wasip1 target when it is installed, else
# Debian's rustc-web, which has no prebuilt std for the target and builds it from source.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(-p portcullis-filter -p passthrough)
if rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip1; then
  exec cargo build --release --target wasm32-wasip1 "${packages[@]}"
fi
echo "build-wasm: no rustup wasm32-wasip1 target; building std with Debian's rustc-web" >&2
exec env RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
  /usr/bin/cargo build --release --target wasm32-wasip1 -Zbuild-std=std,panic_abort "${packages[@]}"
