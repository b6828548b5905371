//! Machines for people (a table) and for pipelines (JSON with the service's
//! names, OCSF, ECS). Every format prints JSON texts the component made; the
//! writers are the core's (`mde_connector::output`), shared with the
//! wasi:cli command so that both print the same bytes. Errors are printed
//! with the same escaping as the table (`one_line`).

pub use mde_connector::output::{one_line, write_array, write_lines, write_table};

/// How to print machines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns of the most useful fields.
    Table,
    /// One JSON array, with the service's own field names.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// One OCSF Device Inventory Info event per line, made by the component.
    Ocsf,
    /// One ECS document per line, made by the component.
    Ecs,
}
