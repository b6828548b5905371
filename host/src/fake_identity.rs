//! The fake tenant's identity platform for client assertions: it checks an
//! assertion as Entra ID does (the signature against a registered
//! certificate found by `x5t`, `aud`, `iss`, `sub`, a lifetime of at most
//! 10 minutes, a `jti` never seen before) and issues a token only when all
//! hold; otherwise it answers AADSTS700027. Federated tokens it was told
//! to trust are accepted as they are. It also issues the fake tenant's
//! JWT-shaped tokens and answers as IMDS does (managed identity).

use crate::bindings::{Request, Response};
use crate::fake_tenant::{
    CLIENT_ID, FakeTenant, TENANT_ID, TOKEN_LIFETIME, json_response, parse_form,
};
use mde_connector::claims::base64url;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::time::{SystemTime, UNIX_EPOCH};

/// The test certificates the demo application has registered.
const REGISTERED: &[&[u8]] = &[
    include_bytes!("../fixtures/credentials/app.pem"),
    include_bytes!("../fixtures/credentials/canary.pem"),
];

/// Registered certificates and the assertions already used.
pub struct FakeIdentity {
    /// `x5t` → DER certificate.
    certificates: BTreeMap<String, Vec<u8>>,
    seen_jti: HashSet<String>,
    /// Federated tokens accepted as assertions (workload identity).
    pub federated_tokens: HashSet<String>,
    /// Every assertion received, in order (for the tests' eyes only).
    pub assertions: Vec<String>,
}

impl Default for FakeIdentity {
    fn default() -> Self {
        let mut identity = FakeIdentity {
            certificates: BTreeMap::new(),
            seen_jti: HashSet::new(),
            federated_tokens: HashSet::new(),
            assertions: Vec::new(),
        };
        for pem in REGISTERED {
            identity.register(pem);
        }
        identity
    }
}

/// AADSTS700027, as Entra ID words it.
fn refused(why: &str) -> String {
    format!("AADSTS700027: Client assertion failed signature validation. {why}")
}

impl FakeIdentity {
    /// Registers the first certificate of `pem` (as uploaded to an app registration).
    pub fn register(&mut self, pem: &[u8]) {
        if let Some(Ok(der)) = CertificateDer::pem_slice_iter(pem).next() {
            let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &der);
            self.certificates.insert(
                mde_connector::claims::base64url_encode(digest.as_ref()),
                der.as_ref().to_vec(),
            );
        }
    }

    /// Checks `assertion` for `client_id` posted to `token_url`; the error is
    /// the identity platform's description.
    pub fn verify(
        &mut self,
        assertion: &str,
        client_id: &str,
        token_url: &str,
    ) -> Result<(), String> {
        self.assertions.push(assertion.to_owned());
        if self.federated_tokens.contains(assertion) {
            return Ok(());
        }
        #[derive(Deserialize)]
        struct Header {
            alg: String,
            x5t: Option<String>,
        }
        #[derive(Deserialize)]
        struct Claims {
            aud: String,
            iss: String,
            sub: String,
            jti: String,
            nbf: u64,
            exp: u64,
        }
        let parts: Vec<&str> = assertion.split('.').collect();
        let [header, claims, signature] = parts[..] else {
            return Err(refused("The assertion is not a JWT."));
        };
        let decode = |part: &str| base64url(part).ok_or_else(|| refused("Not base64url."));
        let header: Header = serde_json::from_slice(&decode(header)?)
            .map_err(|_| refused("The header is not JSON."))?;
        if header.alg != "RS256" {
            return Err(refused("Only RS256 is accepted here."));
        }
        let x5t = header.x5t.ok_or_else(|| refused("No x5t."))?;
        let der = self.certificates.get(&x5t).ok_or_else(|| {
            refused(&format!(
                "Key was not found. The certificate with thumbprint {x5t} is not registered."
            ))
        })?;
        let certificate = CertificateDer::from(der.as_slice());
        let parsed = webpki::EndEntityCert::try_from(&certificate)
            .map_err(|_| refused("The registered certificate cannot be parsed."))?;
        let signed = &assertion[..header_and_claims_len(assertion)];
        parsed
            .verify_signature(
                webpki::ring::RSA_PKCS1_2048_8192_SHA256,
                signed.as_bytes(),
                &decode(signature)?,
            )
            .map_err(|_| refused("The signature does not match the registered certificate."))?;
        let claims: Claims = serde_json::from_slice(&decode(claims)?)
            .map_err(|_| refused("The claims are not the expected JSON."))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let checks = [
            (claims.aud == token_url, "aud is not the token endpoint."),
            (claims.iss == client_id, "iss is not the client id."),
            (claims.sub == client_id, "sub is not the client id."),
            (
                claims.exp > claims.nbf && claims.exp - claims.nbf <= 600,
                "The lifetime exceeds 10 minutes.",
            ),
            (
                claims.nbf <= now + 300 && now < claims.exp,
                "The assertion is not valid now.",
            ),
        ];
        if let Some((_, why)) = checks.iter().find(|(ok, _)| !ok) {
            return Err(refused(why));
        }
        if !self.seen_jti.insert(claims.jti) {
            return Err(refused("The jti was used before (a replay)."));
        }
        Ok(())
    }
}

