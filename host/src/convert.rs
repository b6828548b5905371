//! The component's errors as the core's, which print the service's words and
//! name their kind: `mde_connector::Error::from(e)`. (Machines need no
//! conversion: the component gives their JSON; settings go the other way, in
//! `runtime`.)

use crate::runtime::mde::connector::{http as wit_http, types as wit};
use mde_connector::{error, http};
impl From<wit::Error> for error::Error {
    fn from(e: wit::Error) -> Self {
        use error::Error as E;
        match e {
            wit::Error::InvalidDomain(why) => E::InvalidDomain(why),
            wit::Error::InvalidSettings(why) => E::InvalidSettings(why),
            wit::Error::Unauthorized(d) => E::Unauthorized(d.into()),
            wit::Error::Forbidden(d) => E::Forbidden(d.into()),
            wit::Error::RateLimited(r) => E::RateLimited(r.into()),
            wit::Error::ApiError(d) => E::ApiError(d.into()),
            wit::Error::ServiceUnavailable(r) => E::ServiceUnavailable(r.into()),
            wit::Error::Transport(t) => E::Transport(t.into()),
            wit::Error::InvalidResponse(r) => E::InvalidResponse(error::InvalidResponse {
                service: r.service.into(),
                status: r.status,
                reason: r.reason,
                excerpt: r.excerpt,
            }),
        }
    }
}

impl From<wit_http::TransportError> for http::TransportError {
    fn from(t: wit_http::TransportError) -> Self {
        match t {
            wit_http::TransportError::Refused(s) => http::TransportError::Refused(s),
            wit_http::TransportError::Timeout => http::TransportError::Timeout,
            wit_http::TransportError::Connection(s) => http::TransportError::Connection(s),
            wit_http::TransportError::TooLarge(n) => http::TransportError::TooLarge(n),
            wit_http::TransportError::Other(s) => http::TransportError::Other(s),
        }
    }
}

impl From<wit::Service> for error::Service {
    fn from(s: wit::Service) -> Self {
        match s {
            wit::Service::Api => error::Service::Api,
            wit::Service::IdentityPlatform => error::Service::IdentityPlatform,
        }
    }
}

impl From<wit::RetryLater> for error::RetryLater {
    fn from(r: wit::RetryLater) -> Self {
        error::RetryLater {
            retry_after_seconds: r.retry_after_seconds,
            details: r.details.into(),
        }
    }
}

impl From<wit::ServiceError> for error::ServiceError {
    fn from(e: wit::ServiceError) -> Self {
        error::ServiceError {
            service: e.service.into(),
            status: e.status,
            code: e.code,
            message: e.message,
            correlation_id: e.correlation_id,
        }
    }
}
