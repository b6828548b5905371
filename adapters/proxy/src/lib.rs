//! The enrichment service: `wasi:http/incoming-handler` in front of the
//! composed connector, for `wasmtime serve` and other wasi:http platforms.
//!
//! | request | answer |
//! |---|---|
//! | `GET /domains/{domain}/machines` | `200`, `application/json`: the machines as the CLI's `--format json` prints them |
//! | `GET /domains/{domain}/machines?format=ndjson\|ocsf\|ecs` | `200`, `application/x-ndjson`: one machine or event per line |
//! | `GET /files/{sha1}/machines`, `/users/{name}/machines`, `/ips/{ip}/machines?at=TIME` (now by default) | as for a domain, in every format |
//! | `GET /machines/{id}` | as a list of one, in every format; `404` `no-machine` when the service has none |
//! | `GET /domains/{domain}/stats`, `/ips/{ip}/stats` (`?lookBackHours=N`) | `200`, `application/json`: the prevalence as the CLI prints it |
//! | `GET /healthz` | `200` when the settings are usable (no request is sent), else `500` |
//! | another path | `404` |
//! | another method on these paths | `405` with `Allow: GET` |
//!
//! A `200` carries `x-mde-cap-reached: true` when the answer held 500
//! machines, the service's cap. Every lookup's answer says `x-mde-cache:
//! hit` (with `age`, in whole seconds) when a kept answer served it, else
//! `x-mde-cache: miss`; errors are never kept. Errors are RFC 9457 problem details
//! (`application/problem+json`) with the error's `kind`, and the service's
//! `code` and `correlationId` when it gave them: see [`status_of`]. The pure
//! part is here, tested natively; the export is in `guest` (wasm32 only).

wit_bindgen::generate!({ world: "proxy", path: "../wit", generate_all });

#[cfg(target_arch = "wasm32")]
mod guest;
mod routes;

pub use routes::{ROUTES, Route, percent_decoded, route};

use mde_connector::Error;
use mde_connector::http::TransportError;
use mde_router::{Failure, Format, Imports, Output};
use serde_json::Value;

/// Retry-After when a `429` did not say, in seconds: the service's
/// per-minute window.
pub const RATE_LIMITED_RETRY_AFTER: u64 = 60;
/// Retry-After for an outage of the service, in seconds.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 30;

/// An HTTP answer, before it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Answers one request. `path_with_query` is as it arrived (percent-encoded).
pub fn handle(method: &str, path_with_query: &str, imports: &impl Imports) -> Reply {
    let redact = |text: &str| imports.redact(text);
    match route(method, path_with_query, &redact) {
        Err(refused) => refused,
        Ok(Route::Healthz) => healthz(imports.settings_problem(), &redact),
        Ok(Route::Lookup { query, format }) => {
            answer(format, imports.look_up(&query, format), &redact)
        }
    }
}

/// `/healthz`: `200` when the settings are usable, else their problem.
pub fn healthz(settings_problem: Option<String>, redact: &Redact<'_>) -> Reply {
    match settings_problem {
        Some(why) => failure(&Error::InvalidSettings(why), redact),
        None => reply(200, "application/json", b"{\"status\":\"ok\"}\n".to_vec()),
    }
}

/// The answer to a lookup printed in `format`, or to its failure.
pub fn answer(format: Format, outcome: Result<Output, Failure>, redact: &Redact<'_>) -> Reply {
    match outcome {
        Ok(output) => {
            let content_type = match format {
                Format::Json => "application/json",
                _ => "application/x-ndjson",
            };
            let mut reply = reply(200, content_type, output.body);
            if output.cap_reached {
                reply
                    .headers
                    .push(("x-mde-cap-reached".into(), "true".into()));
            }
            cache_headers(&mut reply, output.cached_age);
            reply
        }
        Err(Failure::NoMachine { id, cached_age }) => {
            let detail =
                format!("the tenant has no machine {id:?} (by machine id or computer name)");
            let mut reply = problem(404, "no-machine", &detail, redact);
            cache_headers(&mut reply, cached_age);
            reply
        }
        Err(Failure::Events(why)) => {
            let mut reply = problem(500, "events", &why, redact);
            reply.headers.push(("x-mde-cache".into(), "miss".into()));
            reply
        }
        Err(Failure::Lookup(e)) => {
            let mut reply = failure(&e, redact);
            reply.headers.push(("x-mde-cache".into(), "miss".into()));
            reply
        }
    }
}

/// `x-mde-cache: hit` with `age` (whole seconds) when a kept answer served
/// the request, else `x-mde-cache: miss`.
fn cache_headers(reply: &mut Reply, cached_age: Option<std::time::Duration>) {
    let cache = match cached_age {
        Some(age) => {
            reply
                .headers
                .push(("age".into(), age.as_secs().to_string()));
            "hit"
        }
        None => "miss",
    };
    reply.headers.push(("x-mde-cache".into(), cache.into()));
}

/// Text without the secrets it may hold, for what a server may have echoed.
pub type Redact<'a> = dyn Fn(&str) -> String + 'a;

