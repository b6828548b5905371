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
    /// A stable name for the case, as used in log records and CLI output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidDomain(_) => "invalid-domain",
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
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.kind())?;
        match self {
            Error::InvalidDomain(why) | Error::InvalidSettings(why) => f.write_str(why),
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
