//! Builds the connector for `wasm32-unknown-unknown` and encodes it as a
//! component, so that `cargo run`/`cargo test` on this crate need nothing else.
//! As wasmtime's `crates/test-programs/artifacts/build.rs` does for its guests.
//!
//! It also builds the wasi:http adapter (`adapters/wasi-http`) the same way and
//! plugs it into the connector, as `wac plug` does, with the `wac-graph` crate
//! that `wac` itself uses: the result runs on any wasi:http platform.
//!
//! The components are always built with the `component` profile (release,
//! tuned for size): they are what ships, and what the size test and
//! benchmarks must see.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use wac_graph::{CompositionGraph, EncodeOptions, types::Package};

const TARGET: &str = "wasm32-unknown-unknown";

/// Release, tuned for size (see the workspace's Cargo.toml).
const PROFILE: &str = "component";

/// Each guest: its package, its core module, and the variable that tells the
/// host crate where its component is.
const GUESTS: &[(&str, &str, &str)] = &[
    ("mde-connector", "mde_connector", "MDE_CONNECTOR_COMPONENT"),
    (
        "mde-wasi-http-adapter",
        "mde_wasi_http_adapter",
        "MDE_WASI_HTTP_ADAPTER_COMPONENT",
    ),
    // Only for the sandbox tests; never shipped.
    (
        "misbehaving-guest",
        "misbehaving_guest",
        "MISBEHAVING_GUEST_COMPONENT",
    ),
];

fn main() -> Result<()> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest_dir.parent().context("host-test has a parent")?;
    for input in [
        "src",
        "wit",
        "adapters",
        "Cargo.toml",
        "Cargo.lock",
        "host-test/guests",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    // A target directory of its own: the outer cargo holds a lock on its own.
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("component");
    ensure_wasm_target()?;

    cargo_build(
        root,
        &target_dir,
        GUESTS.iter().map(|(package, _, _)| *package),
    )?;
    for (_, module, variable) in GUESTS {
        let component = encode(&target_dir, module)?;
        println!("cargo:rustc-env={variable}={}", component.display());
    }

    let read = |module: &str| std::fs::read(target_dir.join(format!("{module}.component.wasm")));
    let composed = plug(&read("mde_wasi_http_adapter")?, &read("mde_connector")?)
        .context("plugging the adapter into the connector")?;
    let composed_path = target_dir.join("mde_connector_wasi_http.component.wasm");
    std::fs::write(&composed_path, composed)?;
    println!(
        "cargo:rustc-env=MDE_CONNECTOR_WASI_HTTP_COMPONENT={}",
        composed_path.display()
    );
    build_stock_runtime_components(root, &target_dir)?;
    Ok(())
}

/// Builds `packages` for the wasm target, in one cargo run.
fn cargo_build<'a>(
    root: &Path,
    target_dir: &Path,
    packages: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--profile", PROFILE, "--target", TARGET])
        .args(
            packages
                .into_iter()
                .flat_map(|package| ["--package", package]),
        )
        .env("CARGO_TARGET_DIR", target_dir)
        // Flags meant for the host (target-cpu=native, clippy's wrapper) do not apply to wasm.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .context("running cargo to build the component")?;
    if !status.success() {
        bail!("building the guests for {TARGET} failed");
    }
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
    cargo_build(
        root,
        target_dir,
        STOCK_RUNTIME_GUESTS.iter().map(|(package, _)| *package),
    )?;
    for (_, module) in STOCK_RUNTIME_GUESTS {
        encode(target_dir, module)?;
    }
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
            &read("mde_wasi_http_adapter")?,
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
/// and settings-from-env (`settings`, `log`), and its exports (`lookup`,
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
    const HTTP: &str = "mde:connector/http@0.2.0";
    const SETTINGS: &str = "mde:connector/settings@0.2.0";
    const LOG: &str = "mde:connector/log@0.2.0";
    const EVENTS: &str = "mde:connector/events@0.2.0";
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
        (connector, "lookup", router),
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

/// Encodes a guest's core module as a component, next to the module.
fn encode(target_dir: &Path, module: &str) -> Result<PathBuf> {
    let module_path = target_dir
        .join(TARGET)
        .join(PROFILE)
        .join(format!("{module}.wasm"));
    let bytes = std::fs::read(&module_path)
        .with_context(|| format!("reading {}", module_path.display()))?;
    let component = wit_component::ComponentEncoder::default()
        .module(&bytes)?
        .validate(true)
        .encode()
        .context("encoding the component")?;
    // In the target directory, for `wasm-tools component wit` and other hosts.
    let component_path = target_dir.join(format!("{module}.component.wasm"));
    std::fs::write(&component_path, &component)?;
    Ok(component_path)
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
