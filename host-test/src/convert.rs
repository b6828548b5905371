//! From the component's WIT types back to the connector's core types, whose
//! JSON form uses the service's own field names and whose errors print well.
//! (The component's `bindings` module does the opposite direction.)

use crate::runtime::mde::connector::{http as wit_http, types as wit};
use mde_connector::{error, http, machine};

/// Converts an open enumeration: known values case for case, the rest as `Other`.
macro_rules! open_enum_from_wit {
    ($value:expr, $wit:ident => $core:ident { $($variant:ident),+ }) => {
        match $value {
            $(wit::$wit::$variant => machine::$core::$variant,)+
            wit::$wit::Other(text) => machine::$core::Other(text),
        }
    };
}

pub fn machine(m: wit::Machine) -> machine::Machine {
    machine::Machine {
        id: m.id,
        computer_dns_name: m.computer_dns_name,
        first_seen: m.first_seen,
        last_seen: m.last_seen,
        os_platform: m.os_platform,
        os_version: m.os_version,
        version: m.version,
        os_processor: m.os_processor,
        os_architecture: m.os_architecture,
        os_build: m.os_build,
        last_ip_address: m.last_ip_address,
        last_external_ip_address: m.last_external_ip_address,
        ip_addresses: m.ip_addresses.map(|ips| {
            ips.into_iter()
                .map(|ip| machine::IpAddress {
                    ip_address: ip.ip_address,
                    mac_address: ip.mac_address,
                    kind: ip.type_,
                    operational_status: ip.operational_status,
                })
                .collect()
        }),
        health_status: m.health_status.map(|v| {
            open_enum_from_wit!(v, HealthStatus => HealthStatus {
                Active, Inactive, ImpairedCommunication, NoSensorData,
                NoSensorDataImpairedCommunication, Unknown
            })
        }),
        onboarding_status: m.onboarding_status.map(|v| {
            open_enum_from_wit!(v, OnboardingStatus => OnboardingStatus {
                Onboarded, CanBeOnboarded, Unsupported, InsufficientInfo
            })
        }),
        risk_score: m.risk_score.map(|v| {
            open_enum_from_wit!(v, RiskScore => RiskScore { None, Informational, Low, Medium, High })
        }),
        exposure_level: m.exposure_level.map(|v| {
            open_enum_from_wit!(v, ExposureLevel => ExposureLevel { None, Low, Medium, High })
        }),
        device_value: m.device_value.map(|v| {
            open_enum_from_wit!(v, DeviceValue => DeviceValue { Normal, Low, High })
        }),
        rbac_group_id: m.rbac_group_id,
        rbac_group_name: m.rbac_group_name,
        aad_device_id: m.aad_device_id,
        is_aad_joined: m.is_aad_joined,
        machine_tags: m.machine_tags,
        agent_version: m.agent_version,
        defender_av_status: m.defender_av_status,
        managed_by: m.managed_by,
        managed_by_status: m.managed_by_status,
        is_excluded: m.is_excluded,
        exclusion_reason: m.exclusion_reason,
        is_potential_duplication: m.is_potential_duplication,
        merged_into_machine_id: m.merged_into_machine_id,
        vm_metadata: m.vm_metadata.map(|vm| machine::VmMetadata {
            vm_id: vm.vm_id,
            cloud_provider: vm.cloud_provider,
            resource_id: vm.resource_id,
            subscription_id: vm.subscription_id,
        }),
    }
}

pub fn error(e: wit::Error) -> error::Error {
    use error::Error as E;
    match e {
        wit::Error::InvalidDomain(why) => E::InvalidDomain(why),
        wit::Error::InvalidSettings(why) => E::InvalidSettings(why),
        wit::Error::Unauthorized(d) => E::Unauthorized(service_error(d)),
        wit::Error::Forbidden(d) => E::Forbidden(service_error(d)),
        wit::Error::RateLimited(r) => E::RateLimited(error::RateLimit {
            retry_after_seconds: r.retry_after_seconds,
            details: service_error(r.details),
        }),
        wit::Error::ApiError(d) => E::ApiError(service_error(d)),
        wit::Error::ServiceUnavailable(d) => E::ServiceUnavailable(service_error(d)),
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
