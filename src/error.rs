//! The errors a lookup can end in, each a case a host can act on.

use crate::http::TransportError;
use std::fmt;

/// Which service produced an error answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Api,
    IdentityPlatform,
}

/// An error answer, with what the service said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceError {
    pub service: Service,
    pub status: u16,
    pub code: Option<String>,
    pub message: Option<String>,
    pub correlation_id: Option<String>,
    /// What to fix, from [`crate::hints`]; never the service's own words.
    /// (Boxed to keep `Error` under clippy's large-error threshold.)
    pub hint: Option<Box<str>>,
}

/// A `429` or a `5xx`: an answer that asks the caller to come back later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryLater {
    pub retry_after_seconds: Option<u64>,
    pub details: ServiceError,
}

/// An answer that is not what the service sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidResponse {
    pub service: Service,
    pub status: u16,
    pub reason: String,
    pub excerpt: String,
}

/// Mirrors the WIT `error` variant case for case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    InvalidDomain(String),
    InvalidFileHash(String),
    InvalidUserName(String),
    InvalidIp(String),
    InvalidTime(String),
    InvalidMachineId(String),
    InvalidLookBack(String),
    InvalidSettings(String),
    Unauthorized(ServiceError),
    Forbidden(ServiceError),
    RateLimited(RetryLater),
    ApiError(ServiceError),
    ServiceUnavailable(RetryLater),
    Transport(TransportError),
    InvalidResponse(InvalidResponse),
}

impl Error {
    /// Whether the caller's input was refused before any request.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidDomain(_)
                | Error::InvalidFileHash(_)
                | Error::InvalidUserName(_)
                | Error::InvalidIp(_)
                | Error::InvalidTime(_)
                | Error::InvalidMachineId(_)
                | Error::InvalidLookBack(_)
        )
    }

    /// A stable name for the case, as used in log records and CLI output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidDomain(_) => "invalid-domain",
            Error::InvalidFileHash(_) => "invalid-file-hash",
            Error::InvalidUserName(_) => "invalid-user-name",
            Error::InvalidIp(_) => "invalid-ip",
            Error::InvalidTime(_) => "invalid-time",
            Error::InvalidMachineId(_) => "invalid-machine-id",
            Error::InvalidLookBack(_) => "invalid-look-back",
            Error::InvalidSettings(_) => "invalid-settings",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::RateLimited(_) => "rate-limited",
            Error::ApiError(_) => "api-error",
            Error::ServiceUnavailable(_) => "service-unavailable",
            Error::Transport(_) => "transport",
            Error::InvalidResponse(_) => "invalid-response",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Service::Api => "API",
            Service::IdentityPlatform => "identity platform",
        })
    }
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} answered {}", self.service, self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " (correlation id {id})")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; to fix: {hint}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.kind())?;
        match self {
            Error::InvalidDomain(why) | Error::InvalidSettings(why) => f.write_str(why),
            Error::InvalidFileHash(why)
            | Error::InvalidUserName(why)
            | Error::InvalidIp(why)
            | Error::InvalidTime(why)
            | Error::InvalidMachineId(why)
            | Error::InvalidLookBack(why) => f.write_str(why),
            Error::Unauthorized(e) | Error::Forbidden(e) | Error::ApiError(e) => write!(f, "{e}"),
            Error::RateLimited(later) | Error::ServiceUnavailable(later) => {
                write!(f, "{}", later.details)?;
                match later.retry_after_seconds {
                    Some(s) => write!(f, "; retry after {s} s"),
                    None if matches!(self, Error::RateLimited(_)) => {
                        f.write_str("; no Retry-After given")
                    }
                    None => Ok(()),
                }
            }
            Error::Transport(e) => write!(f, "{e}"),
            Error::InvalidResponse(e) => write!(
                f,
                "{} answered {}: {}; body starts {:?}",
                e.service, e.status, e.reason, e.excerpt
            ),
        }
    }
}

impl std::error::Error for Error {}

/// `From` impls from a binding of the WIT `mde:connector/types` interface to
/// these types, for any host that binds it (wasmtime's `bindgen!` in the
/// host, wit-bindgen's in the stock-runtime router): the bindings' shapes
/// are the WIT's, so one definition serves them all. `$types` is the path of
/// the binding's `types` module; the crate that invokes it owns those types.
#[macro_export]
macro_rules! error_from_wit {
    ($types:path) => {
        const _: () = {
            use $crate::error as core;
            use $types as wit;

            impl From<wit::Error> for core::Error {
                fn from(e: wit::Error) -> Self {
                    match e {
                        wit::Error::InvalidDomain(why) => core::Error::InvalidDomain(why),
                        wit::Error::InvalidFileHash(why) => core::Error::InvalidFileHash(why),
                        wit::Error::InvalidUserName(why) => core::Error::InvalidUserName(why),
                        wit::Error::InvalidIp(why) => core::Error::InvalidIp(why),
                        wit::Error::InvalidTime(why) => core::Error::InvalidTime(why),
                        wit::Error::InvalidMachineId(why) => core::Error::InvalidMachineId(why),
                        wit::Error::InvalidLookBack(why) => core::Error::InvalidLookBack(why),
                        wit::Error::InvalidSettings(why) => core::Error::InvalidSettings(why),
                        wit::Error::Unauthorized(d) => core::Error::Unauthorized(d.into()),
                        wit::Error::Forbidden(d) => core::Error::Forbidden(d.into()),
                        wit::Error::RateLimited(r) => core::Error::RateLimited(r.into()),
                        wit::Error::ApiError(d) => core::Error::ApiError(d.into()),
                        wit::Error::ServiceUnavailable(r) => {
                            core::Error::ServiceUnavailable(r.into())
                        }
                        wit::Error::Transport(t) => core::Error::Transport(t.into()),
                        wit::Error::InvalidResponse(r) => {
                            core::Error::InvalidResponse(core::InvalidResponse {
                                service: r.service.into(),
                                status: r.status,
                                reason: r.reason,
                                excerpt: r.excerpt,
                            })
                        }
                    }
                }
            }

            impl From<wit::TransportError> for $crate::http::TransportError {
                fn from(t: wit::TransportError) -> Self {
                    use $crate::http::TransportError as T;
                    match t {
                        wit::TransportError::Refused(s) => T::Refused(s),
                        wit::TransportError::Timeout => T::Timeout,
                        wit::TransportError::Connection(s) => T::Connection(s),
                        wit::TransportError::TooLarge(n) => T::TooLarge(n),
                        wit::TransportError::Other(s) => T::Other(s),
                    }
                }
            }

            impl From<wit::Service> for core::Service {
                fn from(s: wit::Service) -> Self {
                    match s {
                        wit::Service::Api => core::Service::Api,
                        wit::Service::IdentityPlatform => core::Service::IdentityPlatform,
                    }
                }
            }

            impl From<wit::RetryLater> for core::RetryLater {
                fn from(r: wit::RetryLater) -> Self {
                    core::RetryLater {
                        retry_after_seconds: r.retry_after_seconds,
                        details: r.details.into(),
                    }
                }
            }

            impl From<wit::ServiceError> for core::ServiceError {
                fn from(e: wit::ServiceError) -> Self {
                    core::ServiceError {
                        service: e.service.into(),
                        status: e.status,
                        code: e.code,
                        message: e.message,
                        correlation_id: e.correlation_id,
                        hint: e.hint.map(Into::into),
                    }
                }
            }
        };
    };
}
