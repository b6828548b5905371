//! The compiled-component cache: compiling takes about 100 ms, loading a
//! compiled artifact about 1 ms.
//!
//! A compiled artifact is native code the host runs, so the cache is
//! trusted the way ssh trusts a private key: the directory and each file in
//! it must belong to the current user (or root) and be writable by no one
//! else, or the cache is not used at all (the caller is told why, and the
//! component is compiled). Each artifact is also checked against the
//! SHA-256 digest recorded beside it when it was written, before it is
//! deserialised; one that does not match is compiled again and replaced.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

/// A component, and why the cache could not be used, if it could not.
pub struct Loaded {
    pub component: Component,
    /// For the caller to show once: the cache was refused or damaged.
    pub warning: Option<String>,
}

/// Compiles `bytes`, or loads the result of an earlier compilation from
/// `cache_dir`. Entries are named by a digest of the engine's compatibility
/// hash and the component.
pub fn load(engine: &Engine, bytes: &[u8], cache_dir: Option<&Path>) -> Result<Loaded> {
    let compile = || {
        Component::new(engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compiling the component")
    };
    let Some(dir) = cache_dir else {
        return Ok(Loaded {
            component: compile()?,
            warning: None,
        });
    };
    let entry = Entry::new(dir, engine, bytes);
    if let Err(why) = private_directory(dir) {
        return Ok(Loaded {
            component: compile()?,
            warning: Some(format!(
                "not using the compiled-component cache {}: {why}",
                dir.display()
            )),
        });
    }
    let warning = match entry.read() {
        Ok(Some(compiled)) => {
            // Read, not mapped: a file changed under a mapping would crash the host.
            // SAFETY: the artifact is the one this host wrote and recorded the
            // digest of (checked just now), in a directory and a file only
            // this user can write; its key covers the engine's configuration,
            // and wasmtime checks its header before use.
            match unsafe { Component::deserialize(engine, &compiled) } {
                Ok(component) => {
                    return Ok(Loaded {
                        component,
                        warning: None,
                    });
                }
                Err(e) => Some(format!(
                    "the cached compiled component {} could not be loaded ({e}); compiled afresh",
                    entry.artifact.display()
                )),
            }
        }
        Ok(None) => None,
        Err(Refusal::Untrusted(why)) => {
            return Ok(Loaded {
                component: compile()?,
                warning: Some(format!(
                    "not using the compiled-component cache {}: {why}",
                    dir.display()
                )),
            });
        }
        Err(Refusal::Tampered) => Some(format!(
            "the cached compiled component {} does not match the digest recorded when it was written; compiled afresh",
            entry.artifact.display()
        )),
    };
    let component = compile()?;
    // A cache that cannot be written only costs the next run a compilation.
    let _ = entry.write(&component.serialize()?);
    Ok(Loaded { component, warning })
}

/// One component's place in the cache: the artifact and its digest.
struct Entry {
    artifact: PathBuf,
    digest: PathBuf,
}

/// Why an entry is not used.
enum Refusal {
    /// A file someone else could have written.
    Untrusted(String),
    /// The artifact is not what was written.
    Tampered,
}

impl Entry {
    fn new(dir: &Path, engine: &Engine, bytes: &[u8]) -> Self {
        use std::hash::Hash;
        let mut key = HashWriter(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut key);
        key.0.update(bytes);
        let key = hex(&key.0.finalize()[..16]);
        Entry {
            artifact: dir.join(format!("{key}.cwasm")),
            digest: dir.join(format!("{key}.sha256")),
        }
    }

    /// The artifact, checked; `None` when there is none (or no digest).
    fn read(&self) -> Result<Option<Vec<u8>>, Refusal> {
        let (Some(digest), Some(compiled)) =
            (read_private(&self.digest)?, read_private(&self.artifact)?)
        else {
            return Ok(None);
        };
        if digest.trim_ascii() != hex(&Sha256::digest(&compiled)).as_bytes() {
            return Err(Refusal::Tampered);
        }
        Ok(Some(compiled))
    }

    /// The artifact, then its digest, each written whole and renamed into
    /// place, readable and writable by this user only.
    fn write(&self, compiled: &[u8]) -> std::io::Result<()> {
        let digest = hex(&Sha256::digest(compiled));
        for (path, contents) in [
            (&self.artifact, compiled),
            (&self.digest, digest.as_bytes()),
        ] {
            static WRITER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let writer = WRITER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let partial = path.with_extension(format!("partial-{}-{writer}", std::process::id()));
            let mut options = File::options();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let written = options
                .open(&partial)
                .and_then(|mut file| file.write_all(contents));
            if let Err(e) = written.and_then(|()| std::fs::rename(&partial, path)) {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        }
        Ok(())
    }
}

/// The contents of `path` if it exists and only this user could have
/// written it (checked on the open file, so it cannot be swapped between
/// the check and the read).
fn read_private(path: &Path) -> Result<Option<Vec<u8>>, Refusal> {
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(_) => return Ok(None),
    };
    let metadata = file
        .metadata()
        .map_err(|e| Refusal::Untrusted(format!("{}: {e}", path.display())))?;
    only_mine(&metadata).map_err(|why| Refusal::Untrusted(format!("{} {why}", path.display())))?;
    let mut contents = Vec::new();
    match file.read_to_end(&mut contents) {
        Ok(_) => Ok(Some(contents)),
        Err(_) => Ok(None),
    }
}

/// Creates `dir` (this user only) if it is missing; refuses it unless it
/// is a directory only this user could have written.
fn private_directory(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("cannot create it: {e}"))?;
    let metadata = std::fs::metadata(dir).map_err(|e| e.to_string())?;
    if !metadata.is_dir() {
        return Err("it is not a directory".to_owned());
    }
    only_mine(&metadata).map_err(|why| format!("it {why}"))
}

/// Whether only this user (or root) could have written what `metadata`
/// describes: owned by them, not writable by group or others.
#[cfg(unix)]
fn only_mine(metadata: &std::fs::Metadata) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    if metadata.uid() != me && metadata.uid() != 0 {
        return Err(format!(
            "belongs to user {}, not to this user ({me}) or root",
            metadata.uid()
        ));
    }
    if metadata.mode() & 0o022 != 0 {
        return Err(format!(
            "is writable by its group or by others (mode {:o})",
            metadata.mode() & 0o7777
        ));
    }
    Ok(())
}

/// Elsewhere, the operating system's own access control is relied on.
#[cfg(not(unix))]
fn only_mine(_: &std::fs::Metadata) -> Result<(), String> {
    Ok(())
}

/// Feeds what [`std::hash::Hash`] writes into a SHA-256.
struct HashWriter(Sha256);

impl std::hash::Hasher for HashWriter {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        0 // never asked: the digest is read from the SHA-256 itself
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
