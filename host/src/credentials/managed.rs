//! Managed identity (Azure VMs, App Service, Arc) as host-managed auth: the
//! host gets the token from the identity endpoint, as the Azure identity
//! libraries do, keeps it until shortly before it expires, and adds
//! `Authorization` to the component's requests for the API. The component
//! never sees it. The endpoint is on the gateway's allow-list only when a
//! managed identity is chosen, and is only ever the one configured.

use crate::bindings::{Method, Request, Response};
use serde::Deserialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// IMDS, on every Azure VM.
pub const IMDS_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";
/// App Service and Functions (with `IDENTITY_HEADER`), as the libraries read them.
pub const IDENTITY_ENDPOINT: &str = "IDENTITY_ENDPOINT";
pub const IDENTITY_HEADER: &str = "IDENTITY_HEADER";

/// How long before its expiry a token is replaced (as `tokens::REFRESH_MARGIN`).
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// Where the identity endpoint is and how it is asked.
#[derive(Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// IMDS-style: `Metadata: true`, api-version 2018-02-01.
    Imds(String),
    /// App Service-style: `X-IDENTITY-HEADER`, api-version 2019-08-01.
    AppService { url: String, header: String },
}

// The App Service header is a secret.
impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Imds(url) => write!(f, "Imds({url})"),
            Endpoint::AppService { url, .. } => write!(f, "AppService({url}, [redacted])"),
        }
    }
}

/// A managed identity: system-assigned, or user-assigned by client id.
#[derive(Debug)]
pub struct ManagedIdentity {
    pub endpoint: Endpoint,
    pub client_id: Option<String>,
    held: Mutex<Option<(String, Instant)>>,
}

impl ManagedIdentity {
    pub fn new(endpoint: Endpoint, client_id: Option<String>) -> Self {
        ManagedIdentity {
            endpoint,
            client_id: client_id.filter(|c| !c.is_empty()),
            held: Mutex::new(None),
        }
    }

    /// The endpoint the environment names: `IDENTITY_ENDPOINT` with
    /// `IDENTITY_HEADER` where both are set, else IMDS; `endpoint` (an
    /// explicit setting, for tests) overrides both as an IMDS-style endpoint.
    pub fn from_env(explicit: Option<String>, client_id: Option<String>) -> Self {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
        let endpoint = match (explicit, var(IDENTITY_ENDPOINT), var(IDENTITY_HEADER)) {
            (Some(url), _, _) => Endpoint::Imds(url),
            (None, Some(url), Some(header)) => Endpoint::AppService { url, header },
            _ => Endpoint::Imds(IMDS_ENDPOINT.into()),
        };
        Self::new(endpoint, client_id)
    }

    /// The endpoint's URL, for the allow-list.
    pub fn url(&self) -> &str {
        match &self.endpoint {
            Endpoint::Imds(url) | Endpoint::AppService { url, .. } => url,
        }
    }

    /// A secret the endpoint needs (App Service's header), to scrub.
    pub fn secret(&self) -> Option<&str> {
        match &self.endpoint {
            Endpoint::AppService { header, .. } => Some(header),
            Endpoint::Imds(_) => None,
        }
    }

    /// The request for a token for `resource` (the scope without `/.default`).
    pub fn request(&self, resource: &str) -> Request {
        let mut query = String::new();
        let (version, header) = match &self.endpoint {
            Endpoint::Imds(_) => ("2018-02-01", ("metadata".to_owned(), "true".to_owned())),
            Endpoint::AppService { header, .. } => (
                "2019-08-01",
                ("x-identity-header".to_owned(), header.clone()),
            ),
        };
        query.push_str(&format!("api-version={version}&resource="));
        mde_connector::request::form_encode(resource, &mut query);
        if let Some(client) = &self.client_id {
            query.push_str("&client_id=");
            mde_connector::request::form_encode(client, &mut query);
        }
        Request {
            method: Method::Get,
            url: format!("{}?{query}", self.url()),
            headers: vec![header, ("accept".into(), "application/json".into())],
            body: None,
        }
    }

