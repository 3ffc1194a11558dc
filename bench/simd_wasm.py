"""A second build of the filter with Wasm `simd128` enabled, in a target directory of its
own, for the bench rows that ask whether shipping that build pays.

The default build (`scripts/build-wasm.sh`) is left alone. Envoy's V8 accepts `simd128`
modules as they are; the dedicated RSA verifier's column sums vectorise with it, while LLVM
may also vectorise other loops into slower code, which is why the bench measures both.
Like the default build, it uses rustup's wasm32-wasip1 target when installed and Debian's
rustc-web (building std) otherwise.
"""

import os
import subprocess
from pathlib import Path

from envoy import BenchError

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_DIR = REPO_ROOT / "target" / "simd"
WASM_DIR = TARGET_DIR / "wasm32-wasip1" / "release"
FLAG = "-C target-feature=+simd128"


def _has_rustup_target() -> bool:
    try:
        installed = subprocess.run(["rustup", "target", "list", "--installed"],
                                   capture_output=True, text=True, timeout=60).stdout
    except OSError:
        return False
    return "wasm32-wasip1" in installed.split()


def build() -> Path:
    """Build (incrementally) the filter with `+simd128` into `target/simd`; return its
    directory of .wasm files."""
    env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET_DIR),
               RUSTFLAGS=" ".join(filter(None, (os.environ.get("RUSTFLAGS"), FLAG))))
    args = ["cargo", "build", "--release", "--target", "wasm32-wasip1", "-p",
            "portcullis-filter"]
    if not _has_rustup_target():
        env.update(RUSTC="/usr/bin/rustc", RUSTC_BOOTSTRAP="1")
        args = ["/usr/bin/cargo", *args[1:], "-Zbuild-std=std,panic_abort"]
    print(f"  building the filter with RUSTFLAGS=\"{FLAG}\" into "
          f"{TARGET_DIR.relative_to(REPO_ROOT)} (incremental)", flush=True)
    done = subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BenchError(f"the simd128 build failed (status {done.returncode}):\n"
                         f"{done.stderr.strip()[-4000:]}")
    return WASM_DIR
