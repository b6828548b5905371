//! Schema checkers built from the reference files in `shared/reference`
//! (beside the repository): OCSF from its `dictionary.json`, `events/`,
//! `objects/` and `profiles/`; ECS from `fields.csv`. Nothing here lists the
//! fields an event should have: every rule comes from those files.
#![allow(dead_code)] // each test binary uses a different part

pub mod ecs;
pub mod ocsf;

use std::path::PathBuf;

/// `shared/reference`, beside the repository (CI lays a copy of `shared/`
/// beside its clone).
pub fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference")
}
