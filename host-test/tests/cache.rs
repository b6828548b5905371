//! The compiled-component cache: used when only this user could have
//! written it, and each artifact checked against the digest recorded when
//! it was written. A planted or tampered artifact is never run: the tests
//! plant the misbehaving guest's compiled code, which answers no machines
//! where the connector answers three.

mod common;

use common::*;
use mde_connector_host::Runtime;
use mde_connector_host::runtime::{COMPONENT, RuntimeOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const MISBEHAVING: &[u8] = include_bytes!(env!("MISBEHAVING_GUEST_COMPONENT"));

/// A fresh directory in cargo's scratch space (mode 0700).
fn scratch(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cache-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn load(bytes: &[u8], dir: &Path) -> Runtime {
    let options = RuntimeOptions {
        cache_dir: Some(dir.to_owned()),
        ..RuntimeOptions::default()
    };
    Runtime::with_options(bytes, options).unwrap()
}

/// The file names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

/// How many machines the fake tenant's contoso.com has, as `runtime` runs it.
fn machines_found(runtime: &Runtime) -> usize {
    let tenant = Tenant::new();
    let mut instance = runtime
        .instantiate(settings(demo_credentials()), tenant.fake.clone())
        .unwrap();
    instance
        .lookup("contoso.com")
        .unwrap()
        .unwrap()
        .machines
        .len()
}

/// The connector's cache entry (artifact, digest), and the misbehaving
/// guest's, each compiled once into a directory of its own.
fn entries() -> &'static ([PathBuf; 2], [PathBuf; 2]) {
    static ENTRIES: OnceLock<([PathBuf; 2], [PathBuf; 2])> = OnceLock::new();
    ENTRIES.get_or_init(|| {
        let entry = |bytes: &[u8], name: &str| {
            let dir = scratch(name);
            load(bytes, &dir);
            let names = names(&dir);
            assert!(
                names.len() == 2 && names[0].ends_with(".cwasm") && names[1].ends_with(".sha256"),
                "{names:?}"
            );
            [dir.join(&names[0]), dir.join(&names[1])]
        };
        (
            entry(COMPONENT, "connector"),
            entry(MISBEHAVING, "misbehaving"),
        )
    })
}

/// A directory holding the connector's entry with the misbehaving guest's
/// artifact in its place, and a digest that matches that artifact: only the
/// directory's and the files' owners and modes can give it away.
fn planted(name: &str) -> (PathBuf, PathBuf) {
    let ([artifact, digest], [planted_artifact, planted_digest]) = entries();
    let dir = scratch(name);
    let target = dir.join(artifact.file_name().unwrap());
    std::fs::copy(planted_artifact, &target).unwrap();
    std::fs::copy(planted_digest, dir.join(digest.file_name().unwrap())).unwrap();
    for file in names(&dir) {
        std::fs::set_permissions(dir.join(file), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    (dir, target)
}

#[test]
fn the_plant_is_loaded_when_nothing_gives_it_away() {
    // The other tests mean something: a planted entry in a private
    // directory, with a matching digest, is indistinguishable and runs.
    let (dir, _) = planted("indistinguishable");
    let runtime = load(COMPONENT, &dir);
    assert_eq!(runtime.cache_warning(), None);
    assert_eq!(machines_found(&runtime), 0);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn compiled_components_are_cached_with_their_digest() {
    let dir = scratch("cached");
    let runtime = load(COMPONENT, &dir);
    assert_eq!(runtime.cache_warning(), None);
    let names = names(&dir);
    assert_eq!(names.len(), 2, "{names:?}");
    let (artifact, digest) = (dir.join(&names[0]), dir.join(&names[1]));
    for file in [&artifact, &digest] {
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }
    assert_eq!(std::fs::read_to_string(&digest).unwrap().len(), 64);
    let written = std::fs::metadata(&artifact).unwrap().modified().unwrap();

    // A second load reads the artifact and leaves it as it was.
    let runtime = load(COMPONENT, &dir);
    assert_eq!(runtime.cache_warning(), None);
    assert_eq!(
        std::fs::metadata(&artifact).unwrap().modified().unwrap(),
        written
    );
    assert_eq!(machines_found(&runtime), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_tampered_artifact_is_compiled_again_not_run() {
    let ([artifact, _], [planted_artifact, _]) = entries();
    let dir = scratch("tampered");
    load(COMPONENT, &dir);
    let target = dir.join(artifact.file_name().unwrap());
    // Valid compiled code for this engine, but not what was written.
    std::fs::copy(planted_artifact, &target).unwrap();
    let runtime = load(COMPONENT, &dir);
    let warning = runtime.cache_warning().unwrap();
    assert!(
        warning
            .ends_with("does not match the digest recorded when it was written; compiled afresh"),
        "{warning}"
    );
    assert_eq!(machines_found(&runtime), 3);
    // Replaced: the next load is quiet.
    assert_eq!(load(COMPONENT, &dir).cache_warning(), None);

    // Damaged rather than swapped: the same.
    std::fs::write(&target, b"not a compiled component").unwrap();
    let runtime = load(COMPONENT, &dir);
    assert!(runtime.cache_warning().is_some());
    assert_eq!(machines_found(&runtime), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_others_can_write_is_not_used() {
    for mode in [0o770, 0o707] {
        let (dir, _) = planted(&format!("mode-{mode:o}"));
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        let before = names(&dir);
        let runtime = load(COMPONENT, &dir);
        assert_eq!(
            runtime.cache_warning(),
            Some(format!(
                "not using the compiled-component cache {}: it is writable by its group or by others (mode {mode:o})",
                dir.display()
            ))
            .as_deref()
        );
        assert_eq!(machines_found(&runtime), 3, "{mode:o}");
        assert_eq!(names(&dir), before, "nothing written there");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn a_file_others_can_write_is_not_used() {
    let (dir, target) = planted("file-mode");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o622)).unwrap();
    let runtime = load(COMPONENT, &dir);
    let warning = runtime.cache_warning().unwrap();
    assert!(
        warning.ends_with(&format!(
            "{} is writable by its group or by others (mode 622)",
            target.display()
        )),
        "{warning}"
    );
    assert_eq!(machines_found(&runtime), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_or_file_of_another_user_is_not_used() {
    let nobody = 65534;
    let (dir, target) = planted("owner");
    if std::os::unix::fs::chown(&target, Some(nobody), None).is_err() {
        // Only root may give a file away; as anyone else there is nothing to test.
        eprintln!("not root: another user's files cannot be made here");
        return;
    }
    let runtime = load(COMPONENT, &dir);
    let warning = runtime.cache_warning().unwrap();
    assert!(
        warning.contains("belongs to user 65534, not to this user"),
        "{warning}"
    );
    assert_eq!(machines_found(&runtime), 3);

    std::os::unix::fs::chown(&target, Some(0), None).unwrap();
    std::os::unix::fs::chown(&dir, Some(nobody), None).unwrap();
    let runtime = load(COMPONENT, &dir);
    assert_eq!(
        runtime.cache_warning(),
        Some(format!(
            "not using the compiled-component cache {}: it belongs to user 65534, not to this user (0) or root",
            dir.display()
        ))
        .as_deref()
    );
    assert_eq!(machines_found(&runtime), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}
