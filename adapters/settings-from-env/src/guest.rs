//! The exports themselves. wasm32 only.

use crate::exports::mde::adapters::environment_settings;
use crate::exports::mde::connector::{log, settings};
use crate::wasi::cli::{environment, stderr};
use crate::{cache, client_assertion, config, log_line, read, secrets, unusable};
use mde_connector::connector::Level;
use std::sync::OnceLock;

struct Component;
crate::export!(Component with_types_in crate);

/// The environment is the same for the instance's whole life (wasi:cli says
/// so): read it once.
fn vars() -> &'static [(String, String)] {
    static VARS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    VARS.get_or_init(environment::get_environment)
}

impl settings::Guest for Component {
    fn get() -> settings::Config {
        match read(vars()) {
            Ok(from_env) => config(&from_env.settings),
            Err(problem) => {
                write_stderr(&log_line(Level::Error, "invalid-settings", &problem));
                unusable()
            }
        }
    }

    fn client_assertion(audience: String) -> Result<String, String> {
        client_assertion(&audience)
    }
}

impl log::Guest for Component {
    fn emit(level: log::Level, event: String, message: String) {
        let level = match level {
            log::Level::Debug => Level::Debug,
            log::Level::Info => Level::Info,
            log::Level::Warn => Level::Warn,
            log::Level::Error => Level::Error,
        };
        // With unusable settings, the default threshold.
        let least = read(vars()).map_or(Level::Warn, |from_env| from_env.log_level);
        if level.at_least(least) {
            write_stderr(&log_line(level, &event, &message));
        }
    }
}

impl environment_settings::Guest for Component {
    fn problem() -> Option<String> {
        read(vars()).err()
    }

    fn redact(text: String) -> String {
        secrets(vars()).scrub(text)
    }

    fn cache() -> environment_settings::CacheSettings {
        let cache = cache(vars()).unwrap_or_default();
        environment_settings::CacheSettings {
            ttl_seconds: cache.ttl_seconds,
            entries: cache.entries,
        }
    }
}

/// Best effort: a log line that cannot be written has nowhere else to go.
fn write_stderr(line: &str) {
    let stream = stderr::get_stderr();
    // `blocking-write-and-flush` takes at most 4096 bytes at a time.
    for chunk in line.as_bytes().chunks(4096) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
}
