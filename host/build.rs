//! Builds the connector and the wasi:http adapter for `wasm32-unknown-unknown`
//! and encodes them as components, so that `cargo build` needs nothing else.
//! As wasmtime's `crates/test-programs/artifacts/build.rs` does for its guests.
//!
//! It also plugs the adapter into the connector, as `wac plug` does, with the
//! `wac-graph` crate that `wac` itself uses: the result runs on any wasi:http
//! platform.
//!
//! The components are always built with the `component` profile (release,
//! tuned for size): they are what ships, and what the size test and
//! benchmarks must see. They land in `target/component/`.

#[path = "build/guests.rs"]
mod guests;

use anyhow::{Context, Result};
use wac_graph::{CompositionGraph, EncodeOptions, types::Package};

/// Each shipped guest: its package, and its core module's name.
const GUESTS: &[(&str, &str)] = &[
    ("mde-connector", "mde_connector"),
    ("mde-wasi-http-adapter", "mde_wasi_http_adapter"),
];

fn main() -> Result<()> {
    let root = guests::workspace_root()?;
    for input in [
        "src",
        "wit",
        "adapters",
        "Cargo.toml",
        "Cargo.lock",
        "host/build",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    let target_dir = guests::component_dir(&root);
    let built = guests::build(&root, &target_dir, GUESTS)?;
    let (connector, adapter) = (&built[0], &built[1]);
    println!(
        "cargo:rustc-env=MDE_CONNECTOR_COMPONENT={}",
        connector.display()
    );

    let composed = plug(&std::fs::read(adapter)?, &std::fs::read(connector)?)
        .context("plugging the adapter into the connector")?;
    let composed_path = target_dir.join("mde_connector_wasi_http.component.wasm");
    std::fs::write(&composed_path, composed)?;
    println!(
        "cargo:rustc-env=MDE_CONNECTOR_WASI_HTTP_COMPONENT={}",
        composed_path.display()
    );
    Ok(())
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
