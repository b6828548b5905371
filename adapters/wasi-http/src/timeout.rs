//! `MDE_TIMEOUT`: how long the wasi:http adapter lets the platform wait on
//! the network. One definition, read by the adapter (which sets it on each
//! request) and by `settings-from-env` (which reports a bad value as invalid
//! settings), through `#[path]`.

/// The variable.
pub const TIMEOUT: &str = "MDE_TIMEOUT";

/// Seconds, by default, for each of connecting, the first byte of the
/// answer and each gap between its bytes. The service answers in well under
/// a few seconds, even 500 machines; 30 s leaves it ten times that, and
/// still ends before the 60 s at which load balancers and HTTP clients in
/// front of a service commonly give up, so its caller gets a `504` problem
/// rather than a dropped connection.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

/// The longest `MDE_TIMEOUT` taken: an hour.
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;

/// The timeout in seconds that `value` (the variable, `None` or empty when
/// unset) says, or why it says none.
pub fn timeout_seconds(value: Option<&str>) -> Result<u64, String> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(DEFAULT_TIMEOUT_SECONDS);
    };
    value
        .parse::<u64>()
        .ok()
        .filter(|s| (1..=MAX_TIMEOUT_SECONDS).contains(s) && !value.starts_with('+'))
        .ok_or_else(|| {
            format!(
                "{TIMEOUT} {value:?} is not a timeout: expected whole seconds from 1 to {MAX_TIMEOUT_SECONDS} (default {DEFAULT_TIMEOUT_SECONDS})"
            )
        })
}
