//! An in-process stand-in for Defender for Endpoint and its identity platform.
//!
//! It answers as the live services do (shapes, headers, error envelopes, rate
//! limits) for a few demo domains, and records every request it gets. It routes
//! on the path only, so it serves any cloud's hosts, and can be put behind a
//! real HTTP listener.

use crate::bindings::{Body, Method, Request, Response, TransportError};
use crate::budget::{Limits, RateWindow};
use crate::clock::Clock;
use crate::transport::Transport;
use mde_connector::permissions::Lookup;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

pub use crate::fake_identity::token_name;
mod pivots;
pub use pivots::{KNOWN_FILE, KNOWN_IP, KNOWN_USER};

/// The demo application the fake tenant knows. Not a real secret.
pub const TENANT_ID: &str = "8f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b";
pub const CLIENT_ID: &str = "4e7d9c2b-1a3f-4b5c-9d8e-7f6a5b4c3d2e";
pub const CLIENT_SECRET: &str = "fake-tenant-demo-secret";

/// How long a token is valid, as the identity platform says.
pub(crate) const TOKEN_LIFETIME: Duration = Duration::from_secs(3599);

/// Domains with answers. Anything else well-formed has no machines.
pub const DEMO_DOMAINS: &[&str] = &[
    "contoso.com",
    "fabrikam.com",
    "xn--bcher-kva.example",
    "legacy.example",
];

pub struct FakeTenant {
    pub(crate) clock: Arc<dyn Clock>,
    /// Token → when it stops being valid.
    pub(crate) tokens: HashMap<String, Duration>,
    pub(crate) tokens_issued: u64,
    /// Accepted API calls, for the service's rate limits.
    calls: RateWindow,
    /// Answers to give the next API calls before anything else (status, Retry-After).
    scripted: Vec<(u16, Option<u64>)>,
    machines: BTreeMap<&'static str, Vec<Value>>,
    /// Every request received, in order.
    pub requests: Vec<Request>,
    /// Certificates and federated tokens the demo application signs in with.
    pub identity: crate::fake_identity::FakeIdentity,
    /// The application roles its tokens carry (`roles`): one for each kind of
    /// lookup (`Machine.Read.All`, `URL.Read.All`, `Ip.Read.All`) unless a
    /// test says otherwise. A lookup whose role is missing is a `403`.
    pub roles: Vec<String>,
}

