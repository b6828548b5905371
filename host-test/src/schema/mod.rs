//! Schema checkers built from the schema files in `schemas/` (a subset of
//! upstream OCSF and ECS, see `schemas/README.md`): OCSF from its `dictionary.json`, `events/`,
//! `objects/` and `profiles/`; ECS from `fields.csv`. Nothing here lists the
//! fields an event should have: every rule comes from those files.
#![allow(dead_code)] // each test binary uses a different part

pub mod ecs;
pub mod ocsf;

use std::path::PathBuf;

/// `schemas/` at the top of the repository.
pub fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}
