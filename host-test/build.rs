//! Builds the connector for `wasm32-unknown-unknown` and encodes it as a
//! component, so that `cargo run`/`cargo test` on this crate need nothing else.
//! As wasmtime's `crates/test-programs/artifacts/build.rs` does for its guests.
//!
//! It also builds the wasi:http adapter (`adapters/wasi-http`) the same way and
//! plugs it into the connector, as `wac plug` does, with the `wac-graph` crate
//! that `wac` itself uses: the result runs on any wasi:http platform.
//!
//! The components are always built with the release profile: they are what
//! ships, and what the size test and benchmarks must see.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use wac_graph::{CompositionGraph, EncodeOptions, types::Package};

const TARGET: &str = "wasm32-unknown-unknown";

fn main() -> Result<()> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest_dir.parent().context("host-test has a parent")?;
    for input in ["src", "wit", "adapters", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    // A target directory of its own: the outer cargo holds a lock on its own.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("component");
    ensure_wasm_target()?;

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "--package",
            "mde-connector",
            "--package",
            "mde-wasi-http-adapter",
            "--target",
            TARGET,
        ])
        .env("CARGO_TARGET_DIR", &target_dir)
        // Flags meant for the host (target-cpu=native, clippy's wrapper) do not apply to wasm.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .context("running cargo to build the component")?;
    if !status.success() {
        bail!("building mde-connector and its wasi:http adapter for {TARGET} failed");
    }

    // Next to the core modules, for `wasm-tools component wit` and other hosts.
    let connector = encode(&target_dir, "mde_connector")?;
    println!(
        "cargo:rustc-env=MDE_CONNECTOR_COMPONENT={}",
        target_dir.join("mde_connector.component.wasm").display()
    );
    let adapter = encode(&target_dir, "mde_wasi_http_adapter")?;
    let composed = plug(&adapter, &connector).context("plugging the adapter into the connector")?;
    let composed_path = target_dir.join("mde_connector_wasi_http.component.wasm");
    std::fs::write(&composed_path, composed)?;
    println!(
        "cargo:rustc-env=MDE_CONNECTOR_WASI_HTTP_COMPONENT={}",
        composed_path.display()
    );
    Ok(())
}

/// Encodes `target_dir/.../release/{name}.wasm` as `target_dir/{name}.component.wasm`.
fn encode(target_dir: &Path, name: &str) -> Result<Vec<u8>> {
    let module_path = target_dir.join(TARGET).join(format!("release/{name}.wasm"));
    let module = std::fs::read(&module_path)
        .with_context(|| format!("reading {}", module_path.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
        .with_context(|| format!("encoding {name} as a component"))?;
    std::fs::write(
        target_dir.join(format!("{name}.component.wasm")),
        &component,
    )?;
    Ok(component)
}

/// `wac plug --plug adapter.wasm connector.wasm`: the adapter's exports
/// satisfy the connector's imports of the same name (here `mde:connector/http`),
/// and the result exports what the connector exports.
fn plug(adapter: &[u8], connector: &[u8]) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let socket = Package::from_bytes("socket", None, connector.to_vec(), graph.types_mut())?;
    let socket = graph.register_package(socket)?;
    let adapter = Package::from_bytes("plug", None, adapter.to_vec(), graph.types_mut())?;
    let adapter = graph.register_package(adapter)?;
    wac_graph::plug(&mut graph, vec![adapter], socket)?;
    Ok(graph.encode(EncodeOptions::default())?)
}

/// A fresh machine has rustup and cargo but not the wasm target: add it.
fn ensure_wasm_target() -> Result<()> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .context("asking rustc for its sysroot")?;
    let sysroot = String::from_utf8(sysroot.stdout)?;
    if Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(TARGET)
        .exists()
    {
        return Ok(());
    }
    println!("cargo:warning=installing the {TARGET} target with rustup");
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status()
        .context("the wasm target is missing and rustup could not be run; run `rustup target add wasm32-unknown-unknown`")?;
    if !status.success() {
        bail!("`rustup target add {TARGET}` failed");
    }
    Ok(())
}