impl FakeTenant {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let mut machines = BTreeMap::new();
        machines.insert("contoso.com", contoso());
        machines.insert("fabrikam.com", (0..500).map(full_machine).collect());
        machines.insert("xn--bcher-kva.example", vec![full_machine(7)]);
        FakeTenant {
            clock,
            tokens: HashMap::new(),
            tokens_issued: 0,
            calls: RateWindow::new(Limits::SERVICE),
            scripted: Vec::new(),
            machines,
            requests: Vec::new(),
            identity: crate::fake_identity::FakeIdentity::default(),
            roles: ["Machine.Read.All", "URL.Read.All", "Ip.Read.All"]
                .map(String::from)
                .to_vec(),
        }
    }

    /// Makes every token issued so far expire now.
    pub fn expire_tokens(&mut self) {
        self.tokens.clear();
    }

    /// Makes the next API call fail with `status` (and `Retry-After`, for a
    /// 429) before authentication or limits are looked at: an outage or a
    /// throttle that the fake's own counters would not produce.
    pub fn fail_next(&mut self, status: u16, retry_after: Option<u64>) {
        self.scripted.insert(0, (status, retry_after));
    }

    /// Answers one request as the services would.
    pub fn handle(&mut self, request: &Request) -> Response {
        self.requests.push(request.clone());
        let path = path_of(&request.url);
        // The managed identity endpoint's query, or the stats routes' window.
        let (route, query) = path.split_once('?').unwrap_or((path, ""));
        let segments: Vec<&str> = route.trim_start_matches('/').split('/').collect();
        match (request.method, segments.as_slice()) {
            (Method::Post, [tenant, "oauth2", "v2.0", "token"]) => self.token(tenant, request),
            (Method::Get, ["metadata", "identity", "oauth2", "token"]) => {
                self.managed_identity(request)
            }
            (Method::Get, ["api", "domains", domain, "machines"]) => {
                self.domain_machines(domain, request)
            }
            (Method::Get, ["api", ..]) if pivots::is_route(&segments) => {
                match self.admit(request, pivots::lookup_of(&segments)) {
                    Some(refused) => refused,
                    None => self.pivot(&segments, query),
                }
            }
            _ => api_error(404, "ResourceNotFound", &format!("No route for {path}")),
        }
    }

    /// A scripted failure, a missing or expired token, or the service's
    /// rate limit, as the service answers them; `None` when the call may go on.
    fn admit(&mut self, request: &Request, lookup: Lookup) -> Option<Response> {
        if let Some((status, retry_after)) = self.scripted.pop() {
            let mut answer = api_error(status, "Scripted", "A failure the test asked for.");
            if let Some(seconds) = retry_after {
                answer
                    .headers
                    .push(("Retry-After".into(), seconds.to_string()));
            }
            return Some(answer);
        }
        let now = self.clock.now();
        let token = request
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "));
        let valid = token
            .and_then(|t| self.tokens.get(t))
            .is_some_and(|expires| now < *expires);
        if !valid {
            return Some(api_error(
                401,
                "Unauthorized",
                "Authorization token is missing, invalid or expired.",
            ));
        }
        if !lookup.permitted_by(&self.roles) {
            return Some(api_error(
                403,
                "Forbidden",
                &format!(
                    "Missing application roles. API required roles: {}, application roles: {}.",
                    lookup.roles().join(","),
                    self.roles.join(",")
                ),
            ));
        }
        if let Err(wait) = self.calls.try_acquire(now) {
            let mut answer = api_error(
                429,
                "TooManyRequests",
                "Rate limit is exceeded. Try again later.",
            );
            answer
                .headers
                .push(("Retry-After".into(), wait.as_secs_f64().ceil().to_string()));
            return Some(answer);
        }
        None
    }

    fn token(&mut self, tenant: &str, request: &Request) -> Response {
        let form = parse_form(request.body.as_deref().unwrap_or_default());
        let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
        // Ids are GUIDs, which the identity platform compares without case.
        if !tenant.eq_ignore_ascii_case(TENANT_ID) {
            return identity_error(
                400,
                "invalid_request",
                &format!("AADSTS90002: Tenant '{tenant}' not found."),
            );
        }
        if field("grant_type") != "client_credentials" {
            return identity_error(
                400,
                "unsupported_grant_type",
                "AADSTS70003: The app requested an unsupported grant type.",
            );
        }
        if !field("client_id").eq_ignore_ascii_case(CLIENT_ID) {
            return identity_error(
                400,
                "unauthorized_client",
                "AADSTS700016: Application was not found in the directory.",
            );
        }
        if field("client_assertion_type") == mde_connector::request::JWT_BEARER {
            if let Err(description) =
                self.identity
                    .verify(field("client_assertion"), field("client_id"), &request.url)
            {
                return identity_error(401, "invalid_client", &description);
            }
        } else if field("client_secret") != CLIENT_SECRET {
            return identity_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            );
        }
        if !field("scope").ends_with("/.default") {
            return identity_error(
                400,
                "invalid_scope",
                "AADSTS1002012: The provided value for scope is not valid.",
            );
        }
        self.tokens_issued += 1;
        let token = self.jwt(field("scope"));
        self.tokens
            .insert(token.clone(), self.clock.now() + TOKEN_LIFETIME);
        json_response(
            200,
            &json!({
                "token_type": "Bearer",
                "expires_in": TOKEN_LIFETIME.as_secs(),
                "ext_expires_in": TOKEN_LIFETIME.as_secs(),
                "access_token": token,
            }),
        )
    }

    fn domain_machines(&mut self, domain: &str, request: &Request) -> Response {
        if let Some(refused) = self.admit(request, Lookup::DomainMachines) {
            return refused;
        }
        if !is_domain_name(domain) {
            return api_error(
                400,
                "InvalidDomainName",
                &format!("Domain name {domain} is invalid"),
            );
        }
        if domain == "legacy.example" {
            // What older revisions of the service answered for an unknown domain.
            return api_error(404, "NotFound", &format!("Domain {domain} was not found"));
        }
        let value = self.machines.get(domain).cloned().unwrap_or_default();
        json_response(
            200,
            &json!({
                "@odata.context": "https://api.security.microsoft.com/api/$metadata#Machines",
                "value": value,
            }),
        )
    }
}

impl Transport for FakeTenant {
    fn send(&mut self, request: &Request) -> Result<Response, TransportError> {
        Ok(self.handle(request))
    }
}

fn path_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme.find('/').map_or("/", |i| &after_scheme[i..])
}

