//! Machines for people (a table) and for pipelines (JSON with the service's
//! names, OCSF, ECS). Every format prints JSON texts the component made; the
//! writers are the core's (`mde_connector::output`), shared with the
//! wasi:cli command so that both print the same bytes. Errors are printed
//! with the same escaping as the table (`one_line`).

pub use mde_connector::output::{Format, one_line, write_array, write_lines, write_table};
