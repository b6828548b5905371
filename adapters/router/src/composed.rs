//! [`Imports`] on the component's imports. wasm32 only.

use crate::bindings::mde::adapters::environment_settings;
use crate::bindings::mde::connector::events;
use crate::bindings::wasi::clocks::wall_clock;
use crate::{Failure, Format, Imports, Output, epoch_ms, error, render};
use mde_connector::Error;

/// The connector, the settings and the clock this component is composed with.
pub struct Composed;

impl Imports for Composed {
    fn settings_problem(&self) -> Option<String> {
        environment_settings::problem()
    }

    fn look_up(&self, domain: &str, format: Format) -> Result<Output, Failure> {
        if let Some(problem) = environment_settings::problem() {
            return Err(Failure::Lookup(Error::InvalidSettings(problem)));
        }
        // One API call, whatever the format: the events are mapped from `found`.
        let found = crate::bindings::lookup_texts(domain).map_err(|e| Failure::Lookup(error(e)))?;
        let cap_reached = found.cap_reached;
        let texts = match format {
            Format::Table | Format::Json | Format::Ndjson => found.machines,
            Format::Ocsf => events::ocsf_inventory(&found, now_ms()).map_err(Failure::Events)?,
            Format::Ecs => events::ecs_documents(&found, now_ms()).map_err(Failure::Events)?,
        };
        Ok(Output {
            body: render(format, &texts)?,
            cap_reached,
        })
    }

    fn redact(&self, text: &str) -> String {
        environment_settings::redact(text)
    }
}

/// When the events are observed: now.
fn now_ms() -> u64 {
    let now = wall_clock::now();
    epoch_ms(now.seconds, now.nanoseconds)
}