/// The service's own notion of a domain name: letters, digits, hyphens and
/// underscores in at least two labels.
fn is_domain_name(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

pub(crate) fn parse_form(body: &[u8]) -> HashMap<String, String> {
    fn decode(text: &str) -> String {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        let mut bytes = text.bytes();
        let mut out = Vec::with_capacity(text.len());
        while let Some(b) = bytes.next() {
            match b {
                b'+' => out.push(b' '),
                b'%' => {
                    let (hi, lo) = (bytes.next(), bytes.next());
                    match (hi.and_then(hex), lo.and_then(hex)) {
                        (Some(h), Some(l)) => out.push(h << 4 | l),
                        _ => out.extend([Some(b'%'), hi, lo].into_iter().flatten()),
                    }
                }
                b => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

pub(crate) fn json_response(status: u16, body: &Value) -> Response {
    Response {
        status,
        headers: vec![
            (
                "Content-Type".into(),
                "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
                    .into(),
            ),
            ("OData-Version".into(), "4.0".into()),
        ],
        body: Body::Text(body.to_string()),
    }
}

/// The API's error envelope, with a correlation id.
pub fn api_error(status: u16, code: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({"error": {"code": code, "message": message, "target": correlation_id(code)}}),
    )
}

/// The identity platform's error shape.
fn identity_error(status: u16, error: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({
            "error": error,
            "error_description": description,
            "error_codes": [7000215],
            "timestamp": "2026-11-28 10:15:02Z",
            "trace_id": "0b6a1c2d-3e4f-4a5b-8c7d-9e0f1a2b3c4d",
            "correlation_id": correlation_id(error),
        }),
    )
}

/// A stable, GUID-shaped id derived from the text, so answers are repeatable.
fn correlation_id(seed: &str) -> String {
    let h = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let hex = format!("{h:016x}{:016x}", h.rotate_left(17));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Three machines as the live service sends them, quirks included: a null
/// `osBuild`, `rbacGroupId` as a number and as a string, an empty
/// `ipAddress`, a loopback without MAC, an onboarding status in the
/// reference's lower case and a health status the reference does not list.
fn contoso() -> Vec<Value> {
    serde_json::from_str(include_str!("../fixtures/contoso-machines.json"))
        .expect("the fixture is a JSON array")
}

/// A machine with every field filled, varied by `n`: what a big answer looks like.
pub fn full_machine(n: usize) -> Value {
    let platforms = [
        "Windows11",
        "Windows10",
        "WindowsServer2022",
        "Linux",
        "macOS",
    ];
    let health = [
        "Active",
        "Inactive",
        "ImpairedCommunication",
        "NoSensorData",
    ];
    let risk = ["None", "Informational", "Low", "Medium", "High"];
    let exposure = ["None", "Low", "Medium", "High"];
    let value = ["Normal", "Low", "High"];
    let octet = |shift: usize| (n >> shift) & 0xff;
    json!({
        "id": format!("{:040x}", 0x5eed_0000_u64 * 7919 + n as u64 * 104_729),
        "computerDnsName": format!("host-{n:04}.corp.fabrikam.com"),
        "firstSeen": format!("2024-{:02}-{:02}T08:{:02}:00.1234567Z", n % 12 + 1, n % 28 + 1, n % 60),
        "lastSeen": format!("2026-11-{:02}T21:{:02}:13.52Z", n % 28 + 1, n % 60),
        "osPlatform": platforms[n % platforms.len()],
        "osVersion": format!("10.0.{}", 19_000 + n),
        "version": "23H2",
        "osProcessor": "x64",
        "osArchitecture": "64-bit",
        "osBuild": 22_000 + n as i64,
        "lastIpAddress": format!("10.{}.{}.{}", octet(16), octet(8), octet(0)),
        "lastExternalIpAddress": format!("2001:db8::{n:x}"),
        "ipAddresses": [
            {"ipAddress": format!("10.{}.{}.{}", octet(16), octet(8), octet(0)), "macAddress": format!("00155D{:06X}", n), "type": "Ethernet", "operationalStatus": "Up"},
            {"ipAddress": format!("fe80::215:5dff:fe{:02x}:{:04x}", n & 0xff, n), "macAddress": format!("00155D{:06X}", n), "type": "Ethernet", "operationalStatus": "Up"},
            {"ipAddress": "127.0.0.1", "macAddress": "000000000000", "type": "SoftwareLoopback", "operationalStatus": "Up"}
        ],
        "healthStatus": health[n % health.len()],
        "onboardingStatus": "Onboarded",
        "riskScore": risk[n % risk.len()],
        "exposureLevel": exposure[n % exposure.len()],
        "deviceValue": value[n % value.len()],
        "rbacGroupId": 100 + n % 7,
        "rbacGroupName": format!("Device group {}", n % 7),
        "aadDeviceId": format!("{:08x}-1a2b-4c3d-8e4f-{:012x}", n, n * 31),
        "isAadJoined": n.is_multiple_of(2),
        "machineTags": ["fabrikam", format!("site-{}", n % 9)],
        "agentVersion": "10.8760.22621.1010",
        "defenderAvStatus": "Updated",
        "managedBy": "Intune",
        "managedByStatus": "Success",
        "isExcluded": n.is_multiple_of(50),
        "exclusionReason": "Duplicate",
        "isPotentialDuplication": n.is_multiple_of(100),
        "mergedIntoMachineId": format!("{:040x}", n + 1),
        "vmMetadata": {
            "vmId": format!("{:08x}-9d3f-4e8b-a6c1-2f4d7e9b0a13", n),
            "cloudProvider": "Azure",
            "resourceId": format!("/subscriptions/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/host-{n:04}"),
            "subscriptionId": "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
        }
    })
}
