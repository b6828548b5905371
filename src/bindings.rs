//! The component's edge: wit-bindgen types in, core types out, and back.
//! No behaviour lives here, only conversion.

wit_bindgen::generate!({ world: "connector", path: "wit" });

use crate::response::Kept;
use crate::{check, connector, error, events, http, machine, routes, settings};
use mde::connector::http as wit_http;
use mde::connector::log as wit_log;
use mde::connector::settings as wit_settings;
use mde::connector::types as wit;
use std::cell::RefCell;

mod pivots;

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
        core_lookup(domain).map(Into::into)
    }

    fn check() -> Result<wit::TokenReport, wit::Error> {
        let settings = settings_from(wit_settings::get());
        let report = CONNECTOR
            .with(|c| c.borrow_mut().check(&settings, &mut ImportedHost))
            .map_err(error_to_wit)?;
        Ok(token_report_to_wit(report))
    }

    fn lookup_texts(domain: String) -> Result<wit::LookupTextsResult, wit::Error> {
        let found = core_lookup::<String>(domain)?;
        Ok(wit::LookupTextsResult {
            domain: found.domain,
            machines: found.machines,
            cap_reached: found.cap_reached,
        })
    }

    // Issue 25's lookups: their conversions are in `pivots`.
    fn file_machines(sha1: String) -> Result<Vec<wit::Machine>, wit::Error> {
        pivots::typed(routes::Query::File(sha1))
    }

    fn user_machines(name: String) -> Result<Vec<wit::Machine>, wit::Error> {
        pivots::typed(routes::Query::User(name))
    }

    fn ip_machines(ip: String, at: String) -> Result<Vec<wit::Machine>, wit::Error> {
        pivots::typed(routes::Query::Ip { ip, at })
    }

    fn machine(id: String) -> Result<Option<wit::Machine>, wit::Error> {
        pivots::typed(routes::Query::Machine(id)).map(|machines| machines.into_iter().next())
    }

    fn lookup_query(query: wit::Query) -> Result<wit::QueryResult, wit::Error> {
        pivots::lookup_query(query)
    }

    fn lookup_query_texts(query: wit::Query) -> Result<wit::QueryTextsResult, wit::Error> {
        pivots::lookup_query_texts(query)
    }

    fn domain_stats(
        domain: String,
        look_back_hours: Option<u32>,
    ) -> Result<wit::DomainPrevalence, wit::Error> {
        pivots::domain_stats(domain, look_back_hours)
    }

    fn ip_stats(ip: String, look_back_hours: Option<u32>) -> Result<wit::IpPrevalence, wit::Error> {
        pivots::ip_stats(ip, look_back_hours)
    }
}

/// The core's lookup, keeping typed records or texts, with its error as the WIT's.
fn core_lookup<M: Kept>(domain: String) -> Result<connector::Lookup<M>, wit::Error> {
    let settings = settings_from(wit_settings::get());
    CONNECTOR
        .with(|c| {
            c.borrow_mut()
                .lookup_as(&settings, &domain, &mut ImportedHost)
        })
        .map_err(error_to_wit)
}

impl exports::mde::connector::events::Guest for Component {
    fn ocsf_inventory(
        found: wit::LookupTextsResult,
        observed_at: u64,
    ) -> Result<Vec<String>, String> {
        events::ocsf::inventory(&lookup_from_texts(found), observed_at)
    }

    fn ecs_documents(
        found: wit::LookupTextsResult,
        observed_at: u64,
    ) -> Result<Vec<String>, String> {
        events::ecs::documents(&lookup_from_texts(found), observed_at)
    }

    fn query_ocsf_inventory(
        found: wit::QueryTextsResult,
        observed_at: u64,
    ) -> Result<Vec<String>, String> {
        events::ocsf::query_inventory(&pivots::found_from_texts(found), observed_at)
    }

    fn query_ecs_documents(
        found: wit::QueryTextsResult,
        observed_at: u64,
    ) -> Result<Vec<String>, String> {
        events::ecs::query_documents(&pivots::found_from_texts(found), observed_at)
    }
}

/// A `lookup-texts` answer in the core's shape.
fn lookup_from_texts(found: wit::LookupTextsResult) -> connector::Lookup<String> {
    connector::Lookup {
        domain: found.domain,
        machines: found.machines,
        cap_reached: found.cap_reached,
    }
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
                body: match r.body {
                    wit_http::Body::Bytes(bytes) => bytes,
                    wit_http::Body::Text(text) => text.into_bytes(),
                },
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

    fn client_assertion(&mut self, audience: &str) -> Result<String, String> {
        wit_settings::client_assertion(audience)
    }
}

fn token_report_to_wit(report: check::TokenReport) -> wit::TokenReport {
    let claims = report.claims;
    wit::TokenReport {
        api_base: report.api_base,
        login_host: report.login_host,
        tenant_id: claims.tenant_id,
        app_id: claims.app_id,
        audience: claims.audience,
        roles: claims.roles,
        expires_at: claims.expires_at,
        audience_cloud: report.audience_cloud,
        lookups: report
            .lookups
            .into_iter()
            .map(|(lookup, permitted)| wit::LookupPermission {
                lookup: lookup.name().into(),
                permitted,
                roles_needed: lookup.roles().iter().map(|r| (*r).into()).collect(),
            })
            .collect(),
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
            Auth::ClientAssertion(c) => {
                settings::Auth::ClientAssertion(settings::AssertionCredentials {
                    tenant_id: c.tenant_id,
                    client_id: c.client_id,
                })
            }
        },
    }
}

