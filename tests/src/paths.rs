//! Where the artefacts under test live: the repository root, the Envoy binary from the
//! project's virtual environment, its Python and the release `.wasm`.

use std::path::{Path, PathBuf};

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent directory")
        .to_path_buf()
}

/// The Envoy 1.40 binary `make setup` installs into `.venv`.
pub fn envoy_binary() -> PathBuf {
    existing(
        repo_root().join(".venv/bin/envoy"),
        "Envoy binary",
        "run `make setup` to install Envoy 1.40 into .venv",
    )
}

/// The Python interpreter of the project's virtual environment (runs the demo upstream).
pub fn python() -> PathBuf {
    existing(
        repo_root().join(".venv/bin/python3"),
        "Python interpreter",
        "run `make setup` to create .venv",
    )
}

/// The demo upstream script.
pub fn demo_upstream_script() -> PathBuf {
    existing(
        repo_root().join("demo/upstream.py"),
        "demo upstream",
        "demo/upstream.py belongs to the repository",
    )
}

/// The release build of the filter, the artefact these tests exist for.
pub fn filter_wasm() -> PathBuf {
    existing(
        repo_root().join("target/wasm32-wasip1/release/portcullis.wasm"),
        "release filter",
        "run `make wasm` to build it (the tests never build it themselves)",
    )
}

/// The control-plane binary, built by `make e2e` before the tests run.
pub fn control_plane_binary() -> PathBuf {
    existing(
        repo_root().join("target/debug/portcullis"),
        "control-plane binary",
        "run `cargo build -p portcullis-control-plane` (make e2e does)",
    )
}

/// The bundled Envoy configuration for `make run`.
pub fn shipped_envoy_config() -> PathBuf {
    existing(
        repo_root().join("envoy/envoy.yaml"),
        "shipped Envoy configuration",
        "envoy/envoy.yaml belongs to the repository",
    )
}

fn existing(path: PathBuf, what: &str, remedy: &str) -> PathBuf {
    assert!(
        path.exists(),
        "{what} not found at {}: {remedy}",
        path.display()
    );
    path
}
