//! Embed the mde-connector component: Microsoft Defender for Endpoint's
//! `GET /api/domains/{domain}/machines` as a sandboxed WebAssembly plugin.
//!
//! The component does no networking of its own: it hands every request to
//! this host, whose [`gateway`] applies the outbound policy (egress
//! allow-list of the cloud's hosts, rate budget per tenant and client,
//! retries) before a [`transport`] sends it ([`live`] over HTTPS, or a test
//! double). The gateway is built into every instance from its settings: no
//! request leaves around it.
//!
//! ```no_run
//! use mde_connector_host::live::{LiveOptions, LiveTransport};
//! use mde_connector_host::{Auth, Cloud, Runtime, Settings};
//!
//! fn main() -> anyhow::Result<()> {
//!     let runtime = Runtime::new()?; // the embedded component, default sandbox limits
//!     let settings = Settings {
//!         cloud: Cloud::Commercial,
//!         auth: Auth::BearerToken(std::env::var("MDE_TOKEN")?),
//!     };
//!     // The proxy from the environment; a bad proxy setting is an error.
//!     let live = LiveTransport::new(&LiveOptions::default()).map_err(anyhow::Error::msg)?;
//!     let mut instance = runtime.instantiate(settings, live)?;
//!     match instance.lookup_texts("contoso.com")? {
//!         Ok(found) => found.machines.iter().for_each(|m| println!("{m}")),
//!         Err(e) => eprintln!("{}", mde_connector::Error::from(e)),
//!     }
//!     Ok(())
//! }
//! ```
//!
//! - [`runtime`]: loads the component once (compiled, or from the [`cache`])
//!   and instantiates it inside the sandbox's limits (memory, CPU deadline).
//! - [`gateway`]: the one function every outbound request passes through,
//!   with its rate [`budget`] on a [`clock`] and a deadline per lookup.
//! - [`tokens`]: one access token per grant for every instance, replaced
//!   shortly before it expires.
//! - [`credentials`]: what the host holds so the component never does: a
//!   certificate that signs client assertions, a federated token file, a
//!   managed identity; and `Instance::check`.
//! - [`scrub`]: known secrets out of every answer and everything passed on.
//! - [`convert`]: the component's errors as [`mde_connector::Error`], which
//!   prints the service's code, message and correlation id.
//! - [`bindings`]: the WIT's types for hosts, with their helpers (a leaf).
//! - [`replay`]: recorded answers as a transport (`--replay`); with the
//!   `fake-tenant` feature, [`fake_tenant`]: the demo tenant in process, the
//!   CLI's default and the tests' service.

pub mod bindings;
pub mod budget;
pub mod cache;
pub mod clock;
pub mod convert;
pub mod credentials;
#[cfg(feature = "fake-tenant")]
pub mod fake_identity;
#[cfg(feature = "fake-tenant")]
pub mod fake_tenant;
pub mod gateway;
pub mod live;
pub mod replay;
pub mod runtime;
pub mod scrub;
mod state;
pub mod tokens;
pub mod transport;

pub use mde_connector::settings::{Auth, ClientCredentials, Cloud, Endpoints, Geo, Settings};
pub use runtime::{
    Error, Instance, LookupResult, LookupTextsResult, Machine, Runtime, RuntimeOptions, Schema,
};

/// The README's Rust code blocks, compiled as doctests so the README keeps
/// compiling with the library.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