fn error_to_wit(e: error::Error) -> wit::Error {
    use error::Error as E;
    match e {
        E::InvalidDomain(why) => wit::Error::InvalidDomain(why),
        E::InvalidFileHash(why) => wit::Error::InvalidFileHash(why),
        E::InvalidUserName(why) => wit::Error::InvalidUserName(why),
        E::InvalidIp(why) => wit::Error::InvalidIp(why),
        E::InvalidTime(why) => wit::Error::InvalidTime(why),
        E::InvalidMachineId(why) => wit::Error::InvalidMachineId(why),
        E::InvalidLookBack(why) => wit::Error::InvalidLookBack(why),
        E::InvalidSettings(why) => wit::Error::InvalidSettings(why),
        E::Unauthorized(d) => wit::Error::Unauthorized(service_error_to_wit(d)),
        E::Forbidden(d) => wit::Error::Forbidden(service_error_to_wit(d)),
        E::RateLimited(r) => wit::Error::RateLimited(retry_later_to_wit(r)),
        E::ApiError(d) => wit::Error::ApiError(service_error_to_wit(d)),
        E::ServiceUnavailable(r) => wit::Error::ServiceUnavailable(retry_later_to_wit(r)),
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

fn retry_later_to_wit(r: error::RetryLater) -> wit::RetryLater {
    wit::RetryLater {
        retry_after_seconds: r.retry_after_seconds,
        details: service_error_to_wit(r.details),
    }
}

fn service_error_to_wit(e: error::ServiceError) -> wit::ServiceError {
    wit::ServiceError {
        service: service_to_wit(e.service),
        status: e.status,
        code: e.code,
        message: e.message,
        correlation_id: e.correlation_id,
        hint: e.hint.map(Into::into),
    }
}

/// A core struct as its WIT record, field for field: a field of one that the
/// other lacks, or that is not listed here, fails to compile (the core value
/// is taken apart without `..`, the record built without it). `moved` fields
/// keep their type; `optional` ones convert inside their `Option`; `lists`
/// inside an `Option<Vec<_>>`; `renamed` pairs are `core = wit`.
macro_rules! convert_record {
    ($core:path, $wit:path {
        moved: [$($moved:ident),*],
        optional: [$($optional:ident),*],
        lists: [$($list:ident),*],
        renamed: [$($core_name:ident = $wit_name:ident),*] $(,)?
    }) => {
        impl From<$core> for $wit {
            fn from(v: $core) -> Self {
                let $core { $($moved,)* $($optional,)* $($list,)* $($core_name,)* } = v;
                Self {
                    $($moved,)*
                    $($optional: $optional.map(Into::into),)*
                    $($list: $list.map(|items| items.into_iter().map(Into::into).collect()),)*
                    $($wit_name: $core_name,)*
                }
            }
        }
    };
}

/// An open enumeration: known values case for case, the rest as `other`.
macro_rules! convert_open_enum {
    ($name:ident { $($variant:ident),+ }) => {
        impl From<machine::$name> for wit::$name {
            fn from(v: machine::$name) -> Self {
                match v {
                    $(machine::$name::$variant => wit::$name::$variant,)+
                    machine::$name::Other(text) => wit::$name::Other(text),
                }
            }
        }
    };
}

convert_open_enum!(HealthStatus {
    Active,
    Inactive,
    ImpairedCommunication,
    NoSensorData,
    NoSensorDataImpairedCommunication,
    Unknown
});
convert_open_enum!(OnboardingStatus {
    Onboarded,
    CanBeOnboarded,
    Unsupported,
    InsufficientInfo
});
convert_open_enum!(RiskScore {
    None,
    Informational,
    Low,
    Medium,
    High
});
convert_open_enum!(ExposureLevel {
    None,
    Low,
    Medium,
    High
});
convert_open_enum!(DeviceValue { Normal, Low, High });

convert_record!(
    machine::IpAddress,
    wit::IpAddress {
        moved: [ip_address, mac_address, operational_status, unmodelled],
        optional: [],
        lists: [],
        renamed: [kind = type_],
    }
);

convert_record!(
    machine::VmMetadata,
    wit::VmMetadata {
        moved: [
            vm_id,
            cloud_provider,
            resource_id,
            subscription_id,
            unmodelled
        ],
        optional: [],
        lists: [],
        renamed: [],
    }
);

convert_record!(
    machine::Machine,
    wit::Machine {
        moved: [
            id,
            computer_dns_name,
            first_seen,
            last_seen,
            os_platform,
            os_version,
            version,
            os_processor,
            os_architecture,
            os_build,
            last_ip_address,
            last_external_ip_address,
            rbac_group_id,
            rbac_group_name,
            aad_device_id,
            is_aad_joined,
            machine_tags,
            agent_version,
            defender_av_status,
            managed_by,
            managed_by_status,
            is_excluded,
            exclusion_reason,
            is_potential_duplication,
            merged_into_machine_id,
            unmodelled
        ],
        optional: [
            health_status,
            onboarding_status,
            risk_score,
            exposure_level,
            device_value,
            vm_metadata
        ],
        lists: [ip_addresses],
        renamed: [],
    }
);

impl From<connector::Lookup> for wit::LookupResult {
    fn from(found: connector::Lookup) -> Self {
        wit::LookupResult {
            domain: found.domain,
            machines: found.machines.into_iter().map(Into::into).collect(),
            cap_reached: found.cap_reached,
        }
    }
}
