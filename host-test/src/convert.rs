//! From the component's WIT types back to the connector's core types, whose
//! errors print well. (Machines need no conversion: the component gives
//! their JSON.)

use crate::runtime::mde::connector::{http as wit_http, types as wit};
use mde_connector::{error, http};

pub fn error(e: wit::Error) -> error::Error {
    use error::Error as E;
    match e {
        wit::Error::InvalidDomain(why) => E::InvalidDomain(why),
        wit::Error::InvalidSettings(why) => E::InvalidSettings(why),
        wit::Error::Unauthorized(d) => E::Unauthorized(service_error(d)),
        wit::Error::Forbidden(d) => E::Forbidden(service_error(d)),
        wit::Error::RateLimited(r) => E::RateLimited(retry_later(r)),
        wit::Error::ApiError(d) => E::ApiError(service_error(d)),
        wit::Error::ServiceUnavailable(r) => E::ServiceUnavailable(retry_later(r)),
        wit::Error::Transport(t) => E::Transport(transport_error(t)),
        wit::Error::InvalidResponse(r) => E::InvalidResponse(error::InvalidResponse {
            service: service(r.service),
            status: r.status,
            reason: r.reason,
            excerpt: r.excerpt,
        }),
    }
}

pub fn transport_error(t: wit_http::TransportError) -> http::TransportError {
    match t {
        wit_http::TransportError::Refused(s) => http::TransportError::Refused(s),
        wit_http::TransportError::Timeout => http::TransportError::Timeout,
        wit_http::TransportError::Connection(s) => http::TransportError::Connection(s),
        wit_http::TransportError::TooLarge(n) => http::TransportError::TooLarge(n),
        wit_http::TransportError::Other(s) => http::TransportError::Other(s),
    }
}

fn service(s: wit::Service) -> error::Service {
    match s {
        wit::Service::Api => error::Service::Api,
        wit::Service::IdentityPlatform => error::Service::IdentityPlatform,
    }
}

fn retry_later(r: wit::RetryLater) -> error::RetryLater {
    error::RetryLater {
        retry_after_seconds: r.retry_after_seconds,
        details: service_error(r.details),
    }
}

fn service_error(e: wit::ServiceError) -> error::ServiceError {
    error::ServiceError {
        service: service(e.service),
        status: e.status,
        code: e.code,
        message: e.message,
        correlation_id: e.correlation_id,
    }
}

/// The cloud as the core knows it, whose table of hosts the host's
/// allow-list is built from.
pub fn cloud(cloud: &crate::runtime::Cloud) -> mde_connector::settings::Cloud {
    use crate::runtime::{Cloud, Geo};
    use mde_connector::settings::{Cloud as C, Endpoints, Geo as G};
    match cloud {
        Cloud::Commercial => C::Commercial,
        Cloud::Geo(geo) => C::Geo(match geo {
            Geo::Us => G::Us,
            Geo::Eu => G::Eu,
            Geo::Uk => G::Uk,
            Geo::Au => G::Au,
            Geo::Swa => G::Swa,
            Geo::Ina => G::Ina,
        }),
        Cloud::Gcc => C::Gcc,
        Cloud::GccHigh => C::GccHigh,
        Cloud::Dod => C::Dod,
        Cloud::Custom(c) => C::Custom(Endpoints {
            api_base: c.api_base.clone(),
            login_host: c.login_host.clone(),
            scope: c.scope.clone(),
        }),
    }
}
