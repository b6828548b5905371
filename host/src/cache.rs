//! The compiled-component cache: compiling takes about 100 ms, loading a
//! compiled artifact about 1 ms.

use anyhow::{Context, Result};
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Compiles `bytes`, or loads the result of an earlier compilation from
/// `cache_dir`. Entries are keyed by the engine's compatibility hash and the
/// component, and a copy of the component is kept beside each to rule out
/// a hash collision.
pub fn load(engine: &Engine, bytes: &[u8], cache_dir: Option<&Path>) -> Result<Component> {
    let compile = || {
        Component::new(engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compiling the component")
    };
    let Some(dir) = cache_dir else {
        return compile();
    };
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    bytes.hash(&mut hasher);
    let key = format!("{:016x}", hasher.finish());
    let (source, artifact) = (
        dir.join(format!("{key}.wasm")),
        dir.join(format!("{key}.cwasm")),
    );
    if std::fs::read(&source).is_ok_and(|cached| cached == bytes)
        && let Ok(compiled) = std::fs::read(&artifact)
    {
        // Read, not mapped: a file changed under a mapping would crash the host.
        // SAFETY: the artifact was written by `serialize` below for this
        // engine configuration (the key covers it), into a directory only
        // this user can write; wasmtime checks its header before use.
        if let Ok(component) = unsafe { Component::deserialize(engine, &compiled) } {
            return Ok(component);
        }
    }
    let component = compile()?;
    // A cache that cannot be written only costs the next run a compilation.
    let _ = store_in_cache(dir, &source, bytes, &artifact, &component.serialize()?);
    Ok(component)
}

fn store_in_cache(
    dir: &Path,
    source: &Path,
    bytes: &[u8],
    artifact: &Path,
    compiled: &[u8],
) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    static WRITER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    for (path, contents) in [(artifact, compiled), (source, bytes)] {
        let writer = WRITER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let partial = path.with_extension(format!("partial-{}-{writer}", std::process::id()));
        std::fs::write(&partial, contents)?;
        std::fs::rename(&partial, path)?;
    }
    Ok(())
}
