//! A wasmtime host for the mde-connector component.
//!
//! - [`runtime`]: loads the component once (compiled or from the cache) and
//!   instantiates it with this crate's imports, inside the sandbox's limits.
//! - [`policy`]: the one function every outbound request passes through:
//!   egress allow-list, rate [`budget`], retries on a [`clock`].
//! - [`backend`]: where requests finally go: the [`fake_tenant`] (in process,
//!   or over loopback HTTP with [`fake_server`]), a [`backend::Replay`] of
//!   recorded answers, or the network ([`live`]).
//! - [`batch`], [`output`], [`convert`]: many lookups, tables and JSON for
//!   people and pipelines, WIT types back to the core's.

pub mod backend;
pub mod batch;
pub mod budget;
pub mod clock;
pub mod convert;
pub mod fake_server;
pub mod fake_tenant;
pub mod live;
pub mod output;
pub mod policy;
pub mod runtime;

pub use runtime::{HostState, Instance, Runtime};
