//! The component's edge: wit-bindgen types in, core types out, and back.
//! No behaviour lives here, only conversion.

wit_bindgen::generate!({ world: "connector", path: "wit" });

use crate::{connector, error, events, http, machine, settings};
use mde::connector::http as wit_http;
use mde::connector::log as wit_log;
use mde::connector::settings as wit_settings;
use mde::connector::types as wit;
use std::cell::RefCell;

struct Component;
export!(Component);

thread_local! {
    // One per instance: wasm32-unknown-unknown has one thread.
    static CONNECTOR: RefCell<connector::Connector> = RefCell::default();
}

impl Guest for Component {
    fn domain_machines(domain: String) -> Result<Vec<wit::Machine>, wit::Error> {
        Self::lookup(domain).map(|found| found.machines)
    }

    fn lookup(domain: String) -> Result<wit::LookupResult, wit::Error> {
        let found = lookup(&domain)?;
        Ok(wit::LookupResult {
            domain: found.domain,
            machines: found.machines.into_iter().map(machine_to_wit).collect(),
            cap_reached: found.cap_reached,
        })
    }
}

impl exports::mde::connector::events::Guest for Component {
    fn ocsf_inventory(domain: String, observed_at: u64) -> Result<Vec<String>, wit::Error> {
        Ok(events::ocsf::inventory(&lookup(&domain)?, observed_at))
    }

    fn ecs_documents(domain: String, observed_at: u64) -> Result<Vec<String>, wit::Error> {
        Ok(events::ecs::documents(&lookup(&domain)?, observed_at))
    }
}

/// The core's lookup with the imported settings and host, its error as WIT's.
fn lookup(domain: &str) -> Result<connector::Lookup, wit::Error> {
    let settings = settings_from(wit_settings::get());
    CONNECTOR
        .with(|c| c.borrow_mut().lookup(&settings, domain, &mut ImportedHost))
        .map_err(error_to_wit)
}

/// The core's view of the imports.
struct ImportedHost;

