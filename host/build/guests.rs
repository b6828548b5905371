//! Building guest crates for `wasm32-unknown-unknown` and encoding them as
//! components: shared by `host/build.rs` (the components that ship) and
//! `host-test/build.rs` (the guests only the tests load), through `#[path]`.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "wasm32-unknown-unknown";

/// Release, tuned for size (see the workspace's Cargo.toml).
pub const PROFILE: &str = "component";

/// The workspace root, seen from a member crate's build script.
pub fn workspace_root() -> Result<PathBuf> {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    Ok(manifest_dir
        .parent()
        .context("a member crate has a parent")?
        .to_owned())
}

/// `target/component`: a target directory of its own, since the outer cargo
/// holds a lock on its own.
pub fn component_dir(root: &Path) -> PathBuf {
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("component")
}

/// Builds `packages` with the component profile, then encodes each core
/// module as a component next to it; returns the components' paths.
pub fn build(root: &Path, target_dir: &Path, packages: &[(&str, &str)]) -> Result<Vec<PathBuf>> {
    build_variant(root, target_dir, packages, &[], "")
}

/// [`build`] with cargo's `--features` (`package/feature`), naming each
/// component `{module}{suffix}.component.wasm`: a module built with other
/// features keeps the plain build's component intact.
pub fn build_variant(
    root: &Path,
    target_dir: &Path,
    packages: &[(&str, &str)],
    features: &[&str],
    suffix: &str,
) -> Result<Vec<PathBuf>> {
    ensure_wasm_target()?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root)
        .args(["build", "--profile", PROFILE, "--target", TARGET])
        .args(
            packages
                .iter()
                .flat_map(|(package, _)| ["--package", package]),
        )
        .args(features.iter().flat_map(|feature| ["--features", feature]))
        .env("CARGO_TARGET_DIR", target_dir)
        // Flags meant for the host (target-cpu=native, clippy's wrapper) do not apply to wasm.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .status()
        .context("running cargo to build the guests")?;
    if !status.success() {
        bail!("building the guests for {TARGET} failed");
    }
    packages
        .iter()
        .map(|(_, module)| encode(target_dir, module, suffix))
        .collect()
}

/// Encodes a guest's core module as a component, next to the module.
fn encode(target_dir: &Path, module: &str, suffix: &str) -> Result<PathBuf> {
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
    let component_path = target_dir.join(format!("{module}{suffix}.component.wasm"));
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
