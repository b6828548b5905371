//! Clouds, their hosts, and how to authenticate: the WIT `settings` interface in Rust.

/// A regional host of the commercial cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Geo {
    Us,
    Eu,
    Uk,
    Au,
    Swa,
    Ina,
}

/// A national or regional cloud.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Cloud {
    #[default]
    Commercial,
    Geo(Geo),
    Gcc,
    GccHigh,
    Dod,
    Custom(Endpoints),
}

/// The hosts and scope of a cloud.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `https://host[:port]`, no trailing slash.
    pub api_base: String,
    /// `https://host[:port]`, no trailing slash.
    pub login_host: String,
    pub scope: String,
}

/// OAuth 2.0 client credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

// Written by hand so that `{:?}` can never print the secret.
impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// An application that signs in with a client assertion the host makes
/// (a certificate's signed JWT, or a federated token): no secret here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionCredentials {
    pub tenant_id: String,
    pub client_id: String,
}

/// How API requests are authenticated.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Auth {
    #[default]
    HostManaged,
    BearerToken(String),
    ClientCredentials(ClientCredentials),
    ClientAssertion(AssertionCredentials),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::HostManaged => f.write_str("HostManaged"),
            Auth::BearerToken(_) => f.write_str("BearerToken([redacted])"),
            Auth::ClientCredentials(c) => c.fmt(f),
            Auth::ClientAssertion(c) => c.fmt(f),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    pub cloud: Cloud,
    pub auth: Auth,
}

const COMMERCIAL_LOGIN: &str = "https://login.microsoftonline.com";
const GOVERNMENT_LOGIN: &str = "https://login.microsoftonline.us";
/// The audience commercial hosts accept, including `api.security.microsoft.com`.
const COMMERCIAL_SCOPE: &str = "https://api.securitycenter.microsoft.com/.default";

impl Cloud {
    /// The hosts and scope of this cloud, checked when the operator gave them.
    pub fn endpoints(&self) -> Result<Endpoints, String> {
        let known = |api: &str, login: &str, scope: &str| Endpoints {
            api_base: api.into(),
            login_host: login.into(),
            scope: scope.into(),
        };
        Ok(match self {
            Cloud::Commercial => known(
                "https://api.security.microsoft.com",
                COMMERCIAL_LOGIN,
                COMMERCIAL_SCOPE,
            ),
            Cloud::Geo(geo) => known(geo.api_base(), COMMERCIAL_LOGIN, COMMERCIAL_SCOPE),
            Cloud::Gcc => known(
                "https://api-gcc.securitycenter.microsoft.us",
                COMMERCIAL_LOGIN,
                "https://api-gcc.securitycenter.microsoft.us/.default",
            ),
            Cloud::GccHigh | Cloud::Dod => known(
                "https://api-gov.securitycenter.microsoft.us",
                GOVERNMENT_LOGIN,
                "https://api-gov.securitycenter.microsoft.us/.default",
            ),
            Cloud::Custom(custom) => Endpoints {
                api_base: origin("api base", &custom.api_base)?,
                login_host: origin("login host", &custom.login_host)?,
                scope: non_empty("scope", &custom.scope)?.into(),
            },
        })
    }
}

impl Geo {
    pub fn api_base(self) -> &'static str {
        match self {
            Geo::Us => "https://us.api.security.microsoft.com",
            Geo::Eu => "https://eu.api.security.microsoft.com",
            Geo::Uk => "https://uk.api.security.microsoft.com",
            Geo::Au => "https://au.api.security.microsoft.com",
            Geo::Swa => "https://swa.api.security.microsoft.com",
            Geo::Ina => "https://ina.api.security.microsoft.com",
        }
    }
}

impl Auth {
    /// Refuse credentials that cannot be sent as they are. Never echoes a secret.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Auth::HostManaged => Ok(()),
            Auth::BearerToken(token) => {
                // Pasted from an `Authorization` header: the component adds the scheme itself.
                let scheme = token
                    .get(..6)
                    .is_some_and(|s| s.eq_ignore_ascii_case("bearer"));
                let rest = token.get(6..).unwrap_or_default();
                if scheme && (rest.is_empty() || rest.starts_with(char::is_whitespace)) {
                    return Err(
                        "bearer token starts with \"Bearer \": give the token alone; \
                                the component adds the scheme"
                            .into(),
                    );
                }
                header_safe("bearer token", token)
            }
            Auth::ClientCredentials(c) => {
                application(&c.tenant_id, &c.client_id)?;
                non_empty("client secret", &c.client_secret).map(|_| ())
            }
            Auth::ClientAssertion(c) => application(&c.tenant_id, &c.client_id),
        }
    }
}