impl connector::Host for ImportedHost {
    fn send(&mut self, request: &http::Request) -> Result<http::Response, http::TransportError> {
        let request = wit_http::Request {
            method: match request.method {
                http::Method::Get => wit_http::Method::Get,
                http::Method::Post => wit_http::Method::Post,
            },
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
        };
        match wit_http::send(&request) {
            Ok(r) => Ok(http::Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(e) => Err(match e {
                wit_http::TransportError::Refused(s) => http::TransportError::Refused(s),
                wit_http::TransportError::Timeout => http::TransportError::Timeout,
                wit_http::TransportError::Connection(s) => http::TransportError::Connection(s),
                wit_http::TransportError::TooLarge(n) => http::TransportError::TooLarge(n),
                wit_http::TransportError::Other(s) => http::TransportError::Other(s),
            }),
        }
    }

    fn log(&mut self, level: connector::Level, event: &str, message: &str) {
        let level = match level {
            connector::Level::Debug => wit_log::Level::Debug,
            connector::Level::Info => wit_log::Level::Info,
            connector::Level::Warn => wit_log::Level::Warn,
            connector::Level::Error => wit_log::Level::Error,
        };
        wit_log::emit(level, event, message);
    }
}

fn settings_from(config: wit_settings::Config) -> settings::Settings {
    use wit_settings::{Auth, Cloud, Geo};
    settings::Settings {
        cloud: match config.cloud {
            Cloud::Commercial => settings::Cloud::Commercial,
            Cloud::Geo(geo) => settings::Cloud::Geo(match geo {
                Geo::Us => settings::Geo::Us,
                Geo::Eu => settings::Geo::Eu,
                Geo::Uk => settings::Geo::Uk,
                Geo::Au => settings::Geo::Au,
                Geo::Swa => settings::Geo::Swa,
                Geo::Ina => settings::Geo::Ina,
            }),
            Cloud::Gcc => settings::Cloud::Gcc,
            Cloud::GccHigh => settings::Cloud::GccHigh,
            Cloud::Dod => settings::Cloud::Dod,
            Cloud::Custom(c) => settings::Cloud::Custom(settings::Endpoints {
                api_base: c.api_base,
                login_host: c.login_host,
                scope: c.scope,
            }),
        },
        auth: match config.auth {
            Auth::HostManaged => settings::Auth::HostManaged,
            Auth::BearerToken(token) => settings::Auth::BearerToken(token),
            Auth::ClientCredentials(c) => {
                settings::Auth::ClientCredentials(settings::ClientCredentials {
                    tenant_id: c.tenant_id,
                    client_id: c.client_id,
                    client_secret: c.client_secret,
                })
            }
        },
    }
}

fn error_to_wit(e: error::Error) -> wit::Error {
    use error::Error as E;
    match e {
        E::InvalidDomain(why) => wit::Error::InvalidDomain(why),
        E::InvalidSettings(why) => wit::Error::InvalidSettings(why),
        E::Unauthorized(d) => wit::Error::Unauthorized(service_error_to_wit(d)),
        E::Forbidden(d) => wit::Error::Forbidden(service_error_to_wit(d)),
        E::RateLimited(r) => wit::Error::RateLimited(wit::RateLimit {
            retry_after_seconds: r.retry_after_seconds,
            details: service_error_to_wit(r.details),
        }),
        E::ApiError(d) => wit::Error::ApiError(service_error_to_wit(d)),
        E::ServiceUnavailable(d) => wit::Error::ServiceUnavailable(service_error_to_wit(d)),
        E::Transport(t) => wit::Error::Transport(match t {
            http::TransportError::Refused(s) => wit_http::TransportError::Refused(s),
            http::TransportError::Timeout => wit_http::TransportError::Timeout,
            http::TransportError::Connection(s) => wit_http::TransportError::Connection(s),
            http::TransportError::TooLarge(n) => wit_http::TransportError::TooLarge(n),
            http::TransportError::Other(s) => wit_http::TransportError::Other(s),
        }),
        E::InvalidResponse(r) => wit::Error::InvalidResponse(wit::InvalidResponse {
            service: service_to_wit(r.service),
            status: r.status,
            reason: r.reason,
            excerpt: r.excerpt,
        }),
    }
}

fn service_to_wit(service: error::Service) -> wit::Service {
    match service {
        error::Service::Api => wit::Service::Api,
        error::Service::IdentityPlatform => wit::Service::IdentityPlatform,
    }
}

fn service_error_to_wit(e: error::ServiceError) -> wit::ServiceError {
    wit::ServiceError {
        service: service_to_wit(e.service),
        status: e.status,
        code: e.code,
        message: e.message,
        correlation_id: e.correlation_id,
    }
}

/// Converts an open enumeration: known values case for case, the rest as `other`.
macro_rules! open_enum_to_wit {
    ($value:expr, $core:ident => $wit:ident { $($variant:ident),+ }) => {
        match $value {
            $(machine::$core::$variant => wit::$wit::$variant,)+
            machine::$core::Other(text) => wit::$wit::Other(text),
        }
    };
}

fn machine_to_wit(m: machine::Machine) -> wit::Machine {
    wit::Machine {
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
                .map(|ip| wit::IpAddress {
                    ip_address: ip.ip_address,
                    mac_address: ip.mac_address,
                    type_: ip.kind,
                    operational_status: ip.operational_status,
                })
                .collect()
        }),
        health_status: m.health_status.map(|v| {
            open_enum_to_wit!(v, HealthStatus => HealthStatus {
                Active, Inactive, ImpairedCommunication, NoSensorData,
                NoSensorDataImpairedCommunication, Unknown
            })
        }),
        onboarding_status: m.onboarding_status.map(|v| {
            open_enum_to_wit!(v, OnboardingStatus => OnboardingStatus {
                Onboarded, CanBeOnboarded, Unsupported, InsufficientInfo
            })
        }),
        risk_score: m.risk_score.map(|v| {
            open_enum_to_wit!(v, RiskScore => RiskScore { None, Informational, Low, Medium, High })
        }),
        exposure_level: m.exposure_level.map(|v| {
            open_enum_to_wit!(v, ExposureLevel => ExposureLevel { None, Low, Medium, High })
        }),
        device_value: m.device_value.map(|v| {
            open_enum_to_wit!(v, DeviceValue => DeviceValue { Normal, Low, High })
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
        vm_metadata: m.vm_metadata.map(|vm| wit::VmMetadata {
            vm_id: vm.vm_id,
            cloud_provider: vm.cloud_provider,
            resource_id: vm.resource_id,
            subscription_id: vm.subscription_id,
        }),
    }
}
