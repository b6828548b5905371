//! Schema checkers built from the files in `schemas/` (a subset of upstream
//! OCSF and ECS, see `schemas/README.md`): OCSF from its `dictionary.json`,
//! `events/`, `objects/` and `profiles/`; ECS from `fields.csv`. Nothing here
//! lists the fields an event should have: every rule comes from those files.

pub mod ecs;
pub mod ocsf;

use std::path::PathBuf;

/// `schemas/` at the top of the repository.
pub fn reference_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schemas")
}

/// The OCSF checker, read once.
pub fn ocsf() -> &'static ocsf::Ocsf {
    static OCSF: std::sync::OnceLock<ocsf::Ocsf> = std::sync::OnceLock::new();
    OCSF.get_or_init(|| ocsf::Ocsf::load(&reference_dir().join("ocsf")))
}

/// The ECS checker, read once.
pub fn ecs() -> &'static ecs::Ecs {
    static ECS: std::sync::OnceLock<ecs::Ecs> = std::sync::OnceLock::new();
    ECS.get_or_init(|| ecs::Ecs::load(&reference_dir().join("ecs/fields.csv")))
}