impl Auth {
    /// The tenant and client ids of an application that obtains its own
    /// tokens (client credentials or an assertion); `None` otherwise.
    pub fn application(&self) -> Option<(&str, &str)> {
        match self {
            Auth::ClientCredentials(c) => Some((&c.tenant_id, &c.client_id)),
            Auth::ClientAssertion(c) => Some((&c.tenant_id, &c.client_id)),
            Auth::HostManaged | Auth::BearerToken(_) => None,
        }
    }
}

/// A tenant id and a client id that can go into a token request's URL and form.
fn application(tenant_id: &str, client_id: &str) -> Result<(), String> {
    let tenant = non_empty("tenant id", tenant_id)?;
    if let Some(bad) = tenant
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '-' | '.' | '_')))
    {
        return Err(format!(
            "tenant id {tenant:?} contains {bad:?}; expected a GUID or a domain name"
        ));
    }
    if tenant.starts_with('.') || tenant.ends_with('.') || crate::text::contains(tenant, "..") {
        return Err(format!(
            "tenant id {tenant:?} is not a GUID or a domain name (an empty label)"
        ));
    }
    if tenant.len() > 256 {
        return Err("tenant id is longer than 256 characters".into());
    }
    no_controls("client id", non_empty("client id", client_id)?)
}

fn non_empty<'a>(what: &str, value: &'a str) -> Result<&'a str, String> {
    if value.trim().is_empty() {
        Err(format!("{what} is empty"))
    } else {
        Ok(value)
    }
}

fn no_controls(what: &str, value: &str) -> Result<(), String> {
    match value.chars().find(|c| c.is_control()) {
        Some(c) => Err(format!(
            "{what} contains a control character (U+{:04X})",
            c as u32
        )),
        None => Ok(()),
    }
}

/// A secret that goes into a header: visible ASCII only. The error names the
/// position, never the value.
fn header_safe(what: &str, value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Err(format!("{what} is empty"));
    }
    match value.bytes().position(|b| !(0x21..=0x7e).contains(&b)) {
        Some(i) => Err(format!(
            "{what} has a character at byte {} that a header cannot carry",
            i + 1
        )),
        None => Ok(()),
    }
}

/// `scheme://host[:port]` with nothing after it (one trailing slash is
/// dropped), normalised to lower case. `https`, or plain `http` to a
/// loopback test server only: the component sends credentials there.
fn origin(what: &str, value: &str) -> Result<String, String> {
    let value = non_empty(what, value)?;
    let value = value.strip_suffix('/').unwrap_or(value);
    // `user:password@`: refused, and never repeated (a health check or a
    // log would show the password).
    if let Some(at) = value.rfind('@') {
        let host = &value[at + 1..];
        return Err(format!(
            "{what} holds user info before \"@{host}\": give scheme://host[:port] alone; \
             credentials never go in a URL"
        ));
    }
    let Some(at) = crate::text::find(value, "://") else {
        return Err(format!("{what} {value:?} must start with https://"));
    };
    let (scheme, authority) = (&value[..at], &value[at + 3..]);
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "https" | "http") {
        return Err(format!(
            "{what} {value:?} must use https (or http for a loopback test server)"
        ));
    }
    if let Some(c) = authority
        .chars()
        .find(|c| matches!(c, '/' | '?' | '#' | '\\' | '%') || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{what} {value:?} may hold only a scheme, a host and a port, not {c:?}"
        ));
    }
    let authority = authority.to_ascii_lowercase();
    // `[v6]:port` or `host:port`; a bare IPv6 address has no brackets to tell them apart.
    let (host, port) = match authority.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, "")) => (v6, None),
            Some((v6, port)) => match port.strip_prefix(':') {
                Some(port) => (v6, Some(port)),
                None => return Err(format!("{what} {value:?} has junk after its IPv6 address")),
            },
            None => return Err(format!("{what} {value:?} has an unclosed IPv6 address")),
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority.as_str(), None),
        },
    };
    if host.is_empty() {
        return Err(format!("{what} {value:?} has no host"));
    }
    if authority.starts_with('[') && host.parse::<std::net::Ipv6Addr>().is_err() {
        return Err(format!("{what} {value:?} has an invalid IPv6 address"));
    }
    if let Some(port) = port
        && !(port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0))
    {
        return Err(format!(
            "{what} {value:?} has port {port:?}; a port is a number from 1 to 65535"
        ));
    }
    if scheme == "http" && !is_loopback(host) {
        return Err(format!(
            "{what} {value:?}: plain http is only for a loopback test server \
             (127.0.0.0/8, ::1, localhost); use https"
        ));
    }
    Ok(format!("{scheme}://{authority}"))
}

/// `localhost`, `127.0.0.0/8` or `::1`: where plain http never leaves the machine.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
        || host
            .parse::<std::net::Ipv6Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `From<&Settings>` for a binding's WIT `settings.config`, for any host or