    /// The held token, if it is fresh.
    pub fn held(&self) -> Option<String> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.as_ref()
            .filter(|(_, refresh_at)| Instant::now() < *refresh_at)
            .map(|(token, _)| token.clone())
    }

    /// Drops the held token (the API refused it).
    pub fn forget(&self, token: &str) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.as_ref().is_some_and(|(t, _)| t == token) {
            *held = None;
        }
    }

    /// Reads the endpoint's answer, keeps its token and returns it. The
    /// error says what went wrong, never the answer's token.
    pub fn accept(&self, answer: &Response) -> Result<String, String> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Seconds {
            Number(u64),
            Text(String),
        }
        #[derive(Deserialize)]
        struct Token {
            access_token: String,
            expires_in: Option<Seconds>,
        }
        if answer.status != 200 {
            let body = String::from_utf8_lossy(answer.body.as_bytes());
            let excerpt: String = body.chars().take(300).collect();
            return Err(format!(
                "the managed identity endpoint answered {}: {excerpt} (is a managed identity \
                 assigned to this resource{}?)",
                answer.status,
                match &self.client_id {
                    Some(id) => format!(" with client id {id}"),
                    None => String::new(),
                }
            ));
        }
        let token: Token = serde_json::from_slice(answer.body.as_bytes())
            .map_err(|_| "the managed identity endpoint's answer is not a token".to_owned())?;
        let lifetime = match token.expires_in {
            Some(Seconds::Number(n)) => n,
            Some(Seconds::Text(t)) => t.trim().parse().unwrap_or(0),
            None => 0,
        };
        let keep = Duration::from_secs(lifetime)
            .saturating_sub(REFRESH_MARGIN.min(Duration::from_secs(lifetime / 2)));
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        *held = Some((token.access_token.clone(), Instant::now() + keep));
        Ok(token.access_token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::Body;

    #[test]
    fn app_service_asks_with_its_header_and_hides_it() {
        let identity = ManagedIdentity::new(
            Endpoint::AppService {
                url: "http://127.0.0.1:41741/msi/token".into(),
                header: "identity-header-secret".into(),
            },
            None,
        );
        let request = identity.request("https://api.securitycenter.microsoft.com");
        assert_eq!(
            request.url,
            "http://127.0.0.1:41741/msi/token?api-version=2019-08-01&resource=https%3A%2F%2Fapi.securitycenter.microsoft.com"
        );
        assert_eq!(
            request.header("x-identity-header"),
            Some("identity-header-secret")
        );
        assert_eq!(identity.secret(), Some("identity-header-secret"));
        assert!(!format!("{identity:?}").contains("identity-header-secret"));
    }

    #[test]
    fn a_token_is_held_until_near_its_expiry_and_dropped_when_refused() {
        let identity = ManagedIdentity::new(Endpoint::Imds(IMDS_ENDPOINT.into()), None);
        let answer = |status, body: &str| Response {
            status,
            headers: Vec::new(),
            body: Body::Bytes(body.as_bytes().to_vec()),
        };
        let token = identity
            .accept(&answer(
                200,
                r#"{"access_token":"mi-token-1","expires_in":"3599"}"#,
            ))
            .unwrap();
        assert_eq!(identity.held().as_deref(), Some("mi-token-1"));
        identity.forget(&token);
        assert_eq!(identity.held(), None);
        // A lifetime too short to keep: used once, not held.
        identity
            .accept(&answer(
                200,
                r#"{"access_token":"mi-token-2","expires_in":0}"#,
            ))
            .unwrap();
        assert_eq!(identity.held(), None);
        let e = identity
            .accept(&answer(400, r#"{"error":"invalid_request"}"#))
            .unwrap_err();
        assert!(e.contains("answered 400"), "{e}");
        assert!(e.contains("is a managed identity assigned"), "{e}");
        let e = identity
            .accept(&answer(200, r#"{"token":"x"}"#))
            .unwrap_err();
        assert_eq!(e, "the managed identity endpoint's answer is not a token");
    }
}
