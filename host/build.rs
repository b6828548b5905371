//! Builds the connector and the wasi:http adapter for `wasm32-unknown-unknown`
//! and encodes them as components, so that `cargo build` needs nothing else.
//! As wasmtime's `crates/test-programs/artifacts/build.rs` does for its guests.
//!
//! It also plugs the adapter into the connector, as `wac plug` does, with the
//! `wac-graph` crate that `wac` itself uses: the result runs on any wasi:http
//! platform. And it composes the two artifacts for stock runtimes: a
//! `wasi:http/proxy` service for `wasmtime serve` and a `wasi:cli/command`
//! for `wasmtime run` (see `docs/deploy.md`).
//!
//! The components are always built with the `component` profile (release,
//! tuned for size): they are what ships, and what the size test and
//! benchmarks must see. They land in `target/component/`.

#[path = "build/guests.rs"]
mod guests;

use anyhow::{Context, Result};
use std::path::Path;
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
    build_stock_runtime_components(&root, &target_dir)?;
    Ok(())
}

// ---- Components for stock runtimes (`wasmtime serve`, `wasmtime run`) ----

/// The glue that makes the connector a `wasi:http/proxy` service and a
/// `wasi:cli/command` (see `adapters/wit/adapters.wit`). They use the
/// connector's core as a library with its `component` feature off, so they
/// are built in a cargo run of their own: within one run cargo would unify
/// the feature on, and they would export the connector's functions.
const STOCK_RUNTIME_GUESTS: &[(&str, &str)] = &[
    ("mde-settings-from-env", "mde_settings_from_env"),
    ("mde-proxy", "mde_proxy"),
    ("mde-command", "mde_command"),
];

/// Builds the glue and composes the two artifacts, each exposed to the host
/// crate as a variable: `MDE_CONNECTOR_PROXY_COMPONENT` (exports
/// `wasi:http/incoming-handler`) and `MDE_CONNECTOR_COMMAND_COMPONENT`
/// (exports `wasi:cli/run`).
fn build_stock_runtime_components(root: &Path, target_dir: &Path) -> Result<()> {
    guests::build(root, target_dir, STOCK_RUNTIME_GUESTS)?;
    // The wasi:http adapter again, with `MDE_TIMEOUT` on every request: that
    // imports `wasi:cli/environment`, which these compositions provide and
    // the plain plug must not need.
    let adapter = guests::build_variant(
        root,
        target_dir,
        &[("mde-wasi-http-adapter", "mde_wasi_http_adapter")],
        &["mde-wasi-http-adapter/from-environment"],
        "_from_environment",
    )?
    .remove(0);
    let read = |module: &str| std::fs::read(target_dir.join(format!("{module}.component.wasm")));
    for (router, export, artifact, variable) in [
        (
            "mde_proxy",
            "wasi:http/incoming-handler@0.2.12",
            "mde_connector_proxy",
            "MDE_CONNECTOR_PROXY_COMPONENT",
        ),
        (
            "mde_command",
            "wasi:cli/run@0.2.12",
            "mde_connector_command",
            "MDE_CONNECTOR_COMMAND_COMPONENT",
        ),
    ] {
        let composed = compose_with_router(
            &read("mde_connector")?,
            &std::fs::read(&adapter)?,
            &read("mde_settings_from_env")?,
            &read(router)?,
            export,
        )
        .with_context(|| format!("composing {artifact}"))?;
        let path = target_dir.join(format!("{artifact}.component.wasm"));
        std::fs::write(&path, composed)?;
        println!("cargo:rustc-env={variable}={}", path.display());
    }
    Ok(())
}

/// The connector with its imports satisfied by the wasi:http adapter (`http`)
/// and settings-from-env (`settings`, `log`), and its exports (`lookup-texts`,
/// `events`) wired into the router, which also gets settings-from-env's
/// `environment-settings`. The result exports the router's `export` only;
/// what no component provides (wasi:http, wasi:cli, wasi:io, the wall clock,
/// the type-only `mde:connector/types`) it imports.
fn compose_with_router(
    connector: &[u8],
    adapter: &[u8],
    settings: &[u8],
    router: &[u8],
    export: &str,
) -> Result<Vec<u8>> {
    const HTTP: &str = "mde:connector/http@0.4.0";
    const SETTINGS: &str = "mde:connector/settings@0.4.0";
    const LOG: &str = "mde:connector/log@0.4.0";
    const EVENTS: &str = "mde:connector/events@0.4.0";
    const ENVIRONMENT_SETTINGS: &str = "mde:adapters/environment-settings@0.1.0";
    let mut graph = CompositionGraph::new();
    let mut instantiate = |name: &str, bytes: &[u8]| -> Result<_> {
        let package = Package::from_bytes(name, None, bytes.to_vec(), graph.types_mut())?;
        let package = graph.register_package(package)?;
        Ok(graph.instantiate(package))
    };
    let settings = instantiate("mde:settings-from-env", settings)?;
    let adapter = instantiate("mde:wasi-http-adapter", adapter)?;
    let connector = instantiate("mde:connector", connector)?;
    let router = instantiate("mde:router", router)?;
    for (from, name, to) in [
        (adapter, HTTP, connector),
        (settings, SETTINGS, connector),
        (settings, LOG, connector),
        (connector, "lookup-texts", router),
        (connector, "lookup-query-texts", router),
        (connector, "domain-stats", router),
        (connector, "ip-stats", router),
        (connector, EVENTS, router),
        (settings, ENVIRONMENT_SETTINGS, router),
    ] {
        let item = graph.alias_instance_export(from, name)?;
        graph.set_instantiation_argument(to, name, item)?;
    }
    let exported = graph.alias_instance_export(router, export)?;
    graph.export(exported, export)?;
    Ok(graph.encode(EncodeOptions::default())?)
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
