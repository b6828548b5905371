//! A wasmtime host for the mde-connector component.
//!
//! - [`runtime`]: loads the component once and instantiates it with the imports
//!   this crate provides.
//! - [`backend`]: where the component's HTTP requests go: the [`fake_tenant`],
//!   a [`backend::Replay`] of recorded answers, or (later) the network.
//! - [`output`]: tables and JSON for people and pipelines.

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
