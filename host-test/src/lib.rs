//! The mde-connector test host: what stands in for the network and the
//! service, so the real component runs through the real host
//! ([`mde_connector_host`]) with nothing leaving the machine.
//!
//! - [`fake_tenant`] (the host library's, re-exported): a Defender tenant in
//!   process (token endpoint, demo domains, error envelopes, the service's
//!   rate limits), a [`Transport`](mde_connector_host::transport::Transport);
//! - [`fake_server`]: any transport served over HTTP on 127.0.0.1, for the
//!   live transport's tests;
//! - [`raw`]: a proxy that records what it is sent, and a server that
//!   answers one byte at a time;
//! - [`replay`] (the host library's, re-exported): recorded answers given
//!   out in order;
//! - [`schema`]: OCSF and ECS checkers read from `schemas/`;
//! - [`canary`]: credentials that must never be printed, and the answers
//!   that make every error path run;
//! - [`unknown_fields`]: a machine with members no version models.
//!
//! The integration tests (`tests/`) and benches (`benches/`) drive the built
//! component through all of it; `guests/misbehaving` is a bad guest for the
//! sandbox tests.

pub mod canary;
pub mod fake_server;
pub mod raw;
pub mod schema;

pub use mde_connector_host::{fake_identity, fake_tenant, replay};
pub mod unknown_fields;
