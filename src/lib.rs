//! Microsoft Defender for Endpoint `GET /api/domains/{domain}/machines`, as a
//! WebAssembly component.
//!
//! The modules below are the pure core: plain Rust over strings and bytes,
//! tested natively. `bindings` (wasm32 only) converts between them and the
//! types wit-bindgen generates from `wit/`.

pub mod check;
pub mod claims;
pub mod connector;
pub mod domain;
pub mod environment;
pub mod error;
pub mod events;
pub mod hints;
pub mod http;
pub mod indicator;
pub mod lenient;
pub mod log_line;
pub mod machine;
pub mod output;
pub mod permissions;
pub mod prevalence;
pub mod request;
pub mod response;
pub mod routes;
pub mod secrets;
pub mod settings;
mod text;

#[cfg(all(target_arch = "wasm32", feature = "component"))]
mod bindings;

pub use connector::{Connector, Found, Host, Level, Lookup, MACHINE_CAP};
pub use error::Error;
pub use machine::Machine;
pub use routes::Query;
pub use settings::Settings;

/// The component's allocator (see `Cargo.toml`). Only the component has it:
/// components that embed the core as a library keep their own.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