/// The length of `header.claims`, the signed part of a JWT.
fn header_and_claims_len(jwt: &str) -> usize {
    jwt.rfind('.').unwrap_or(0)
}

impl FakeTenant {
    /// IMDS: a token for the `resource` of the query, to a request that
    /// says `Metadata: true` (as IMDS requires, against SSRF).
    pub(crate) fn managed_identity(&mut self, request: &Request) -> Response {
        if request.header("metadata") != Some("true") {
            return json_response(
                400,
                &json!({"error": "invalid_request", "error_description": "Required metadata header not specified"}),
            );
        }
        let query = request.url.split_once('?').map_or("", |(_, q)| q);
        let form = parse_form(query.as_bytes());
        let Some(resource) = form.get("resource") else {
            return json_response(
                400,
                &json!({"error": "invalid_request", "error_description": "Required query variable 'resource' is missing"}),
            );
        };
        self.tokens_issued += 1;
        let token = self.jwt(resource);
        self.tokens
            .insert(token.clone(), self.clock.now() + TOKEN_LIFETIME);
        json_response(
            200,
            &json!({
                "access_token": token,
                "expires_in": TOKEN_LIFETIME.as_secs().to_string(),
                "resource": resource,
                "token_type": "Bearer",
            }),
        )
    }

    /// A JWT-shaped token (unsigned: the fake checks tokens by value) with
    /// the claims `check` reads; its last part names it
    /// (`fake-access-token-N`), as [`token_name`] shows it.
    pub(crate) fn jwt(&self, scope: &str) -> String {
        use mde_connector::claims::base64url_encode;
        let expires = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            + TOKEN_LIFETIME.as_secs();
        let claims = json!({
            "aud": scope.strip_suffix("/.default").unwrap_or(scope),
            "tid": TENANT_ID,
            "appid": CLIENT_ID,
            "roles": self.roles,
            "exp": expires,
        });
        format!(
            "{}.{}.fake-access-token-{}",
            base64url_encode(br#"{"alg":"none","typ":"JWT"}"#),
            base64url_encode(claims.to_string().as_bytes()),
            self.tokens_issued
        )
    }
}

/// A fake token (or an `Authorization` value holding one) by its name:
/// `Bearer eyJ...fake-access-token-1` is `Bearer fake-access-token-1`.
pub fn token_name(token: &str) -> String {
    let (scheme, value) = token.split_once(' ').map_or(("", token), |(s, v)| (s, v));
    let name = value.rsplit('.').next().unwrap_or(value);
    if scheme.is_empty() {
        name.to_owned()
    } else {
        format!("{scheme} {name}")
    }
}