/// component that provides the `settings` import (the host, the
/// settings-from-env component): the core's one definition of that
/// conversion. `$settings` is the path of the binding's `settings` module;
/// the crate that invokes it owns those types.
#[macro_export]
macro_rules! settings_to_wit {
    ($settings:path) => {
        const _: () = {
            use $crate::settings as core;
            use $settings as wit;

            impl From<&core::Settings> for wit::Config {
                fn from(settings: &core::Settings) -> Self {
                    wit::Config {
                        cloud: match &settings.cloud {
                            core::Cloud::Commercial => wit::Cloud::Commercial,
                            core::Cloud::Geo(geo) => wit::Cloud::Geo(match geo {
                                core::Geo::Us => wit::Geo::Us,
                                core::Geo::Eu => wit::Geo::Eu,
                                core::Geo::Uk => wit::Geo::Uk,
                                core::Geo::Au => wit::Geo::Au,
                                core::Geo::Swa => wit::Geo::Swa,
                                core::Geo::Ina => wit::Geo::Ina,
                            }),
                            core::Cloud::Gcc => wit::Cloud::Gcc,
                            core::Cloud::GccHigh => wit::Cloud::GccHigh,
                            core::Cloud::Dod => wit::Cloud::Dod,
                            core::Cloud::Custom(e) => wit::Cloud::Custom(wit::CustomCloud {
                                api_base: e.api_base.clone(),
                                login_host: e.login_host.clone(),
                                scope: e.scope.clone(),
                            }),
                        },
                        auth: match &settings.auth {
                            core::Auth::HostManaged => wit::Auth::HostManaged,
                            core::Auth::BearerToken(token) => wit::Auth::BearerToken(token.clone()),
                            core::Auth::ClientCredentials(c) => {
                                wit::Auth::ClientCredentials(wit::ClientCredentials {
                                    tenant_id: c.tenant_id.clone(),
                                    client_id: c.client_id.clone(),
                                    client_secret: c.client_secret.clone(),
                                })
                            }
                            core::Auth::ClientAssertion(c) => {
                                wit::Auth::ClientAssertion(wit::AssertionCredentials {
                                    tenant_id: c.tenant_id.clone(),
                                    client_id: c.client_id.clone(),
                                })
                            }
                        },
                    }
                }
            }
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn custom(api: &str, login: &str, scope: &str) -> Cloud {
        Cloud::Custom(Endpoints {
            api_base: api.into(),
            login_host: login.into(),
            scope: scope.into(),
        })
    }

    #[test]
    fn known_clouds_have_the_documented_hosts() {
        let gov = Cloud::GccHigh.endpoints().unwrap();
        assert_eq!(gov.api_base, "https://api-gov.securitycenter.microsoft.us");
        assert_eq!(gov.login_host, "https://login.microsoftonline.us");
        assert_eq!(Cloud::Dod.endpoints().unwrap(), gov);
        let gcc = Cloud::Gcc.endpoints().unwrap();
        assert_eq!(gcc.login_host, "https://login.microsoftonline.com");
        assert_eq!(
            gcc.scope,
            "https://api-gcc.securitycenter.microsoft.us/.default"
        );
        let eu = Cloud::Geo(Geo::Eu).endpoints().unwrap();
        assert_eq!(eu.api_base, "https://eu.api.security.microsoft.com");
        assert_eq!(eu.scope, COMMERCIAL_SCOPE);
    }

    #[test]
    fn custom_cloud_is_normalised_and_checked() {
        let ok = custom(
            "https://API.example.test/",
            "http://127.0.0.1:8080",
            "s/.default",
        );
        let e = ok.endpoints().unwrap();
        assert_eq!(e.api_base, "https://api.example.test");
        assert_eq!(e.login_host, "http://127.0.0.1:8080");
        let err = |c: Cloud| c.endpoints().unwrap_err();
        assert!(
            err(custom("api.example.test", "https://l", "s")).contains("must start with https://")
        );
        assert!(err(custom("ftp://a", "https://l", "s")).contains("must use https"));
        assert!(err(custom("https://a/path", "https://l", "s")).contains("'/'"));
        assert!(err(custom("https://a?x", "https://l", "s")).contains("'?'"));
        assert!(err(custom("https://u@a", "https://l", "s")).contains("user info"));
        assert!(err(custom("https://a", "https://", "s")).contains("login host"));
        assert!(err(custom("https://a", "https://l", " ")).contains("scope is empty"));
    }

    #[test]
    fn schemes_compare_without_case() {
        let e = custom("HTTPS://API.EXAMPLE.TEST", "Http://LocalHost:8080/", "s")
            .endpoints()
            .unwrap();
        assert_eq!(e.api_base, "https://api.example.test");
        assert_eq!(e.login_host, "http://localhost:8080");
    }

    #[test]
    fn plain_http_is_only_for_loopback() {
        for loopback in [
            "http://127.0.0.1:8080",
            "http://127.10.20.30",
            "http://[::1]:9",
            "http://localhost",
        ] {
            assert!(
                custom(loopback, "https://l", "s").endpoints().is_ok(),
                "{loopback}"
            );
        }
        for remote in [
            "http://api.example.test",
            "http://10.0.0.1",
            "http://128.0.0.1",
            "http://[::2]",
            "http://localhost.example.test",
            "http://127.0.0.1.example.test",
        ] {
            let e = custom("https://a", remote, "s").endpoints().unwrap_err();
            assert!(
                e.contains("plain http is only for a loopback"),
                "{remote}: {e}"
            );
            assert!(e.starts_with("login host"), "{e}");
        }
    }

    #[test]
    fn user_info_in_an_origin_is_refused_without_repeating_it() {
        for base in [
            "https://user:hunter2-pw@api.example.test",
            "http://user:hunter2-pw@127.0.0.1:8080/",
            "https://hunter2-pw@api.example.test",
            "ftp://user:hunter2-pw@api.example.test",
            "user:hunter2-pw@api.example.test",
            "https://user:p@ss/hunter2-pw@api.example.test",
        ] {
            let why = custom(base, "https://login.example.test", "s")
                .endpoints()
                .unwrap_err();
            assert!(why.starts_with("api base holds user info"), "{base}: {why}");
            assert!(!why.contains("hunter2"), "{base}: {why}");
            let why = custom("https://api.example.test", base, "s")
                .endpoints()
                .unwrap_err();
            assert!(
                why.starts_with("login host holds user info"),
                "{base}: {why}"
            );
        }
        let why = custom(
            "https://u:pw@api.example.test:8443",
            "https://l.example.test",
            "s",
        )
        .endpoints()
        .unwrap_err();
        assert_eq!(
            why,
            "api base holds user info before \"@api.example.test:8443\": give \
             scheme://host[:port] alone; credentials never go in a URL"
        );
    }

    #[test]
    fn ports_are_numbers_from_1_to_65535() {
        for good in [
            "https://a:1",
            "https://a:65535",
            "http://[::1]:8080",
            "https://[2001:db8::1]",
        ] {
            assert!(custom(good, "https://l", "s").endpoints().is_ok(), "{good}");
        }
        for bad in [
            "http://127.0.0.1:99999",
            "http://127.0.0.1:0",
            "https://a:",
            "https://a:8o",
            "https://a:+80",
            "https://a:-1",
            "https://[::1]x",
            "https://[::1",
            "https://[zz]:80",
        ] {
            let e = custom(bad, "https://l", "s").endpoints().unwrap_err();
            assert!(e.starts_with("api base"), "{bad}: {e}");
        }
    }

    #[test]
    fn credentials_are_checked_without_echoing_secrets() {
        let creds = |tenant: &str, client: &str, secret: &str| {
            Auth::ClientCredentials(ClientCredentials {
                tenant_id: tenant.into(),
                client_id: client.into(),
                client_secret: secret.into(),
            })
        };
        assert!(creds("contoso.onmicrosoft.com", "c", "s").check().is_ok());
        assert!(
            creds("", "c", "s")
                .check()
                .unwrap_err()
                .contains("tenant id is empty")
        );
        assert!(creds("a/b", "c", "s").check().unwrap_err().contains("'/'"));
        for dots in [".", "..", ".contoso.com", "contoso..com", "contoso.com."] {
            let e = creds(dots, "c", "s").check().unwrap_err();
            assert!(e.contains("empty label"), "{dots}: {e}");
        }
        assert!(
            creds("t", "c\n", "s")
                .check()
                .unwrap_err()
                .contains("client id")
        );
        assert!(
            creds("t", "c", "")
                .check()
                .unwrap_err()
                .contains("client secret is empty")
        );
        let bad_token = Auth::BearerToken("SECRET\r\nX-Evil: 1".into())
            .check()
            .unwrap_err();
        assert!(bad_token.contains("byte 7"));
        assert!(!bad_token.contains("SECRET"));
        for pasted in [
            "Bearer SECRET-eyJ0",
            "bearer SECRET-eyJ0",
            "BEARER  SECRET",
            "Bearer",
        ] {
            let e = Auth::BearerToken(pasted.into()).check().unwrap_err();
            assert!(e.contains("starts with \"Bearer \""), "{pasted}: {e}");
            assert!(!e.contains("SECRET"));
        }
        assert!(Auth::BearerToken("BearerlikeToken".into()).check().is_ok());
        assert!(!format!("{:?}", creds("t", "c", "SECRET")).contains("SECRET"));
        assert!(!format!("{:?}", Auth::BearerToken("SECRET".into())).contains("SECRET"));
    }
}