/// The HTTP status for a connector error, and the Retry-After it carries.
///
/// | error | status |
/// |---|---|
/// | `invalid-domain`, the other lookups' `invalid-...`, and the API's `InvalidDomainName` | 400 |
/// | `invalid-settings` | 500 |
/// | `unauthorized`, `forbidden` (the service refused our credentials) | 502 |
/// | `rate-limited`, `service-unavailable` | 503, with `Retry-After` |
/// | `transport(timeout)` | 504 |
/// | any other `transport`, `api-error` or `invalid-response` | 502 |
pub fn status_of(e: &Error) -> (u16, Option<u64>) {
    match e {
        // Every lookup's input, refused before any request (issue 25's too).
        Error::InvalidDomain(_)
        | Error::InvalidFileHash(_)
        | Error::InvalidUserName(_)
        | Error::InvalidIp(_)
        | Error::InvalidTime(_)
        | Error::InvalidMachineId(_)
        | Error::InvalidLookBack(_) => (400, None),
        Error::ApiError(d) if d.code.as_deref() == Some("InvalidDomainName") => (400, None),
        Error::InvalidSettings(_) => (500, None),
        Error::RateLimited(limit) => (
            503,
            Some(
                limit
                    .retry_after_seconds
                    .unwrap_or(RATE_LIMITED_RETRY_AFTER),
            ),
        ),
        Error::ServiceUnavailable(later) => (
            503,
            Some(later.retry_after_seconds.unwrap_or(UNAVAILABLE_RETRY_AFTER)),
        ),
        Error::Transport(TransportError::Timeout) => (504, None),
        Error::Unauthorized(_)
        | Error::Forbidden(_)
        | Error::ApiError(_)
        | Error::Transport(_)
        | Error::InvalidResponse(_) => (502, None),
    }
}

fn failure(e: &Error, redact: &Redact<'_>) -> Reply {
    let (status, retry_after) = status_of(e);
    let details = match e {
        Error::Unauthorized(d) | Error::Forbidden(d) | Error::ApiError(d) => Some(d),
        Error::RateLimited(later) | Error::ServiceUnavailable(later) => Some(&later.details),
        _ => None,
    };
    // Which service answered, and with what status, when one did.
    let answered = match e {
        Error::InvalidResponse(r) => Some((r.service, r.status)),
        _ => details.map(|d| (d.service, d.status)),
    };
    let mut members = Vec::new();
    if let Some((service, status)) = answered {
        let service = match service {
            mde_connector::error::Service::Api => "api",
            mde_connector::error::Service::IdentityPlatform => "identity-platform",
        };
        members.push(("service", Value::from(service)));
        members.push(("serviceStatus", Value::from(status)));
    }
    if let Some(d) = details {
        for (name, value) in [("code", &d.code), ("correlationId", &d.correlation_id)] {
            if let Some(value) = value {
                members.push((name, Value::from(redact(value))));
            }
        }
        // What to fix (the role to grant, the AADSTS code's meaning, the
        // cloud to try), for programs; `detail` ends with it too.
        if let Some(hint) = &d.hint {
            members.push(("hint", Value::from(redact(hint))));
        }
    }
    if let Some(seconds) = retry_after {
        members.push(("retryAfterSeconds", Value::from(seconds)));
    }
    let mut reply = problem_with(status, e.kind(), &e.to_string(), members, redact);
    if let Some(seconds) = retry_after {
        reply
            .headers
            .push(("retry-after".into(), seconds.to_string()));
    }
    reply
}

/// A problem-details answer: see [`problem_with`].
pub fn problem(status: u16, kind: &str, detail: &str, redact: &Redact<'_>) -> Reply {
    problem_with(status, kind, detail, Vec::new(), redact)
}

/// RFC 9457 problem details: `type` `about:blank` (so `title` is the status's
/// phrase), `status`, `detail` (the error as the CLI prints it, secrets
/// redacted), and `kind` plus `extra` as extension members.
fn problem_with(
    status: u16,
    kind: &str,
    detail: &str,
    extra: Vec<(&str, Value)>,
    redact: &Redact<'_>,
) -> Reply {
    let members = [
        ("type", Value::from("about:blank")),
        ("title", Value::from(title(status))),
        ("status", Value::from(status)),
        ("detail", Value::from(redact(detail))),
        ("kind", Value::from(kind)),
    ]
    .into_iter()
    .chain(extra);
    let mut json = String::from("{");
    for (i, (name, value)) in members.enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(&Value::from(name).to_string());
        json.push(':');
        json.push_str(&value.to_string());
    }
    json.push('}');
    let mut body = escape_controls(&json);
    body.push('\n');
    reply(status, "application/problem+json", body.into_bytes())
}

/// serde_json escapes U+0000 to U+001F; this escapes the other control
/// characters (DEL and C1, which terminals may interpret) too. They can only
/// occur inside strings, where `\uXXXX` means the same character.
fn escape_controls(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn title(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}

fn reply(status: u16, content_type: &str, body: Vec<u8>) -> Reply {
    Reply {
        status,
        headers: vec![
            ("content-type".into(), content_type.into()),
            // Answers about a tenant's machines are not for shared caches.
            ("cache-control".into(), "no-store".into()),
            ("content-length".into(), body.len().to_string()),
        ],
        body,
    }
}

#[cfg(test)]
mod tests;
